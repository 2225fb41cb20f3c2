"""The lexical index of one store, kept up to date as documents change and saved for the next process: beside an
on-disk index, or in a per-user cache folder for a Chroma server (`server_folder`)."""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

from assistant.lexical import LexicalIndex
from assistant.lexical_files import FOLDER, load, save
from index.chroma_client import StoreSettings, collection_id
from index.errors import StoreError
from index.models import IndexState
from index.records import StoredChunk
from index.store import ChunkStore

MAP_FROM_ROWS = 20_000  # a segment this large, just built in memory, is let go once saved and mapped from its files
CHUNKS_PER_READ = 2000  # the chunks of the documents read together (Chroma's page)
OFF = "off"  # the lexical_cache setting that keeps a server's lexical index in memory only


def user_cache_folder() -> Path | None:
    """Where server mode keeps saved lexical indexes by default: ~/.cache/quote-assistant/lexical (XDG_CACHE_HOME
    when set); None when there is no home folder."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    try:
        root = Path(base) if Path(base).is_absolute() else Path.home() / ".cache"
    except RuntimeError:  # no home folder
        return None
    return root / "quote-assistant" / "lexical"


def server_folder(root: Path, settings: StoreSettings, collection: str) -> Path:
    """The folder of one server's collection in `root`: a readable name, and a hash of the server, the collection's
    name and its id (`collection`), so that a collection deleted and created again never finds the old index."""
    url = urlsplit(settings.server_url)
    key = "\n".join([url.scheme, url.hostname or "", str(url.port), settings.collection, collection])
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{url.hostname}-{url.port}-{settings.collection}")[:80]
    return root / f"{readable}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


class LexicalCache:
    """Keeps the LexicalIndex of one store up to date (and saved for the next process).

    `cache`: where a server's lexical index is saved: a folder, "" for `user_cache_folder()`, or "off"."""

    def __init__(self, store: ChunkStore, persist: bool = True, cache: str = ""):
        self._store = store
        self._lock = threading.Lock()
        self._index: LexicalIndex | None = None
        self._generation: int | None = None
        settings = store.settings
        self.folder: Path | None = None  # a server's is named after its collection's id, read when first needed
        self._cache_root: Path | None = None
        if not settings.host:
            self.folder = Path(settings.path).expanduser() / FOLDER / settings.collection
        elif cache.strip().lower() != OFF:
            self._cache_root = Path(cache).expanduser() if cache.strip() else user_cache_folder()
        self._persist = persist and (self.folder is not None or self._cache_root is not None)
        self.incomplete: dict[str, str] = {}  # document id -> sha256 of a version read back with chunks missing

    def current(self, state: IndexState) -> LexicalIndex:
        """The index of the documents visible in `state`: no store call when the generation is the one already
        indexed, else only the chunks of documents added or changed since are read."""
        with self._lock:
            if self._index is not None and state.generation == self._generation:
                return self._index
            previous = self._index
            if previous is None:
                folder = self._saved_folder()
                previous = (load(folder) if folder is not None else None) or LexicalIndex()
            index = previous.updated(state.versions, lambda ids: self._fetch(ids, state))
            for document in state.documents.values():  # those just read back: do all their chunks exist?
                if previous.documents.get(document.id) != document.sha256:
                    read = len(index.places[document.id][1]) if document.id in index.places else 0
                    if read != document.chunks:
                        self.incomplete[document.id] = document.sha256
            if index is not previous:
                folder = self._saved_folder()
                if folder is not None:
                    try:
                        save(index, folder)
                        index = _mapped(index, previous, folder)
                    except OSError:
                        pass  # a read-only index (or cache folder) still answers; the next process rebuilds
            self._index, self._generation = index, state.generation
            return index

    def _saved_folder(self) -> Path | None:
        """Where the index is saved (None: nowhere); for a server, found once (one Chroma call at most, none when
        the store has its collection open already)."""
        if not self._persist:
            return None
        if self.folder is None and self._cache_root is not None:
            try:
                self.folder = server_folder(self._cache_root, self._store.settings, collection_id(self._store.settings))
            except StoreError:
                return None  # kept in memory this time; tried again at the next change
        return self.folder

    def _fetch(self, document_ids: set[str], state: IndexState) -> Iterable[StoredChunk]:
        """The chunks of these documents, read a group of documents at a time (about a page of chunks each):
        paging through the whole collection instead costs more at every page (docs/benchmarks.md, Scale)."""
        groups: list[list[str]] = [[]]
        size = 0
        for doc_id in sorted(document_ids):
            document = state.documents.get(doc_id)
            size += document.chunks if document is not None else 0
            if groups[-1] and size > CHUNKS_PER_READ:
                groups.append([])
                size = document.chunks if document is not None else 0
            groups[-1].append(doc_id)
        return [stored for group in groups if group for stored in self._store.iter_chunks(group, state)]


def _mapped(index: LexicalIndex, previous: LexicalIndex, folder: Path) -> LexicalIndex:
    """`index`, as loaded back from `folder` (texts and postings mapped, not held) when it has a large segment that
    was built in memory; else, or when another process saved something else there meanwhile, `index` itself."""
    before = {segment.name for segment in previous.segments}
    if not any(len(s.rows) >= MAP_FROM_ROWS for s in index.segments if s.name not in before):
        return index
    loaded = load(folder)
    return loaded if loaded is not None and loaded.documents == index.documents else index
