"""Word tokens shared by lexical search and sentence scoring."""

from __future__ import annotations

import re
import threading
from functools import lru_cache

import Stemmer

_WORD = re.compile(r"\w+", re.UNICODE)
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have having
    he her here hers herself him himself his how i if in into is it its itself just me more most my myself no
    nor not of off on once only or other our ours ourselves out over own same she should so some such than
    that the their theirs them themselves then there these they this those through to too under until up very
    was we were what when where which while who whom why will with would you your yours yourself yourselves
    also may might must shall many much one ones s t don didn doesn isn wasn weren us""".split()
)


_local = threading.local()


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The Snowball (Porter 2) stem of an English word, so 'builds', 'builder' and 'building' meet."""
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:  # Stemmer objects are not thread-safe: one per thread
        stemmer = _local.stemmer = Stemmer.Stemmer("english")
    return stemmer.stemWord(word)


def tokens(text: str) -> list[str]:
    """Lower-cased, stemmed content words of `text`, stopwords removed. An identifier joined by underscores
    (`ASSISTANT_CHAT_MODEL`, `max_file_mb`) counts as itself and as each of its parts, so that technical text
    answers questions asked in plain words."""
    found = []
    for word in _WORD.findall(text.lower()):
        if word not in STOPWORDS:
            found.append(stem(word))
        if "_" in word:
            found.extend(stem(part) for part in word.split("_") if part and part not in STOPWORDS)
    return found
