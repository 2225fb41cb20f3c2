"""The HTML builders escape every piece of document text and mark exactly the quoted span."""

import re

from ui.citations import (
    answer_html,
    context_window,
    document_html,
    escape_text,
    highlight_html,
    passage_html,
    plain_html,
    quote_in_passage_html,
    unsupported_html,
)

PAYLOAD = "<script>window.__pwned = 1</script> <img src=x onerror=\"document.title='pwned'\">"


def _no_raw_payload(html: str) -> None:
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html and "&lt;img" in html


def test_highlight_wraps_exactly_the_span_and_escapes_everything():
    text = "before <b>bold</b> QUOTE & more " + PAYLOAD
    start = text.index("QUOTE")
    html = highlight_html(text, start, start + len("QUOTE & more"))
    assert re.search(r'<mark class="qa-quote">QUOTE &amp; more</mark>', html)
    assert "&lt;b&gt;bold&lt;/b&gt;" in html
    _no_raw_payload(html)


def test_highlight_with_an_id_for_the_viewer_and_offsets_clamped():
    html = highlight_html("abc", 1, 99, mark_id="quote")
    assert html == 'a<mark id="quote">bc</mark>'
    assert highlight_html("abc", 2, 1) == 'a<mark class="qa-quote">b</mark>c'


def test_line_breaks_survive_without_blank_lines():
    assert escape_text("one\n\ntwo") == "one<br><br>two"
    assert "\n" not in document_html("t", "a\n\nb\n\nc", 3, 4)


def test_context_window_cuts_at_spaces_and_keeps_the_span():
    text = " ".join(f"word{i}" for i in range(200))
    start = text.index("word100")
    end = start + len("word100")
    window = context_window(text, start, end, radius=30)
    assert window.text[window.start : window.end] == "word100"
    assert window.cut_before and window.cut_after
    assert not window.text.startswith(" ") and window.text.split()[0].startswith("word")
    whole = context_window("short text", 0, 5, radius=30)
    assert whole.text == "short text" and not whole.cut_before and not whole.cut_after


def test_citation_card_shows_label_passage_and_marked_quote():
    passage = "The ministers met. " + PAYLOAD + " They met in Prague."
    start = passage.index("They met in Prague.")
    html = quote_in_passage_html("[1] a<b>.txt", passage, start, len(passage))
    assert "[1] a&lt;b&gt;.txt" in html
    assert '<mark class="qa-quote">They met in Prague.</mark>' in html
    _no_raw_payload(html)


def test_answer_markers_are_styled_and_unsupported_sentences_flagged():
    text = "Prague hosted it. [1] The moon is cheese. " + PAYLOAD
    html = answer_html(text, unsupported=["The moon is cheese."])
    assert '<span class="qa-marker">[1]</span>' in html
    assert re.search(r'<span class="qa-unsupported"[^>]*>The moon is cheese\.</span>', html)
    assert "(unsupported)" in html
    _no_raw_payload(html)


def test_answer_ignores_unsupported_sentences_not_in_the_text():
    assert "qa-unsupported" not in answer_html("Plain answer.", unsupported=["Something else."])


def test_other_builders_escape():
    for html in (plain_html(PAYLOAD), passage_html("x", PAYLOAD), unsupported_html([PAYLOAD])):
        _no_raw_payload(html)
    long = passage_html("x", "word " * 500, limit=100)
    assert long.count("word") < 30 and "…" in long


def test_document_html_marks_the_quote_with_id_quote():
    text = "Start. " + PAYLOAD + " The quote. End."
    start = text.index("The quote.")
    html = document_html("doc.txt", text, start, start + len("The quote."))
    assert '<mark id="quote">The quote.</mark>' in html
    assert html.count("<mark") == 1
    _no_raw_payload(html)


def test_markdown_escaping_neutralises_links_and_emphasis():
    from ui.citations import escape_markdown

    escaped = escape_markdown("[x](javascript:alert(1)) *b* résumé.txt")
    assert escaped == "\\[x\\]\\(javascript\\:alert\\(1\\)\\) \\*b\\* résumé\\.txt"
