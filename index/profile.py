"""An index's profile: the embedding model and dimension of its vectors, recorded in the chunk collection's
metadata, so that vectors of two models never meet in one collection."""

from __future__ import annotations

from typing import Any

from index.errors import IndexMismatch
from index.models import IndexedDocument, IndexProfile, IndexState


def check_profile(state: IndexState, profile: IndexProfile, location: str) -> None:
    """Raise IndexMismatch unless vectors of `profile` may join the index of `state` (an empty index takes any)."""
    current = state.profile
    if not state.documents or current is None or current == profile:
        return
    if current.model == profile.model and not (current.dimension and profile.dimension):
        return  # an index written before dimensions were recorded
    raise IndexMismatch(
        f"the index at {location} holds vectors of the embedding model {current.model} ({current.dimension} "
        f"dimensions); these are from {profile.model} ({profile.dimension} dimensions), and the two cannot be "
        "searched together: index into another collection (--collection NAME), or rebuild this one from your "
        "files (`assistant index --rebuild PATH`)"
    )


def recorded_profile(metadata: dict[str, Any], documents: dict[str, IndexedDocument]) -> IndexProfile | None:
    """The index's model and dimension: recorded in the collection's metadata, or, in an index written before
    they were, the model its documents name."""
    if metadata.get("model"):
        return IndexProfile(str(metadata["model"]), int(metadata.get("dimension", 0)))
    models = {document.model for document in documents.values() if document.model}
    return IndexProfile(models.pop(), 0) if len(models) == 1 else None


def profile_metadata(profile: IndexProfile) -> dict[str, Any]:
    return {"model": profile.model, "dimension": profile.dimension}
