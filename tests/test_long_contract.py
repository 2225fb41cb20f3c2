"""Questions a reader asks of a long contract (tests/contract.py, about 30,000 characters): the answer quotes the
clause, not its heading, and a question worded otherwise than the clause is still answered from it."""

from __future__ import annotations

import pytest
from contract import contract_text

from assistant.headings import is_heading


@pytest.fixture
def contract(make_assistant, minilm, tmp_path):
    text = contract_text()
    assert len(text) > 29_000
    (tmp_path / "supply-agreement.txt").write_text(text)
    assistant = make_assistant(minilm)
    assistant.index_paths([tmp_path])
    return assistant, text


def quotes_of(answer) -> list[str]:
    return [citation.quote for citation in answer.citations]


def test_a_descriptive_question_is_answered_from_the_clause_not_its_heading(contract) -> None:
    assistant, text = contract
    late = assistant.ask("What happens if a delivery is late?")
    assert late.answered
    assert any("shall pay liquidated damages of 0.5% of the price" in quote for quote in quotes_of(late)), late.text
    assert not any(is_heading(quote) for quote in quotes_of(late))  # "Late delivery." was quoted before headings
    assign = assistant.ask("May either party assign this agreement to someone else?")
    assert assign.answered and quotes_of(assign)[0].startswith("Neither party may assign, transfer or subcontract")
    for citation in [*late.citations, *assign.citations]:
        assert text[citation.start : citation.end] == citation.quote


def test_a_paraphrased_question_is_answered_by_the_clause_it_paraphrases(contract, minilm, monkeypatch) -> None:
    assistant, text = contract
    read: list[int] = []
    embed = minilm.embed_documents
    monkeypatch.setattr(minilm, "embed_documents", lambda texts, *a, **k: read.append(len(texts)) or embed(texts))
    # "guaranteed" and "goods" are not the clause's words: it says "warrants" and "Products"
    guarantee = assistant.ask("How long are the goods guaranteed?")
    assert guarantee.answered
    assert any(
        "free from defects in materials and workmanship for a period of twenty-four" in q for q in quotes_of(guarantee)
    )
    assert read and read[-1] > 3  # the closest passage's sentences were read by meaning too
    read.clear()
    worded_alike = assistant.ask("How quickly must the Customer pay each undisputed invoice?")
    assert any("within thirty (30) days of receipt" in quote for quote in quotes_of(worded_alike))
    assert read == [3]  # shared words chose: only the best three sentences were read by meaning
    for citation in [*guarantee.citations, *worded_alike.citations]:
        assert text[citation.start : citation.end] == citation.quote


def test_a_question_naming_a_code_the_contract_lacks_is_declined_and_says_so(contract) -> None:
    assistant, text = contract
    listed = assistant.ask("What does a housing of type M12-031 cost?")
    assert listed.answered and any("M12-031" in quote for quote in quotes_of(listed))
    unlisted = assistant.ask("What does a housing of type M16-031 cost?")  # only M12-031 exists: item 031
    assert "M16-031" not in text
    assert not unlisted.answered and not unlisted.citations
    assert "No passage found mentions M16-031." in unlisted.text
    assert unlisted.passages  # the closest passages are still there to read
