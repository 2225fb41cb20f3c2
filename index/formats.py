"""The file types the loaders read and the size limit, cheap to import (the parsers load with index.loaders).

A new file format: its extension here, its reader in index/loaders.py (docs/architecture.md)."""

from __future__ import annotations

TEXT_EXTENSIONS = frozenset({".txt", ".md", ".markdown"})
HTML_EXTENSIONS = frozenset({".html", ".htm"})
IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff"})  # read with OCR
SUPPORTED_EXTENSIONS = frozenset({*TEXT_EXTENSIONS, *HTML_EXTENSIONS, *IMAGE_EXTENSIONS, ".pdf", ".docx"})
MAX_FILE_BYTES = 50_000_000  # larger files are refused with a message


def unsupported_type_reason(suffix: str) -> str:
    """Explain that files ending in `suffix` cannot be loaded."""
    kind = f"'{suffix}'" if suffix else "(no extension)"
    return f"unsupported file type {kind} (supported: {', '.join(sorted(SUPPORTED_EXTENSIONS))})"


def human_size(count: int) -> str:
    """A byte count as people read it: 12 bytes, 3.4 KB, 56.7 MB."""
    if count >= 1_000_000:
        return f"{count / 1_000_000:.1f} MB"
    if count >= 1_000:
        return f"{count / 1_000:.1f} KB"
    return f"{count} bytes"
