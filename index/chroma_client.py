"""One Chroma client per index location in this process: opened lazily, reopened when another process wrote to
the folder, and every failure turned into a StoreError a person can act on."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from index.chroma_http import open_server_client
from index.errors import StoreError, StoreUnavailable
from index.writelock import FolderLock, read_stamp, renew_stamp

if TYPE_CHECKING:
    import numpy as np

T = TypeVar("T")
_RETRY_PAUSE = 0.5


@dataclass(frozen=True)
class StoreSettings:
    """An on-disk Chroma folder, or a Chroma server when `host` is set (a name, or an http(s):// URL)."""

    path: str = ".chroma"
    host: str = ""
    port: int = 8000
    collection: str = "documents"
    token: str = field(default="", repr=False)  # sent with every request to the server; never shown
    token_header: str = "Authorization"  # Authorization carries "Bearer TOKEN", any other header the bare token
    ssl: bool = False  # https (also when host is an https:// URL)
    ca_file: str = ""  # a CA bundle that signed the server's certificate (default: the system's authorities)

    def __post_init__(self) -> None:
        if not self.token_header or any(c in self.token_header for c in " :\t\r\n"):
            raise ValueError(f"the token header must be a header name, got {self.token_header!r}")
        if any(c in self.token for c in "\r\n"):
            raise ValueError("the Chroma token must be one line")

    @property
    def server_url(self) -> str:
        """The server's address as scheme://name:port (no path, no token)."""
        from urllib.parse import urlsplit

        parts = urlsplit(self.host if "://" in self.host else f"//{self.host}")
        scheme = "https" if self.ssl or parts.scheme == "https" else "http"
        return f"{scheme}://{parts.hostname or self.host}:{parts.port or self.port}"

    @property
    def location(self) -> str:
        where = self.server_url if self.host else self.path
        return f"{where} (collection {self.collection!r})"


class CollectionMissing(StoreError):
    """Internal: a collection the caller asked for does not exist."""


class Collections:
    """What a call sees: the collections of the client that is open now."""

    def __init__(self, connection: Connection):
        self._connection = connection

    def __call__(self, name: str, create: dict[str, Any] | None = None) -> Any:
        """The collection `name`; created with the `create` options when given and missing."""
        return self._connection._collection(name, create)

    def metadata(self, name: str) -> dict[str, Any]:
        """The collection's metadata, read now (not from the cached collection object)."""
        client = self._connection._client
        try:
            return dict(client.get_collection(name, embedding_function=None).metadata or {})
        except Exception as error:
            if _missing(error):
                raise CollectionMissing(name) from None
            raise

    def drop(self, name: str) -> None:
        """Delete the collection `name` and everything in it (nothing when there is none)."""
        self._connection._collections.pop(name, None)
        try:
            self._connection._client.delete_collection(name)
        except Exception as error:
            if not _missing(error):
                raise

    @property
    def max_batch(self) -> int:
        return int(self._connection._client.get_max_batch_size())


class Connection:
    """Chroma for one location: `run(fn)` calls `fn(collections)` with a current client."""

    def __init__(self, settings: StoreSettings):
        self.settings = settings
        self.location = settings.location
        self.server = bool(settings.host)
        self.folder = None if self.server else Path(settings.path).expanduser().resolve()
        self.lock: FolderLock | None = None
        self._gate = _SharedExclusive()
        self._client: Any = None
        self._collections: dict[str, Any] = {}
        self._stamp = ""  # the folder's stamp when the open client was opened or last wrote
        self._stamp_lock = threading.Lock()
        if self.folder is not None:
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise StoreError(f"cannot open the index at {self.location}: {error.strerror or error}") from None
            self.lock = FolderLock(self.folder)

    # --- calls ---------------------------------------------------------------------------------------

    def run(self, fn: Callable[[Collections], T], what: str, *, writes: bool = False) -> T:
        """Call `fn` with the open collections; `what` names the work for error messages."""
        retried = False
        while True:
            self._open_current()
            try:
                with self._gate.shared():
                    if self._client is None:  # reopened by another thread meanwhile
                        continue
                    result = fn(Collections(self))
                if writes:
                    self._wrote()
                return result
            except CollectionMissing:
                raise
            except StoreError:
                raise
            except Exception as error:
                unreachable = _unreachable(error)
                if not retried and (unreachable or (not self.server and _internal(error))):
                    retried = True  # a server that blinked, or a client left stale by another process
                    if unreachable:
                        time.sleep(_RETRY_PAUSE)
                    self.reopen()
                    continue
                if unreachable:
                    raise StoreUnavailable(self.unreachable_message(error)) from error
                raise StoreError(f"{what} at {self.location} failed: {_describe(error)}") from error

    def unreachable_message(self, error: BaseException) -> str:
        s = self.settings
        if s.ssl or s.token or s.server_url.startswith("https:"):  # behind a proxy: `chroma run` is not the fix
            where = f"cannot reach the Chroma server at {s.server_url} ({_describe(error)})"
            return f"{where}. Are it and the proxy in front of it running?"
        return (
            f"cannot reach the Chroma server at {s.server_url} ({_describe(error)}). Is it running? "
            f"Start it with `chroma run --path DATA_FOLDER --host {s.host} --port {s.port}`"
        )

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the folder's writer lock (on-disk index) for the duration; a server orders writes itself."""
        if self.lock is None:
            yield
            return
        if self.lock.acquire():  # another process may have written since the client was opened
            self.reopen()
        try:
            yield
        finally:
            self.lock.release()

    @property
    def sole_writer(self) -> bool:
        """True while this process holds the folder's writer lock."""
        return self.lock is not None and self.lock.held

    def reopen(self) -> None:
        """Close the client; the next call opens a fresh one."""
        with self._gate.exclusive():
            self._close()

    # --- internals -----------------------------------------------------------------------------------

    def _wrote(self) -> None:
        if self.folder is not None:
            with self._stamp_lock:
                self._stamp = renew_stamp(self.folder)

    def _open_current(self) -> None:
        """Open the client, or reopen it when another process wrote to the folder since it was opened."""
        if self._client is not None and (self.folder is None or self._current_stamp() == self._stamp):
            return
        with self._gate.exclusive():
            stamp = self._current_stamp()
            if self._client is not None and (self.folder is None or stamp == self._stamp):
                return
            self._close()
            self._client = self._connect()
            self._stamp = stamp

    def _current_stamp(self) -> str:
        if self.folder is None:
            return ""
        with self._stamp_lock:
            return read_stamp(self.folder)

    def _connect(self) -> Any:
        import chromadb
        from chromadb.config import Settings

        chroma_settings = Settings(anonymized_telemetry=False)
        try:
            if self.server:
                return open_server_client(self.settings)
            return chromadb.PersistentClient(path=str(self.folder), settings=chroma_settings)
        except StoreError:
            raise
        except Exception as error:
            if self.server:
                raise StoreUnavailable(self.unreachable_message(error)) from error
            raise StoreError(f"cannot open the index at {self.location}: {_describe(error)}") from error

    def _close(self) -> None:
        client, self._client = self._client, None
        self._collections = {}
        if client is not None and not self.server:
            try:
                client.close()
            except Exception:  # closing a broken client must not hide the real problem
                pass

    def _collection(self, name: str, create: dict[str, Any] | None) -> Any:
        found = self._collections.get(name)
        if found is not None:
            return found
        try:
            if create is not None:
                found = self._client.get_or_create_collection(name, embedding_function=None, **create)
            else:
                found = self._client.get_collection(name, embedding_function=None)
        except Exception as error:
            if _missing(error):
                raise CollectionMissing(name) from None
            raise
        self._collections[name] = found
        return found


_connections: dict[tuple[Any, ...], Connection] = {}
_connections_lock = threading.Lock()


def connection_for(settings: StoreSettings) -> Connection:
    """The shared connection of this process to the settings' folder or server."""
    key: tuple[Any, ...]
    if settings.host:
        s = settings
        key = ("server", s.server_url, s.ssl, s.ca_file, s.token_header, s.token)
    else:
        key = ("folder", str(Path(settings.path).expanduser().resolve()), 0)
    with _connections_lock:
        connection = _connections.get(key)
        if connection is None:
            connection = _connections[key] = Connection(settings)
        return connection


def collection_id(settings: StoreSettings) -> str:
    """The id Chroma gave the collection `settings.collection` when it was made (one deleted and made again under
    the same name has a new one); no round trip when this process has the collection open already."""
    return str(connection_for(settings).run(lambda c: c(settings.collection).id, "reading the index"))


class _SharedExclusive:
    """Many calls at once, or one reopening of the client (which waits for them; new calls wait for it)."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._shared = 0
        self._exclusive = False
        self._waiting = 0

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._condition:
            while self._exclusive or self._waiting:
                self._condition.wait()
            self._shared += 1
        try:
            yield
        finally:
            with self._condition:
                self._shared -= 1
                self._condition.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._condition:
            self._waiting += 1
            while self._exclusive or self._shared:
                self._condition.wait()
            self._waiting -= 1
            self._exclusive = True
        try:
            yield
        finally:
            with self._condition:
                self._exclusive = False
                self._condition.notify_all()


def _missing(error: BaseException) -> bool:
    from chromadb.errors import NotFoundError

    return isinstance(error, NotFoundError) or (
        type(error).__name__ in ("InvalidCollectionException", "ValueError") and "does not exist" in str(error)
    )


def _unreachable(error: BaseException) -> bool:
    import httpx

    if isinstance(error, (httpx.TransportError, ConnectionError)):
        return True
    return isinstance(error, ValueError) and "Could not connect to a Chroma server" in str(error)


def _internal(error: BaseException) -> bool:
    from chromadb.errors import InternalError

    return isinstance(error, InternalError)


def _describe(error: BaseException) -> str:
    message = str(error).strip() or type(error).__name__
    return message if len(message) <= 300 else message[:297] + "..."


def close_connections() -> None:
    """Close every client this process opened (tests, or a long-lived process letting go of its indexes)."""
    with _connections_lock:
        connections = list(_connections.values())
        _connections.clear()
    for connection in connections:
        connection.reopen()


# Calls on one collection, with their arguments bound now (not when the call runs).


def collection_call(name: str, method: str, **arguments: Any) -> Callable[[Collections], Any]:
    """A call of `method` on collection `name` with `arguments` (bound now, not when the call runs)."""

    def call(collections: Collections) -> Any:
        return getattr(collections(name), method)(**arguments)

    return call


def nearest_query(
    name: str, vector: np.ndarray, n: int, where: dict[str, Any] | None = None
) -> Callable[[Collections], dict[str, Any]]:
    def query(collections: Collections) -> dict[str, Any]:
        return collections(name).query(
            query_embeddings=[vector.tolist()],
            n_results=n,
            where=where,
            include=["documents", "metadatas", "distances"],
        )

    return query


def page_query(
    name: str, where: dict[str, Any] | None, offset: int, limit: int
) -> Callable[[Collections], dict[str, Any]]:
    def get(collections: Collections) -> dict[str, Any]:
        return collections(name).get(where=where, include=["documents", "metadatas"], limit=limit, offset=offset)

    return get


def vectors_query(name: str, ids: list[str]) -> Callable[[Collections], dict[str, Any]]:
    def get(collections: Collections) -> dict[str, Any]:
        return collections(name).get(ids=ids, include=["embeddings"])

    return get
