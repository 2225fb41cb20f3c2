"""A chat model's answer read as claims: its sentences, the passage numbers each cites, what each asserts once the
model's framing ("According to the passage, ...") is set aside, and the facts (numbers, dates, names) a supporting
source must hold for the claim to be backed."""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.text import tokens
from index.sentences import sentence_spans

_MARKERS = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")
_SOURCE = r"(?:the |this |these |that |those |a |our |your )?(?:provided |given |above |supplied |cited )?"
_DOCUMENT = r"(?:passages?|documents?|texts?|context|sources?|excerpts?|articles?|information)(?: \d+| \[\d+\])?"
# The framing a model puts around a fact; what it frames is the claim. Only at the start of a sentence.
_FRAMING = re.compile(
    r"^(?:"
    rf"(?:according to|based on|as (?:stated|mentioned|described|noted|said) in|from|in) {_SOURCE}{_DOCUMENT},?\s*"
    rf"|{_SOURCE}{_DOCUMENT} (?:says|states|mentions|notes|indicates|explains|shows|reports|tells us|suggests)"
    r"(?: that)?,?\s*"
    r"|(?:yes|no),\s*"
    r")+",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_NAME = re.compile(r"(?<![\w'’-])[A-Z][\w'’-]*")
_NUMBER_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen "
    "eighteen nineteen twenty"
).split()


@dataclass(frozen=True)
class Claim:
    """A sentence of the model's answer, without its markers, and the passage numbers it cites."""

    text: str
    markers: tuple[int, ...]

    @property
    def core(self) -> str:
        """What the sentence asserts, without the model's framing: the part a source must support."""
        stripped = _FRAMING.sub("", self.text).strip()
        return stripped[:1].upper() + stripped[1:] if stripped else self.text


def split_claims(answer: str) -> list[Claim]:
    """The answer's sentences, each with the passage numbers it cites."""
    claims = []
    for span in sentence_spans(answer):
        sentence = answer[span.start : span.end]
        numbers = tuple(int(n) for group in _MARKERS.findall(sentence) for n in re.split(r"\s*,\s*", group))
        text = _MARKERS.sub("", sentence).strip()
        if text:
            claims.append(Claim(text, numbers))
    return claims


def missing_facts(claim: str, source: str) -> list[str]:
    """The numbers and names of `claim` that `source` does not hold: a claim with a changed number, date or name
    is not backed, however close its wording. A number may be written as a word in the source ("seven" for 7)."""
    source_words = set(tokens(source))
    source_numbers = {_plain_number(n) for n in _NUMBER.findall(source)}
    missing = []
    for number in _NUMBER.findall(claim):
        plain = _plain_number(number)
        as_word = _NUMBER_WORDS[int(plain)] if plain.isdigit() and int(plain) < len(_NUMBER_WORDS) else ""
        if plain not in source_numbers and as_word not in source_words:
            missing.append(number)
    for match in _NAME.finditer(claim):
        if match.start() == 0 or claim[: match.start()].rstrip().endswith((".", ":", '"', "“")):
            continue  # capitalised as a sentence opener, not as a name
        words = [word for word in tokens(match.group()) if not word.isdigit()]
        if words and not all(word in source_words for word in words):
            missing.append(match.group())
    return missing


def _plain_number(number: str) -> str:
    return number.replace(",", "").rstrip(".")
