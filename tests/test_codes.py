"""Codes a question names (assistant/codes.py): what counts as one, and when the passages hold it."""

from __future__ import annotations

import pytest

from assistant.codes import missing_codes, named_codes


@pytest.mark.parametrize(
    ("question", "codes"),
    [
        ("What does a housing of type M16-031 cost?", ["M16-031"]),
        ("Which cells express CYP27B1 and CYP27B1?", ["CYP27B1"]),
        ("price of ps3 when it first came out", ["ps3"]),
        ("Is GPT-4 larger than BERT-base?", ["GPT-4"]),
        ("How many people flew on AS-206 and AS-278?", ["AS-206", "AS-278"]),
        # measures, ordinals, decades and times are written otherwise in text: not codes
        ("Who failed the 2-point conversion on 3rd-and-9 at the 24-yard line?", []),
        ("Which model was popular in the mid-1970s and the late 18th-century?", []),
        ("Do the meetings run from 1pm for 60-minute sessions?", []),
        ("When was ISO 9001 revised in 2015?", []),  # words and numbers apart: no code
    ],
)
def test_named_codes(question: str, codes: list[str]) -> None:
    assert named_codes(question) == codes


def test_a_code_is_held_whatever_its_case_and_separators() -> None:
    question = "What does type M16-031 cost?"
    assert missing_codes(question, ["Type m16 031: 4.20 EUR"]) == []
    assert missing_codes(question, ["M16031 | 4.20 EUR"]) == []
    assert missing_codes(question, ["M12-031 | 4.20 EUR", "M16-03 | 1.10 EUR"]) == ["M16-031"]
    assert missing_codes("Is the PS3 cheaper?", ["PS3-based consoles cost less."]) == []
    assert missing_codes("What does it cost?", []) == []
