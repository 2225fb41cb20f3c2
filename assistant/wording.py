"""Counts in words for people: "1 verified quote", "2 verified quotes", "1,024 chunks"."""

from __future__ import annotations


def plural(count: int, noun: str, plural_noun: str | None = None) -> str:
    """`count` and `noun`, the noun in the plural unless the count is one (`plural_noun`, else `noun` + "s")."""
    word = noun if count == 1 else plural_noun or f"{noun}s"
    return f"{count:,} {word}"
