"""Saving uploaded files: safe names, a size limit, and a way back when indexing the new file fails."""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from index.formats import SUPPORTED_EXTENSIONS, human_size, unsupported_type_reason

MAX_NAME_LENGTH = 120
_UNSAFE = re.compile(r'[<>:"|?*\x00-\x1f\x7f]')
_RESERVED = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))})


class UploadRejected(Exception):
    """An upload that is not saved; the message is the reason, for a person."""


def safe_filename(name: str, max_length: int = MAX_NAME_LENGTH) -> str:
    """A plain file name from an uploaded name: no folders, no `..`, no control characters; extension kept."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _UNSAFE.sub("_", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem.strip(" ."):
        stem, extension = name, ""
    extension = re.sub(r"[^A-Za-z0-9]", "", extension)[:16]
    stem = re.sub(r"\.{2,}", ".", stem).strip(" .")
    if stem.lower() in _RESERVED or stem.split(".")[0].lower() in _RESERVED:
        stem = f"_{stem}"
    suffix = f".{extension}" if extension else ""
    stem = stem[: max(1, max_length - len(suffix))].rstrip(" .") or "upload"
    return stem + suffix


def check_upload(name: str, size: int, max_bytes: int) -> str:
    """The safe name for an upload, or UploadRejected with the same reasons as `assistant index`."""
    safe = safe_filename(name)
    suffix = Path(safe).suffix.lower()
    if suffix not in SUPPORTED_EXTENSIONS:
        raise UploadRejected(unsupported_type_reason(suffix))
    if size > max_bytes:
        raise UploadRejected(f"file is {human_size(size)}, over the {human_size(max_bytes)} limit")
    if size == 0:
        raise UploadRejected("file is empty")
    return safe


@dataclass
class SavedUpload:
    """An upload written into its folder; `backup` holds the file it replaced until the outcome is known."""

    name: str
    path: Path
    backup: Path | None = None

    def keep(self) -> None:
        """Indexing worked: drop the replaced file."""
        if self.backup is not None:
            self.backup.unlink(missing_ok=True)
            self.backup = None

    def discard(self) -> None:
        """Indexing failed: delete the upload and put back the file it replaced."""
        self.path.unlink(missing_ok=True)
        if self.backup is not None:
            os.replace(self.backup, self.path)
            self.backup = None


def save_upload(folder: Path, name: str, data: bytes, max_bytes: int) -> SavedUpload:
    """Write `data` as `folder/<safe name>`; never outside `folder`, never through a link."""
    safe = check_upload(name, len(data), max_bytes)
    folder = Path(folder).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    folder = folder.resolve()
    target = folder / safe
    if target.parent != folder:  # cannot happen with a safe name; checked anyway
        raise UploadRejected("the file name is not allowed")
    if target.is_dir() and not target.is_symlink():
        raise UploadRejected("a folder with this name is in the way")
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".upload-", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        backup = None
        if target.is_symlink():
            target.unlink()
        elif target.exists():
            backup = folder / f".{safe}.previous"
            os.replace(target, backup)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return SavedUpload(name, target, backup)
