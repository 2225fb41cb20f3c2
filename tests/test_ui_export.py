"""The Markdown export holds each question, answer, and the quotes under it, with Markdown neutralised."""

from datetime import UTC, datetime

from assistant.models import Answer, Citation, Passage
from ui.export import conversation_markdown

NOW = datetime(2025, 1, 2, 3, 4, tzinfo=UTC)


def _citation(n, quote, page=None):
    return Citation(n, "doc1", "/data/report.pdf", "report.pdf", 10, 10 + len(quote), quote, page, 0.9)


def _passage(text):
    return Passage("c1", "doc1", "/data/notes.txt", "notes.txt", 0, len(text), text, None, 1, 0.5)


def test_export_has_questions_answers_and_quotes():
    answered = Answer(
        "Where did they meet?",
        "They met in Prague. [1] It was a Friday. [2]",
        [_citation(1, "met in Prague"), _citation(2, "on Friday", page=3)],
        [],
        True,
    )
    markdown = conversation_markdown([("Where did they meet?", answered)], now=NOW)
    assert markdown.startswith("# Conversation with your documents")
    assert "Exported 2025-01-02 03:04 UTC." in markdown
    assert "## 1. Where did they meet?" in markdown
    assert "They met in Prague. [1] It was a Friday. [2]" in markdown
    assert "[1] report.pdf (characters 10-23)" in markdown
    assert "[2] report.pdf, page 3 (characters 10-19)" in markdown
    assert "> met in Prague" in markdown and "> on Friday" in markdown


def test_declined_answers_keep_their_closest_passages_and_unsupported_sentences():
    declined = Answer(
        "Who won?", "The documents do not contain an answer to this question.", [], [_passage("Close.")], False
    )
    llm = Answer("Q", "Supported. [1] Made up.", [_citation(1, "Supported")], [], True, unsupported=["Made up."])
    markdown = conversation_markdown([("Who won?", declined), ("Q", llm)], now=NOW)
    assert "*The documents do not answer this question.*" in markdown
    assert "**Closest passages**" in markdown and "> Close." in markdown
    assert "**Not supported by the documents (no verified quote):**" in markdown
    assert "- Made up." in markdown


def test_document_text_cannot_inject_markdown_or_html():
    quote = "<script>alert(1)</script> [link](javascript:x) # heading"
    answer = Answer("q", quote + " [1]", [_citation(1, quote)], [], True)
    markdown = conversation_markdown([("# not a heading", answer)], now=NOW)
    assert "<script>" not in markdown
    assert "\\<script\\>" in markdown
    assert "\\[link\\](javascript:x)" in markdown
    assert "## 1. \\# not a heading" in markdown
    assert "[1]" in markdown
