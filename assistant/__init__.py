"""A chat assistant that answers questions about your documents and proves every answer with exact quotes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.core import Assistant
    from assistant.settings import Settings

__all__ = ["Assistant", "Settings"]


def __getattr__(name: str) -> Any:
    # Imported on first use so that `assistant --help` never pays for torch or Chroma.
    if name == "Assistant":
        from assistant.core import Assistant

        return Assistant
    if name == "Settings":
        from assistant.settings import Settings

        return Settings
    raise AttributeError(name)
