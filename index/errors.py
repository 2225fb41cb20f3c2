"""Errors raised by the index, with messages written for the person reading them."""


class IndexingError(Exception):
    """Base class for index errors."""


class LoadError(IndexingError):
    """A file could not be turned into a document."""

    def __init__(self, source: str, reason: str):
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class StoreError(IndexingError):
    """The Chroma store could not be reached or written."""


class StoreUnavailable(StoreError):
    """The Chroma server cannot be reached, or stopped answering: nothing more can be read or written now."""


class IndexBusy(StoreError):
    """Another process is writing to the on-disk index, which takes one writing process at a time."""


class IndexMismatch(StoreError):
    """The index was made with another embedding model or dimension than the one asked to write or search it."""


class CredentialsRefused(StoreUnavailable):
    """The Chroma server (or the proxy in front of it) answered 401 or 403: the token is missing or wrong."""


class CertificateRefused(StoreUnavailable):
    """The Chroma server's TLS certificate is not signed by an authority this process trusts."""
