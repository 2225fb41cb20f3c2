"""The kind of answer a question wants (a date or time, a number or amount, a person or body, a place), read from
its wording, and finders for answers of each kind in a text. Pure functions of strings: no index, no model.

Which kind a question wants (the lower-cased question; the first rule that applies wins):

| kind   | the question holds                                                                              |
|--------|-------------------------------------------------------------------------------------------------|
| number | "how many", "how much", "how long", "how far", "how old", "how big", ... "what percentage", "what age" |
| date   | the question word "when"; "what year", "which year", "what date", "what day", "what month", "what century" |
| person | the question word "who", "whom" or "whose"; "what/which person, company, team, president, ..."   |
| place  | the question word "where"; "what/which country, city, state, town, island, river, ..."           |
| other  | anything else                                                                                   |

A question word counts where it asks: opening the question (after a comma, too), after an opening preposition
("to whom", "from where"), or closing it ("... was born where?"); an opening "when" only before a verb such as
"did" or "is" ("When did ...", not "When many people are arrested, what ..."). Elsewhere it is mostly a
conjunction or a relative pronoun ("what did he do when ...", "the man who ..."), which says nothing of the answer.

What counts as an answer of each kind in a text (each finder gives character spans):

- date: a year (1000-2099, "1990s", "79 AD", "500 BC"), a capitalised month (with its day) or weekday name, a
  date pattern ("12/05/1990", "1990-05-12"), a clock time ("10:30", "5 pm"), an ordinal century ("19th century").
- number: digits (with a currency sign, "million" or a percent after them) or number words ("two" .. "ninety",
  "hundred", "million", "dozen", "twice", "half"; not "one", mostly a pronoun), but not digits that are part of a
  date.
- person or body: a sequence of capitalised words (inner "of", "de", "van", ... allowed) that is not a common word
  capitalised at a sentence start ("The", "However", "Eventually", ...), a month or a weekday.
- place: such a name sequence right after "in", "at", "from", "near", "to", "through", ... (a "the" between
  allowed; not "according to"), or holding a place word ("River", "City", "County", "Island", ...).

`holds_answer_type(text, type, exclude=question_words(question))` keeps only the spans with a word the question
does not hold, so that a quote restating the question ("Bowman was the director of the American Geographical
Society in 1914.") holds a person (Bowman) but not a date when the question asked "in 1914".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Literal

from assistant.text import stem

AnswerType = Literal["date", "number", "person", "place", "other"]
ANSWER_TYPES: tuple[AnswerType, ...] = ("date", "number", "person", "place", "other")
TextSpan = tuple[int, int]

_QUESTION_WORD_OPENS = re.compile(
    r"(?:^|[,;:]\s*)(?:(?:in|on|at|to|from|by|for|since|until|till|with|of|and|but|so)\s+)?"
    r"(when(?= (?:is|was|are|were|did|do|does|will|would|could|can|should|has|have|had|may|might|must)\b)"
    r"|who|whom|whose|where)\b"
)
_QUESTION_WORD_CLOSES = re.compile(r"\b(when|who|whom|whose|where)\W*$")
_NUMBER_QUESTION = re.compile(
    r"\bhow (?:many|much|long|far|old|big|large|high|tall|deep|wide|heavy|fast|often)\b"
    r"|\bwhat (?:percentage|percent|proportion|fraction|number|amount|age)\b"
)
_DATE_QUESTION = re.compile(r"\b(?:what|which) (?:year|years|date|day|month|century|decade|time)\b")
_PERSON_QUESTION = re.compile(
    r"\b(?:what|which) (?:person|people|company|companies|organi[sz]ation|body|team|band|group|university|"
    r"president|king|queen|emperor|author|writer|artist|scientist|player|leader)\b"
)
_PLACE_QUESTION = re.compile(
    r"\b(?:what|which) (?:place|location|country|countries|city|cities|state|town|village|continent|region|"
    r"province|county|island|river|ocean|sea|lake|mountain|street|district|neighbou?rhood)\b"
)
_KIND_OF_QUESTION_WORD: dict[str, AnswerType] = {
    "when": "date",
    "who": "person",
    "whom": "person",
    "whose": "person",
    "where": "place",
}

_MONTHS = "January February March April May June July August September October November December".split()
_WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
_ORDINAL_WORDS = (
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth fourteenth "
    "fifteenth sixteenth seventeenth eighteenth nineteenth twentieth"
).split()
_DATE_PATTERNS = [
    re.compile(r"(?<![\d,.])(?:1\d{3}|20\d{2})s?(?![\d]|[,.]\d)"),  # a year, or a decade such as 1990s
    re.compile(r"\b\d{1,4}\s?(?:BCE|BC|AD|CE)\b|\b(?:AD|A\.D\.)\s?\d{1,4}\b"),
    re.compile(r"(?:\b\d{1,2}(?:st|nd|rd|th)?\s+)?\b(?:" + "|".join(_MONTHS) + r")\b(?:\s+\d{1,2}(?:st|nd|rd|th)?\b)?"),
    re.compile(r"\b(?:" + "|".join(_WEEKDAYS) + r")\b"),
    re.compile(r"\b(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?\s?\d{1,2}\b"),
    re.compile(r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b"),
    re.compile(
        r"\b\d{1,2}(?::\d{2}){1,2}\b(?:\s?(?:[ap]\.m\.|[ap]m\b))?|\b\d{1,2}\s?(?:[ap]\.m\.|[ap]m\b)", re.IGNORECASE
    ),
    re.compile(
        r"\b(?:\d{1,2}(?:st|nd|rd|th)|(?:twenty-)?(?:" + "|".join(_ORDINAL_WORDS) + r"))[\s-]+"
        r"(?:century|centuries|millennium)\b",
        re.IGNORECASE,
    ),
]
_NUMBER_WORDS = (
    "two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen "
    "eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred hundreds thousand thousands "
    "million millions billion billions trillion dozen dozens twice thrice half"
).split()
_NUMBER_PATTERNS = [
    re.compile(r"[$£€¥]?\d+(?:[,.]\d+)*(?:\s?(?:%|percent\b|per cent\b)|\s(?:thousand|million|billion|trillion)\b)?"),
    re.compile(r"\b(?:" + "|".join(_NUMBER_WORDS) + r")(?:-\w+)?\b", re.IGNORECASE),
]

_TOKEN = re.compile(r"\w[\w'’]*")
_NAME_CONNECTORS = frozenset("of the de da del della der di du la le van von bin ibn al upon y".split())
# Words that open sentences capitalised without naming anything.
_COMMON_CAPITALISED = frozenset(
    """a about after afterwards again against all also although among an and another any are as at because
    before being between both but by despite during each either even eventually every finally following for
    from further furthermore he her here hers his how however i if in including instead into is it its later
    many meanwhile more moreover most much my neither nevertheless no nor not now of on once one only or other
    our over several she since so some such than that the their them then there therefore these they this
    those though thus to today under unlike until upon was we were what when where whereas which while who
    whom whose why with within without yet you your according although around today tomorrow yesterday
    eventually finally initially originally currently recently historically traditionally generally typically
    similarly additionally consequently subsequently ultimately unfortunately fortunately notably specifically
    particularly alternatively accordingly apparently previously formerly lastly firstly secondly likewise hence
    nonetheless otherwise overall still throughout unless whether""".split()
)
_NOT_NAMES = _COMMON_CAPITALISED | {word.lower() for word in _MONTHS + _WEEKDAYS}
_PLACE_PREPOSITIONS = frozenset(
    "in at from near into across through throughout outside inside towards toward around within between via to".split()
)
_PLACE_WORDS = frozenset(
    """river city county island islands mountains mountain mount lake sea ocean bay valley province state states
    kingdom republic street avenue park square desert gulf strait peninsula coast canyon falls port fort
    district region airport""".split()
)
_NAME_GAP = re.compile(r"[ \t]+|-")
_INITIAL_GAP = re.compile(r"\.[ \t]*")  # after an initial or a short abbreviation: "John F. Kennedy", "St. Louis"


def answer_type_of(question: str) -> AnswerType:
    """The kind of answer the question asks for (module docstring: the rules), or "other"."""
    text = " ".join(question.lower().split()).lstrip("\"'“‘([ ")
    if _NUMBER_QUESTION.search(text):
        return "number"
    if _DATE_QUESTION.search(text):
        return "date"
    asked = _QUESTION_WORD_OPENS.search(text) or _QUESTION_WORD_CLOSES.search(text)
    if asked:
        return _KIND_OF_QUESTION_WORD[asked.group(1)]
    if _PERSON_QUESTION.search(text):
        return "person"
    if _PLACE_QUESTION.search(text):
        return "place"
    return "other"


def find_dates(text: str) -> list[TextSpan]:
    """Spans of years, month and weekday names, date patterns, clock times and centuries, in text order."""
    return _merged([match.span() for pattern in _DATE_PATTERNS for match in pattern.finditer(text)])


def find_numbers(text: str) -> list[TextSpan]:
    """Spans of numbers in digits or words (with a currency sign or percent), leaving out those in dates."""
    dates = find_dates(text)
    found = [match.span() for pattern in _NUMBER_PATTERNS for match in pattern.finditer(text)]
    return _merged([span for span in found if not any(_overlap(span, date) for date in dates)])


def find_names(text: str) -> list[TextSpan]:
    """Spans of capitalised name sequences ("Nikola Tesla", "University of Chicago", "NATO")."""
    names: list[TextSpan] = []
    run: list[re.Match[str]] = []  # the sequence being read: name words and the connectors between them
    for token in _TOKEN.finditer(text):
        word = token.group()
        continues = bool(run) and _continues(text[run[-1].end() : token.start()], run[-1].group())
        if not continues:
            names += _close(run)
            run = []
        if _is_name_word(word) or (continues and word in _NAME_CONNECTORS):
            run.append(token)
        elif run:
            names += _close(run)
            run = []
    return names + _close(run)


def find_places(text: str) -> list[TextSpan]:
    """Name sequences after a place preposition ("in", "at", "from", "near", ...) or holding a place word."""
    places = []
    for start, end in find_names(text):
        before = text[:start].lower().split()[-2:]
        if before and before[-1] == "the":
            before = before[:-1]
        words = {word.lower() for word in _TOKEN.findall(text[start:end])}
        after_preposition = bool(before) and before[-1] in _PLACE_PREPOSITIONS and before[-2:] != ["according", "to"]
        if after_preposition or words & _PLACE_WORDS:
            places.append((start, end))
    return places


_FINDERS: dict[str, Callable[[str], list[TextSpan]]] = {
    "date": find_dates,
    "number": find_numbers,
    "person": find_names,
    "place": find_places,
}


def question_words(question: str) -> frozenset[str]:
    """The question's words, lower-cased: what `exclude` takes to leave out what the question already says."""
    return frozenset(word.lower() for word in _TOKEN.findall(question))


def find_answer_spans(text: str, answer_type: str, exclude: Iterable[str] = ()) -> list[TextSpan]:
    """Spans of `text` that could answer a question wanting `answer_type`, leaving out those whose every word
    (but "of", "the", ...) is in `exclude` (lower-cased words, or their stems as `assistant.text.tokens` gives
    them). Nothing for "other" or an unknown type."""
    finder = _FINDERS.get(answer_type)
    if finder is None:
        return []
    excluded = frozenset(exclude)

    def is_new(word: str) -> bool:
        lowered = word.lower()
        return lowered not in _NAME_CONNECTORS and lowered not in excluded and stem(lowered) not in excluded

    return [(start, end) for start, end in finder(text) if any(map(is_new, _TOKEN.findall(text[start:end])))]


def holds_answer_type(text: str, answer_type: str, exclude: Iterable[str] = ()) -> bool:
    """True when `text` holds something of the wanted type that is not all in `exclude` (`find_answer_spans`)."""
    return bool(find_answer_spans(text, answer_type, exclude))


def _is_name_word(word: str) -> bool:
    return word[0].isupper() and word.lower() not in _NOT_NAMES


def _continues(gap: str, previous: str) -> bool:
    """True when a name goes on across `gap`: a space or a hyphen, or a full stop after an initial."""
    return bool(_NAME_GAP.fullmatch(gap) or (_INITIAL_GAP.fullmatch(gap) and len(previous) <= 2))


def _close(run: list[re.Match[str]]) -> list[TextSpan]:
    """The sequence as one span, without the connectors it ended on ("University of" + "the" ...)."""
    while run and run[-1].group() in _NAME_CONNECTORS:
        run = run[:-1]
    return [(run[0].start(), run[-1].end())] if run else []


def _overlap(first: TextSpan, second: TextSpan) -> bool:
    return first[0] < second[1] and second[0] < first[1]


def _merged(spans: list[TextSpan]) -> list[TextSpan]:
    """Overlapping spans as one, in text order."""
    merged: list[TextSpan] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
