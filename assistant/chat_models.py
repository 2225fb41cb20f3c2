"""Create the configured LangChain chat model (Ollama, OpenAI, any OpenAI-compatible server, ...)."""

from __future__ import annotations

from typing import Any

from assistant.errors import ChatModelError
from assistant.settings import Settings

# The provider packages come with the project's extras: pip install 'quote-assistant[openai]'.
PROVIDER_EXTRAS = {"openai": "openai", "ollama": "ollama"}


def create_chat_model(settings: Settings) -> Any:
    """A chat model from `provider:model` (or a bare model name with a base URL) via init_chat_model."""
    from langchain.chat_models import init_chat_model

    spec = settings.chat_model
    options: dict[str, Any] = {"temperature": settings.chat_temperature}
    if settings.chat_base_url:
        if ":" not in spec:
            spec = f"openai:{spec}"
        options["base_url"] = settings.chat_base_url
        options["api_key"] = settings.chat_api_key or "not-needed"
    elif settings.chat_api_key:
        options["api_key"] = settings.chat_api_key
    try:
        return init_chat_model(spec, **options)
    except ImportError as error:
        provider = spec.split(":", 1)[0] if ":" in spec else ""
        extra = PROVIDER_EXTRAS.get(provider)
        hint = f"install it with: pip install 'quote-assistant[{extra}]'" if extra else str(error)
        raise ChatModelError(
            f"cannot use chat model {settings.chat_model!r}: its provider is missing; {hint}"
        ) from None
    except Exception as error:  # unknown provider, bad options
        raise ChatModelError(f"cannot use chat model {settings.chat_model!r}: {error}") from error
