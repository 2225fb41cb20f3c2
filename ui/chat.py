"""The conversation: questions, answers as they stream, and the quotes under each answer."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from assistant.errors import AssistantError
from assistant.models import Answer, AnswerMode, Citation
from assistant.render import asked_within, source_label
from assistant.wording import plural
from index.errors import IndexingError
from ui.citations import (
    answer_html,
    draft_html,
    escape_markdown,
    passage_html,
    plain_html,
    quote_in_passage_html,
    unsupported_html,
)
from ui.state import Exchange, SourceView, history, view_source

CURSOR = " ▍"


def render_conversation(exchanges: list[Exchange]) -> None:
    for index, exchange in enumerate(exchanges):
        with st.chat_message("user"):
            st.html(plain_html(exchange.question))
        with st.chat_message("assistant"):
            render_answer(index, exchange)


def ask(
    assistant, question: str, exchanges: list[Exchange], top_k: int, sources: list[str] | None = None
) -> Exchange | None:
    """Show the question, stream the answer into the page (from the documents of `sources` only, when given), then
    show it with its citations."""
    with st.chat_message("user"):
        st.html(plain_html(question))
    with st.chat_message("assistant"):
        placeholder, stop = st.empty(), st.empty()
        placeholder.caption("Searching your documents…")
        answer, shown = None, ""
        if assistant.mode == AnswerMode.CHAT_MODEL:
            # A click reruns the app, which ends this run where it stands: the draft and the question are dropped.
            stop.button("Stop", key=f"stop-{len(exchanges)}", icon=":material/stop_circle:", on_click=_stopped)
        try:
            for item in assistant.stream(question, history(), top_k=top_k, sources=sources):
                if isinstance(item, Answer):
                    answer = item
                else:
                    shown += item
                    placeholder.html(draft_html(shown + CURSOR))
        except (AssistantError, IndexingError, ValueError, ImportError, OSError) as error:
            placeholder.error(escape_markdown(f"Could not answer: {error}"))
            return None
        finally:
            stop.empty()
        placeholder.empty()
        if answer is None:
            st.error("Could not answer: no answer came back.")
            return None
        exchange = Exchange(question, answer, assistant.settings, top_k)
        render_answer(len(exchanges), exchange)
    exchanges.append(exchange)
    return exchange


def _stopped() -> None:
    st.toast("Stopped: the chat model's answer was not finished, so nothing was kept.")


def render_answer(index: int, exchange: Exchange) -> None:
    """The answer with its markers, unsupported sentences flagged, then each citation or the closest passages."""
    answer = exchange.answer
    for warning in answer.warnings:
        st.warning(escape_markdown(warning), icon=":material/report:")
    if answer.fallback:
        st.info(escape_markdown(answer.fallback), icon=":material/rule:")
    st.html(answer_html(answer.text, answer.unsupported, declined=not answer.answered))
    if answer.unsupported:
        st.html(unsupported_html(answer.unsupported))
    for citation in answer.citations:
        _citation(index, exchange, citation)
    if not answer.answered:
        _closest_passages(index, exchange)
    st.caption(answer_caption(answer))
    if answer.within:
        st.caption(escape_markdown(asked_within(answer)))
    if answer.unverified:
        with st.expander("The chat model's own answer (not verified)"):
            st.text(answer.unverified)  # plain text: the model's words are data, never markup


def answer_caption(answer: Answer) -> str:
    """What the answer rests on: its verified quotes and the passages they come from, and who wrote it."""
    mode = "chat model" if answer.mode == AnswerMode.CHAT_MODEL else "extractive"
    if not answer.citations:
        return f"No verified quote · {mode} answer"
    used = plural(len(answer.cited_passages()), "passage")
    weak = " · weak support, check the quotes" if answer.support == "weak" else ""
    return f"{plural(len(answer.citations), 'verified quote')} from {used} · {mode} answer{weak}"


def _citation(index: int, exchange: Exchange, citation: Citation) -> None:
    label = f"[{citation.n}] {source_label(citation)}"
    passage = exchange.answer.passage_of(citation)
    if passage is not None:
        context, start = passage.text, citation.start - passage.start
    else:
        context, start = citation.quote, 0
    st.html(quote_in_passage_html(label, context, start, start + len(citation.quote)))
    view = SourceView(exchange.settings, citation.document_id, label, citation.start, citation.end, citation.quote)
    st.button(
        f"Open [{citation.n}] in the document",
        key=f"open-{index}-c{citation.n}",
        on_click=view_source,
        args=(view,),
        type="tertiary",
        icon=":material/open_in_new:",
    )


def _closest_passages(index: int, exchange: Exchange) -> None:
    passages = exchange.answer.passages[:3]
    if not passages:
        st.caption("Nothing in the index came close.")
        return
    st.caption("The closest passages, for you to check:")
    for passage in passages:
        name = Path(passage.source).name or passage.source
        label = f"{name}, page {passage.page}" if passage.page else name
        st.html(passage_html(label, passage.text))
        view = SourceView(exchange.settings, passage.document_id, label, passage.start, passage.end, passage.text)
        st.button(
            "Open in the document",
            key=f"open-{index}-p{passage.rank}-{passage.chunk_id}",
            on_click=view_source,
            args=(view,),
            type="tertiary",
            icon=":material/open_in_new:",
        )
