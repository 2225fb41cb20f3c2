"""The kind of answer a question wants, and the finders of such answers in a text (`assistant/answer_types.py`)."""

from __future__ import annotations

import pytest

from assistant.answer_types import (
    answer_type_of,
    find_answer_spans,
    find_dates,
    find_names,
    find_numbers,
    find_places,
    holds_answer_type,
    question_words,
)
from assistant.text import tokens


@pytest.mark.parametrize(
    ("question", "wanted"),
    [
        ("When did people first land on the Moon?", "date"),
        ("when did 10 digit dialing start in colorado", "date"),
        ("In what year was the Rosetta Stone found?", "date"),
        ("Which century saw the first steam engines?", "date"),
        ("In 1066, when did the Normans land?", "date"),
        ("The treaty was signed when?", "date"),
        ("How many strings does a violin have?", "number"),
        ("How much coal did Watt's engine use?", "number"),
        ("How long did the war last?", "number"),
        ("how many years did it take", "number"),  # a duration is a number, though "years" is in it
        ("What percentage of the vote did he win?", "number"),
        ("Who won Nobel Prizes in physics and chemistry?", "person"),
        ("To whom did Luther write?", "person"),
        ("Who's the drummer of the band?", "person"),
        ("Whose army crossed the Alps?", "person"),
        ("What company built the bridge?", "person"),
        ("Where is the largest coral reef?", "place"),
        ("where does the term cherry picker come from", "place"),
        ("In which country is Normandy located?", "place"),
        ("What did he do when he left Paris?", "other"),  # "when" as a conjunction
        ("When many people are arrested, what is a common tactic?", "other"),
        ("What is the name of the man who founded it?", "other"),  # "who" as a relative pronoun
        ("Why does bread dough rise?", "other"),
        ("describe the role of the prime minister", "other"),
    ],
)
def test_the_wording_says_which_kind_of_answer_is_wanted(question: str, wanted: str) -> None:
    assert answer_type_of(question) == wanted


def spans_of(finder, text: str) -> list[str]:
    return [text[start:end] for start, end in finder(text)]


def test_dates_and_times() -> None:
    text = (
        "Founded in 1914, it moved on 5 June 1920 at 10:30 am, and on Monday, March 3rd; the 1990s and the "
        "19th century, 79 AD and 2001-09-11 and 12/05/1990, at 5 p.m."
    )
    assert spans_of(find_dates, text) == [
        "1914",
        "5 June",
        "1920",
        "10:30 am",
        "Monday",
        "March 3rd",
        "1990s",
        "19th century",
        "79 AD",
        "2001-09-11",
        "12/05/1990",
        "5 p.m.",
    ]
    assert spans_of(find_dates, "It may be 1,500 or 12,000 people, in may or in 330 days.") == []


def test_numbers_in_digits_and_words_but_not_in_dates() -> None:
    text = "In 1969 it cost $4.5 million, twelve percent of 8,849 metres, 30% more, twice; one of them in May 5."
    assert spans_of(find_numbers, text) == ["$4.5 million", "twelve", "8,849", "30%", "twice"]
    assert spans_of(find_numbers, "One of them went there once.") == []  # "one" is mostly a pronoun


def test_names_are_capitalised_sequences_but_not_sentence_openers() -> None:
    text = (
        "Eventually, Bowman joined the University of Chicago. The Nile flows through Sudan. "
        "However, NATO met in June. Leonardo da Vinci painted it. In Paris it rained."
    )
    assert spans_of(find_names, text) == [
        "Bowman",
        "University of Chicago",
        "Nile",
        "Sudan",
        "NATO",
        "Leonardo da Vinci",
        "Paris",
    ]
    assert spans_of(find_names, "Sicily, an island, is large.") == ["Sicily"]  # a name before a comma stays


def test_places_follow_a_place_preposition_or_hold_a_place_word() -> None:
    text = (
        "He moved from Smiljan to New York, according to Smith, and saw the Hudson River and Marie Curie "
        "in the United States."
    )
    assert spans_of(find_places, text) == ["Smiljan", "New York", "Hudson River", "United States"]


def test_an_answer_counts_only_with_a_word_the_question_does_not_hold() -> None:
    question = "Who was the director of the American Geographical Society in 1914?"
    quote = "Bowman was the director of the American Geographical Society in 1914."
    asked = question_words(question)
    assert [quote[a:b] for a, b in find_answer_spans(quote, "person", asked)] == ["Bowman"]
    assert not holds_answer_type(quote, "date", asked)  # 1914 is the question's own
    assert holds_answer_type(quote, "date")  # without the question, the year counts
    assert not holds_answer_type("The Geographical Society met.", "person", asked)
    stems = tokens(question)  # the support model's words: Snowball stems of content words
    assert not holds_answer_type("The Geographical Societies met.", "person", stems)
    assert holds_answer_type("It has four strings.", "number", question_words("How many strings?"))
    assert not holds_answer_type("It has four strings.", "number", question_words("Are there four strings?"))


def test_other_and_unknown_types_hold_nothing() -> None:
    assert find_answer_spans("Paris, 1914, 12 people.", "other") == []
    assert not holds_answer_type("Paris, 1914, 12 people.", "colour")


def test_of_sentences_sharing_the_question_words_the_one_holding_the_wanted_answer_comes_first(
    make_assistant, fake_embedder, tmp_path
) -> None:
    (tmp_path / "bridge.txt").write_text(
        "The Harbour Bridge opened with a parade across its deck.\n\n"
        "Thousands of people walked over the Harbour Bridge that day.\n\n"
        "The Harbour Bridge opened to traffic on 19 March 1932.\n\n"
        "The Harbour Bridge opened eight lanes of road and two railway tracks.\n"
    )
    assistant = make_assistant(fake_embedder)
    assistant.index_paths([tmp_path])
    when = assistant.evidence("When did the Harbour Bridge open?")
    assert when.sentences[0].text == "The Harbour Bridge opened to traffic on 19 March 1932."
    assert when.sentences[0].wanted_type and not when.sentences[1].wanted_type
    assert when.score <= 1.0  # the evidence is the words' share; the answer type orders, it adds no evidence
    how_many = assistant.evidence("How many lanes did the Harbour Bridge open?")
    assert how_many.sentences[0].text.startswith("The Harbour Bridge opened eight lanes")
