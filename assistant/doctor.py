"""`assistant doctor`: what is available and configured, one line each (or one JSON object), and whether questions
can be answered: the store opens and the embedding model loads. OCR and a chat model are optional. Secrets (the
Chroma token, the chat API key) are said to be set or not, never shown."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from assistant.settings import Settings
from assistant.wording import plural

if TYPE_CHECKING:
    from index.embedding import Embedder
    from index.models import IndexState

OK = "ok"
MISSING = "missing"
NOT_CONFIGURED = "not configured"
NOT_REACHABLE = "not reachable"
FAILED = "failed"
MISMATCH = "mismatch"
EMPTY = "empty"
NOT_CHECKED = "not checked"
CHAT_TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True)
class Check:
    """One item: its status, a line for a person, the facts behind it (for --json), and whether answering
    questions needs it to be ok."""

    name: str
    status: str
    detail: str
    facts: dict[str, Any] = field(default_factory=dict)
    needed: bool = False

    @property
    def fails(self) -> bool:
        return self.needed and self.status not in (OK, EMPTY)

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "detail": self.detail, "needed": self.needed, **self.facts}


@dataclass(frozen=True)
class Diagnosis:
    checks: tuple[Check, ...]

    @property
    def ready(self) -> bool:
        """True when questions can be answered: nothing answering needs fails."""
        return not any(check.fails for check in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {"ready": self.ready, **{key(check.name): check.to_dict() for check in self.checks}}

    def lines(self) -> list[str]:
        width = max(len(check.status) for check in self.checks)
        rows = [f"{check.name + ':':17} {check.status:{width}}  {check.detail}" for check in self.checks]
        if self.ready:
            verdict = "ready: questions can be answered (the store opens and the embedding model loads)"
        else:
            failing = ", ".join(check.name for check in self.checks if check.fails)
            verdict = f"not ready: questions cannot be answered until this is fixed: {failing}"
        return [*rows, verdict]


def key(name: str) -> str:
    """A check's key in the JSON object: "chat model" -> "chat_model"."""
    return name.lower().replace(" ", "_")


def run_doctor(settings: Settings, *, as_json: bool = False, embedder: Embedder | None = None) -> int:
    """Print the diagnosis; 0 when questions can be answered, 1 otherwise. `embedder` replaces the configured
    embedding model (as `main`'s does)."""
    diagnosis = diagnose(settings, embedder)
    if as_json:
        text = json.dumps(diagnosis.to_dict(), ensure_ascii=False, indent=2)
    else:
        text = "\n".join(diagnosis.lines())
    print(redact(text, settings))
    return 0 if diagnosis.ready else 1


def diagnose(settings: Settings, embedder: Embedder | None = None) -> Diagnosis:
    from index.embedding import Embedder

    chosen = embedder or Embedder(settings.embedder_settings())
    store, state = check_store(settings)
    return Diagnosis(
        (
            store,
            check_index(state, chosen.model_id, store_ok=store.status == OK),
            check_embedding(settings, chosen, configured=embedder is None),
            check_chat_model(settings),
            check_ocr(settings),
        )
    )


def redact(text: str, settings: Settings) -> str:
    """`text` with the secrets of `settings` blotted out, should any error message ever quote one."""
    for secret in (settings.chroma_token, settings.chat_api_key):
        if len(secret) >= 4:
            text = text.replace(secret, "[hidden]")
    return text


# --- the store and the index ----------------------------------------------------------------------------


def check_store(settings: Settings) -> tuple[Check, IndexState | None]:
    """Whether the folder or server opens (nothing is created), and the index's state when its collection
    exists."""
    from index.chroma_client import CollectionMissing, connection_for
    from index.errors import StoreError
    from index.store import ChunkStore

    store = settings.store_settings()
    facts: dict[str, Any] = {"collection": store.collection}
    if store.host:
        facts.update(
            kind="server",
            location=store.server_url,
            tls=store.server_url.startswith("https:"),
            ca_file=store.ca_file or None,
            token="set" if store.token else "not set",
            token_header=store.token_header,
        )
        tls = "on" if facts["tls"] else "off"
        ca = f"CA file {store.ca_file}" if store.ca_file else "CA: the system's authorities"
        token = f"token: set (header {store.token_header})" if store.token else "token: not set"
        where = f"server {store.server_url} (collection {store.collection!r}); TLS {tls}, {ca}, {token}"
    else:
        folder = Path(store.path).expanduser().resolve()
        facts.update(kind="folder", location=str(folder))
        where = f"folder {folder} (collection {store.collection!r})"
        if not folder.exists():
            detail = f"{where}: does not exist yet (`assistant index PATH` creates it)"
            return Check("store", OK, detail, {**facts, "opens": True, "exists": False}, needed=True), None
    try:
        connection_for(store).run(lambda c: c.metadata(store.collection), "checking the index")
    except CollectionMissing:
        detail = f"{where}: opens; nothing is indexed in it yet"
        return Check("store", OK, detail, {**facts, "opens": True, "exists": False}, needed=True), None
    except StoreError as error:
        status = NOT_REACHABLE if store.host else FAILED
        return Check("store", status, f"{where}: {error}", {**facts, "opens": False}, needed=True), None
    try:
        state = ChunkStore(store).state()
    except StoreError as error:
        return Check("store", FAILED, f"{where}: {error}", {**facts, "opens": False}, needed=True), None
    opened = "reachable" if store.host else "opens"
    return Check("store", OK, f"{where}: {opened}", {**facts, "opens": True, "exists": True}, needed=True), state


def check_index(state: IndexState | None, model: str, *, store_ok: bool) -> Check:
    """The index's format, size and embedding model, against the current format and the configured model."""
    from index.migrations import CURRENT, is_outdated

    facts: dict[str, Any] = {"format_current": CURRENT, "configured_model": model}
    if not store_ok:
        return Check("index", NOT_CHECKED, "the store does not open", facts, needed=True)
    documents = list(state.documents.values()) if state is not None else []
    if not documents:
        facts.update(documents=0, chunks=0, formats=[], outdated=0, model=None, model_matches=None)
        return Check("index", EMPTY, "nothing indexed yet: run `assistant index PATH`", facts, needed=True)
    formats = sorted({document.index_format for document in documents})
    outdated = sum(is_outdated(document) for document in documents)
    chunks = sum(document.chunks for document in documents)
    profile = state.profile if state is not None else None
    recorded = profile.model if profile is not None else None
    matches = recorded is None or recorded == model
    facts.update(
        documents=len(documents),
        chunks=chunks,
        formats=formats,
        outdated=outdated,
        model=recorded,
        dimension=profile.dimension if profile is not None and profile.dimension else None,
        model_matches=matches,
    )
    shown = ", ".join(map(str, formats))
    parts = [
        f"format {shown} (current {CURRENT})",
        f"{plural(len(documents), 'document')}, {plural(chunks, 'chunk')}",
    ]
    if outdated:
        parts.append(f"{plural(outdated, 'document')} in an older format: the next `assistant index` re-reads them")
    if recorded is None:
        parts.append(f"embedding model not recorded (configured: {model})")
    elif matches:
        parts.append(f"embedding model {recorded}, as configured")
    else:
        parts.append(
            f"embedding model {recorded}, but {model} is configured: questions cannot be compared with its vectors "
            f"(use --embedding-model {recorded}, or `assistant index --rebuild PATH`)"
        )
    return Check("index", OK if matches else MISMATCH, "; ".join(parts), facts, needed=True)


# --- the embedding model --------------------------------------------------------------------------------


def check_embedding(settings: Settings, embedder: Embedder, *, configured: bool) -> Check:
    """Load the model now (a few seconds) and say from where; a model that is not in a local folder is loaded with
    the Hugging Face hub switched off, so that it loads only when it would load offline."""
    from index.embedding import model_location

    name = embedder.model_id
    location = model_location(settings.embedding_model) if configured else ""
    local = bool(location) and Path(location).is_dir()
    facts: dict[str, Any] = {"model": name, "location": location or None}
    started = time.perf_counter()
    try:
        with _hub_offline():
            embedder.warm_up()
            dimension = int(embedder.dimension)
    except Exception as error:  # any failure to load is this check's answer, not a crash
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        detail = f"{name} does not load offline: {message[:300]}"
        return Check("embedding model", FAILED, detail, {**facts, "loads": False}, needed=True)
    seconds = round(time.perf_counter() - started, 1)
    loaded = {attribute: str(getattr(embedder, attribute, "")) for attribute in ("backend", "device", "precision")}
    facts.update(loads=True, seconds=seconds, dimension=dimension, **loaded)
    source = f"from {location}" if local else "from the local cache" if configured else "(given by the program)"
    backend = f"{loaded['backend']} encoder" if loaded["backend"] else ""
    about = ", ".join(
        part for part in (backend, loaded["device"], loaded["precision"], f"{dimension} dimensions") if part
    )
    return Check("embedding model", OK, f"{name} loads offline {source} in {seconds} s ({about})", facts, True)


@contextmanager
def _hub_offline() -> Iterator[None]:
    """HF_HUB_OFFLINE=1 while a model loads (unless set already): a model missing locally fails instead of being
    downloaded. (Read when huggingface_hub is first imported, which a CLI run has not done yet.)"""
    before = os.environ.get("HF_HUB_OFFLINE")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("HF_HUB_OFFLINE", None)


# --- optional: the chat model and OCR --------------------------------------------------------------------


def check_chat_model(settings: Settings) -> Check:
    """Configured or not; its provider package present; its base URL answering (any HTTP answer counts)."""
    from assistant.errors import ChatModelError

    url = shown_url(settings.chat_base_url)
    facts: dict[str, Any] = {
        "model": settings.chat_model or None,
        "base_url": url or None,
        "api_key": "set" if settings.chat_api_key else "not set",
        "reachable": None,
    }
    reach = ""
    if settings.chat_base_url:
        facts["reachable"], why = reachable(settings.chat_base_url)
        reach = f"{url} {'reachable' if facts['reachable'] else 'not reachable'} ({why})"
    if not settings.chat_model:
        detail = "answers quote the documents directly; set ASSISTANT_CHAT_MODEL (or --chat-model) to use a model"
        if reach:
            detail += f"; ASSISTANT_CHAT_BASE_URL is set: {reach}"
        return Check("chat model", NOT_CONFIGURED, detail, facts)
    from assistant.chat_models import create_chat_model

    where = f"{settings.chat_model} at {reach}" if reach else settings.chat_model
    key_said = f"API key {facts['api_key']}"
    try:
        create_chat_model(settings)  # no request is sent: this checks the provider package and the options
    except ChatModelError as error:
        return Check("chat model", MISSING, f"{error}; {key_said}", facts)
    status = NOT_REACHABLE if facts["reachable"] is False else OK
    return Check("chat model", status, f"{where}; {key_said}", facts)


def reachable(base_url: str) -> tuple[bool, str]:
    """Whether `<base_url>/models` answers within CHAT_TIMEOUT_SECONDS, and what it said (or why not). No key is
    sent: any HTTP answer, a refusal included, shows the server is there."""
    request = urllib.request.Request(base_url.rstrip("/") + "/models", method="GET")
    try:
        with urllib.request.urlopen(request, timeout=CHAT_TIMEOUT_SECONDS) as response:
            return True, f"HTTP {response.status}"
    except urllib.error.HTTPError as error:
        return True, f"HTTP {error.code}"
    except urllib.error.URLError as error:
        reason = error.reason
        return False, str(getattr(reason, "strerror", None) or reason)
    except (OSError, ValueError) as error:  # a timeout, a connection reset, a malformed URL
        return False, str(error) or type(error).__name__


def shown_url(url: str) -> str:
    """`url` without any user name or password in it."""
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def check_ocr(settings: Settings) -> Check:
    """Whether Tesseract and the configured language(s) are installed (for scans and image files)."""
    from index.ocr import INSTALL_COMMAND, missing_languages, tesseract_path

    language = settings.ocr_lang
    facts: dict[str, Any] = {"mode": settings.ocr, "languages": language, "tesseract": tesseract_path()}
    configured = f"ASSISTANT_OCR={settings.ocr}, ASSISTANT_OCR_LANG={language}"
    if settings.ocr == "off":
        return Check("OCR", NOT_CONFIGURED, f"off ({configured}): scans and image files are not read", facts)
    missing = missing_languages(language)
    facts["missing_languages"] = missing
    if missing is None:
        detail = f"Tesseract is not installed: scans and image files cannot be read (install it: {INSTALL_COMMAND})"
        return Check("OCR", MISSING, f"{detail}; {configured}", facts)
    if missing:
        packages = " ".join(f"tesseract-ocr-{code}" for code in missing)
        detail = f"Tesseract {facts['tesseract']} lacks {'+'.join(missing)} (install: apt-get install {packages})"
        return Check("OCR", MISSING, f"{detail}; {configured}", facts)
    return Check("OCR", OK, f"Tesseract {facts['tesseract']}, language {language} installed ({configured})", facts)
