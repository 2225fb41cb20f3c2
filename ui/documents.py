"""Document work behind the sidebar: index uploads, remove documents, index the samples on first run."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from assistant.wording import plural
from index.indexer import Progress
from index.models import FileOutcome, FileStatus, IndexedDocument, IndexReport
from ui.uploads import SavedUpload, UploadRejected, safe_filename, save_upload


@dataclass(frozen=True)
class UploadResult:
    """What happened to one uploaded file."""

    name: str
    status: FileStatus
    reason: str = ""
    chunks: int = 0

    @property
    def ok(self) -> bool:
        return self.status != FileStatus.FAILED

    def message(self) -> str:
        if not self.ok:
            return f"{self.name}: {self.reason}"
        if self.status == FileStatus.UNCHANGED:
            return f"{self.name}: already indexed, unchanged"
        return f"{self.name}: {self.status} ({plural(self.chunks, 'passage')})"


def uploads_folder(index_path: str, collection: str, override: str = "") -> Path:
    """Where uploads are kept: `<index path>-uploads/<collection>/` unless a folder is given."""
    base = Path(override) if override else Path(f"{index_path.rstrip('/')}-uploads")
    return base.expanduser() / collection


def index_uploads(
    assistant, uploads: Iterable[tuple[str, bytes]], folder: Path, progress: Progress | None = None
) -> list[UploadResult]:
    """Save each (name, data) safely into `folder` and index the saved files; failed files are not kept.

    Returns one result per upload, in order.
    """
    slots: list[UploadResult | SavedUpload] = []
    names: set[str] = set()
    for name, data in uploads:
        safe = safe_filename(name)
        if safe in names:
            slots.append(UploadResult(name, FileStatus.FAILED, "another file in this upload has the same name"))
            continue
        names.add(safe)
        try:
            slots.append(save_upload(folder, name, data, assistant.settings.max_file_bytes))
        except (UploadRejected, OSError) as error:
            slots.append(UploadResult(name, FileStatus.FAILED, _reason(error)))
    saved = [slot for slot in slots if isinstance(slot, SavedUpload)]
    if not saved:
        return [slot for slot in slots if isinstance(slot, UploadResult)]
    try:
        report = assistant.index_paths([upload.path for upload in saved], progress=progress)
    except BaseException:
        for upload in saved:
            upload.discard()
        raise
    outcomes = {outcome.source: outcome for outcome in report.outcomes}
    return [slot if isinstance(slot, UploadResult) else _settle(slot, outcomes.get(str(slot.path))) for slot in slots]


def _settle(upload: SavedUpload, outcome: FileOutcome | None) -> UploadResult:
    """Keep an indexed upload; delete a failed one (restoring the file it replaced)."""
    if outcome is None or outcome.status == FileStatus.FAILED:
        upload.discard()
        reason = outcome.reason if outcome is not None else "the file was not indexed"
        return UploadResult(upload.path.name, FileStatus.FAILED, reason)
    upload.keep()
    return UploadResult(upload.path.name, outcome.status, chunks=outcome.chunks_written)


def remove_document(assistant, document_id: str, folder: Path) -> IndexedDocument:
    """Take a document out of the index; an uploaded one also leaves the uploads folder."""
    removed = assistant.remove(document_id)
    source = Path(removed.source)
    try:
        inside = source.parent == Path(folder).expanduser().resolve()
    except OSError:
        inside = False
    if inside and source.is_file() and not source.is_symlink():
        source.unlink(missing_ok=True)
    return removed


def seed_if_empty(assistant, seeds: Path, progress: Progress | None = None) -> IndexReport | None:
    """Index the sample folder when nothing is indexed yet; None when there was nothing to do."""
    if assistant.sources() or not seeds.is_dir():
        return None
    return assistant.index_paths([seeds], progress=progress)


def _reason(error: BaseException) -> str:
    if isinstance(error, OSError):
        return f"could not save the file ({error.strerror or error})"
    return str(error)
