"""Errors whose messages are written for the person using the assistant."""


class AssistantError(Exception):
    """Base class: the message is shown as is, on one line."""


class NotFound(AssistantError):
    """A document named by the user is not in the index."""


class ChatModelError(AssistantError):
    """The configured chat model could not be created or did not answer."""
