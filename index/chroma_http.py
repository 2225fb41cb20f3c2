"""A client for a Chroma server, possibly behind a proxy that checks a token and serves TLS: the token sent with
every request, the server's certificate checked against a given authority, and a refusal of either turned into a
message a person can act on (never showing the token)."""

from __future__ import annotations

import re
import ssl
import warnings
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from index.errors import CertificateRefused, CredentialsRefused, StoreError


class ServerSettings(Protocol):
    """What this module reads of index.chroma_client.StoreSettings (which imports this module)."""

    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def token(self) -> str: ...
    @property
    def token_header(self) -> str: ...
    @property
    def ca_file(self) -> str: ...
    @property
    def server_url(self) -> str: ...


REFUSED = (401, 403)


def request_headers(settings: ServerSettings) -> dict[str, str]:
    """The header that carries the token (none without one)."""
    if not settings.token:
        return {}
    if settings.token_header.lower() == "authorization":
        return {settings.token_header: f"Bearer {settings.token}"}
    return {settings.token_header: settings.token}


def open_server_client(settings: ServerSettings) -> Any:
    """A chromadb HttpClient for the settings' server; raises CredentialsRefused or CertificateRefused when the
    server turns this client away, and lets other errors through (the caller words those)."""
    import chromadb
    from chromadb.config import Settings

    ca_file = settings.ca_file
    if ca_file and not Path(ca_file).expanduser().is_file():
        raise StoreError(f"the certificate authority file {ca_file} (ASSISTANT_CHROMA_CA_FILE) does not exist")
    verify = str(Path(ca_file).expanduser()) if ca_file else None
    url = urlsplit(settings.server_url)
    try:
        with warnings.catch_warnings():  # chromadb hands httpx the CA file as a path, which httpx deprecates
            warnings.filterwarnings("ignore", message="`verify=<str>` is deprecated", category=DeprecationWarning)
            client = chromadb.HttpClient(
                host=url.hostname or settings.host,
                port=url.port or settings.port,
                ssl=url.scheme == "https",
                headers=request_headers(settings),
                settings=Settings(anonymized_telemetry=False, chroma_server_ssl_verify=verify),
            )
    except Exception as error:
        refusal = _refusal(settings, error) or _probe(settings, verify)
        if refusal is not None:
            raise refusal from None
        raise
    _watch_refusals(client, settings)
    return client


def credentials_message(settings: ServerSettings, status: int | str) -> str:
    if settings.token:
        hint = f"check ASSISTANT_CHROMA_TOKEN (sent in the {settings.token_header} header)"
    else:
        hint = "no token is set: set ASSISTANT_CHROMA_TOKEN (or --chroma-token)"
    return f"the Chroma server refused the credentials: {settings.server_url} answered {status}; {hint}"


def certificate_message(settings: ServerSettings, reason: str) -> str:
    where = f"the authority in {settings.ca_file}" if settings.ca_file else "no authority this machine trusts"
    return (
        f"the Chroma server's certificate at {settings.server_url} is not trusted ({reason}): it is signed by "
        f"{where}; set ASSISTANT_CHROMA_CA_FILE (or --chroma-ca-file) to the CA bundle that signed it"
    )


def _refusal(settings: ServerSettings, error: BaseException) -> StoreError | None:
    """The refusal that `error` (or an error it was raised from or while handling) shows, if any."""
    from chromadb.errors import AuthorizationError, ChromaAuthError

    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, (AuthorizationError, ChromaAuthError)):
            return CredentialsRefused(credentials_message(settings, getattr(seen, "code", lambda: 401)()))
        if isinstance(seen, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(seen):
            said = re.search(r"certificate verify failed: ([^(\]]+)", str(seen))
            reason = getattr(seen, "verify_message", "") or (said.group(1).strip() if said else "verify failed")
            return CertificateRefused(certificate_message(settings, reason))
        seen = seen.__cause__ or seen.__context__
    return None


def _probe(settings: ServerSettings, verify: str | None) -> StoreError | None:
    """Ask the server once more, directly, when chromadb's error hides the HTTP status (a proxy's HTML page)."""
    import httpx

    try:
        response = httpx.get(
            f"{settings.server_url}/api/v2/tenants/default_tenant",
            headers=request_headers(settings),
            verify=ssl.create_default_context(cafile=verify) if verify else True,
            timeout=10,
        )
    except Exception as error:
        return _refusal(settings, error)
    if response.status_code in REFUSED:
        return CredentialsRefused(credentials_message(settings, _status(response)))
    return None


def _watch_refusals(client: Any, settings: ServerSettings) -> None:
    """Turn a 401 or 403 on any later request (a token revoked while this process runs) into CredentialsRefused;
    chromadb would raise the proxy's HTML page as the error text."""
    session = getattr(getattr(client, "_server", None), "_session", None)
    if session is None or not hasattr(session, "event_hooks"):
        return

    def check(response: Any) -> None:
        if response.status_code in REFUSED:
            raise CredentialsRefused(credentials_message(settings, _status(response)))

    session.event_hooks["response"].append(check)


def _status(response: Any) -> str:
    return f"{response.status_code} {response.reason_phrase}".strip()
