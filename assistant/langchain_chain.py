"""The verified answer as a LangChain Runnable: `Assistant.as_chain()`.

`invoke`, `batch`, `ainvoke` and `abatch` return the verified `Answer`, exactly what `Assistant.ask` returns.
`stream` and `astream` yield `AnswerChunk`s (pieces of the answer text as they are written: a chat model's draft,
not yet verified), then the verified `Answer`, last and once. Chunks add up as LangChain adds them: chunk + chunk
joins their text, chunk + Answer is the Answer, so a stream adds up to what `invoke` returns, and the draft never
becomes part of it. An `AnswerChunk` is not an `Answer`: `isinstance(item, Answer)` tells the verified answer
from the draft.

Callbacks (tracing) see the chain's run, with the retrieval as a retriever run under it (the query, and the
passages as Documents) and the chat model's calls (the follow-up rewrite, the answer), when one answers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Generator, Iterable, Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, Protocol, Required, runtime_checkable

from langchain_core.callbacks import AsyncCallbackManagerForChainRun, CallbackManagerForChainRun
from langchain_core.messages import BaseMessage
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda, RunnableSerializable
from langchain_core.runnables.config import run_in_executor
from pydantic import ConfigDict, Field
from typing_extensions import TypedDict

from assistant.evidence import Evidence
from assistant.langchain_retriever import RETRIEVER_NAME, passage_document
from assistant.models import Answer, Turn

HistoryItem = Turn | Mapping[str, str] | tuple[str, str] | BaseMessage


class QuestionInput(TypedDict, total=False):
    """The chain's input as a dict. `history`: the conversation so far, as `Turn`s, {"question", "answer"}
    dicts, (question, answer) pairs, or LangChain messages (each human message a question, the AI message after
    it its answer). `sources`: the documents to answer from, instead of the chain's (None: all of them)."""

    question: Required[str]
    history: Sequence[HistoryItem]
    sources: Sequence[str] | None


ChainInput = str | QuestionInput
AroundRetrieval = Callable[[str, Callable[[], Evidence]], Evidence]


@dataclass(frozen=True)
class AnswerChunk:
    """A piece of the answer text as it is written: unverified. The stream's last item, the Answer, replaces
    the chunks before it when they are added up."""

    text: str

    def __add__(self, other: object) -> AnswerChunk | Answer:
        if isinstance(other, AnswerChunk):
            return AnswerChunk(self.text + other.text)
        if isinstance(other, Answer):
            return other
        return NotImplemented


@runtime_checkable
class StreamingAsker(Protocol):
    """What the chain needs of an Assistant (this module cannot import assistant/core.py, which imports it)."""

    def stream(
        self,
        question: str,
        history: Sequence[Turn] = (),
        top_k: int | None = None,
        *,
        sources: Sequence[str] | None = None,
        around_retrieval: AroundRetrieval | None = None,
    ) -> Iterator[str | Answer]: ...


class AnswerChain(RunnableSerializable[ChainInput, Answer | AnswerChunk]):
    """A question (a string, or a `QuestionInput` dict) in, the verified Answer out; see the module's docstring.

    `top_k`: passages per question (None: the settings'); `sources`: the documents to answer from, unless the
    input names others (None: all of them).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    assistant: StreamingAsker = Field(exclude=True)
    top_k: int | None = Field(default=None, gt=0)
    sources: Sequence[str] | None = None

    @property
    def OutputType(self) -> type[Answer]:  # noqa: N802 (LangChain's name)
        """What `invoke` returns (a stream's items before it are AnswerChunks)."""
        return Answer

    def invoke(self, input: ChainInput, config: RunnableConfig | None = None, **kwargs: Any) -> Answer:
        return _the_answer(self._call_with_config(self._answer, input, config, **kwargs))

    async def ainvoke(self, input: ChainInput, config: RunnableConfig | None = None, **kwargs: Any) -> Answer:
        answer = None
        async for item in self.astream(input, config, **kwargs):
            if isinstance(item, Answer):
                answer = item
        return _the_answer(answer)

    def stream(
        self, input: ChainInput, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[AnswerChunk | Answer]:
        return self._transform_stream_with_config(iter([input]), self._pieces, config, **kwargs)

    async def astream(
        self, input: ChainInput, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[AnswerChunk | Answer]:
        async def one() -> AsyncIterator[ChainInput]:
            yield input

        async for item in self._atransform_stream_with_config(one(), self._apieces, config, **kwargs):
            yield item

    def with_dict_output(self) -> Runnable[ChainInput, dict[str, Any]]:
        """This chain, its Answer turned into JSON-ready data (`Answer.to_dict()`, as `assistant ask --json`
        prints). Its stream yields that one dict, at the end."""
        to_dict: RunnableLambda[Answer | AnswerChunk, dict[str, Any]]
        to_dict = RunnableLambda(_answer_dict, name="answer_to_dict")
        return self | to_dict

    # The transformers: LangChain's _call_with_config and _transform_stream_with_config run them inside the chain's
    # run, with its callbacks set as the current config, so a chat model called inside reports to the run as a child.

    def _answer(self, input: ChainInput, run_manager: CallbackManagerForChainRun) -> Answer:
        answer = None
        for item in self._stream(input, run_manager):
            if isinstance(item, Answer):
                answer = item
        return _the_answer(answer)

    def _pieces(
        self, inputs: Iterator[ChainInput], run_manager: CallbackManagerForChainRun
    ) -> Iterator[AnswerChunk | Answer]:
        yield from self._stream(next(inputs), run_manager)

    async def _apieces(
        self, inputs: AsyncIterator[ChainInput], run_manager: AsyncCallbackManagerForChainRun
    ) -> AsyncIterator[AnswerChunk | Answer]:
        # The assistant answers synchronously (embedding, Chroma, the chat model's stream): each step of it runs
        # in a worker thread, with the run's context, so the event loop stays free.
        pieces = self._stream(await anext(inputs), run_manager.get_sync())
        try:
            while (item := await run_in_executor(None, next, pieces, None)) is not None:
                yield item
        finally:
            with suppress(ValueError):  # still running in a worker when the consumer was cancelled
                await run_in_executor(None, pieces.close)

    def _stream(
        self, input: ChainInput, run_manager: CallbackManagerForChainRun
    ) -> Generator[AnswerChunk | Answer, None, None]:
        question, history, sources = self._read(input)
        around = _retrieval_run(run_manager)
        for item in self.assistant.stream(question, history, self.top_k, sources=sources, around_retrieval=around):
            yield item if isinstance(item, Answer) else AnswerChunk(item)

    def _read(self, input: ChainInput) -> tuple[str, list[Turn], Sequence[str] | None]:
        if isinstance(input, str):
            return input, [], self.sources
        if not isinstance(input, Mapping) or not isinstance(input.get("question"), str):
            raise TypeError(f"the chain takes a question: a string or a dict with a 'question' string, not {input!r}")
        sources = input["sources"] if "sources" in input else self.sources
        return input["question"], conversation(input.get("history", ())), sources


def conversation(history: Iterable[HistoryItem]) -> list[Turn]:
    """The history as Turns (see QuestionInput)."""
    turns: list[Turn] = []
    for item in history:
        if isinstance(item, Turn):
            turns.append(item)
        elif isinstance(item, BaseMessage):
            if item.type == "human":
                turns.append(Turn(_message_text(item)))
            elif item.type == "ai" and turns:  # system and tool messages say nothing of what was asked
                last = turns[-1]
                turns[-1] = Turn(last.question, f"{last.answer} {_message_text(item)}".strip())
        elif isinstance(item, Mapping):
            turns.append(Turn(str(item["question"]), str(item.get("answer", ""))))
        elif isinstance(item, tuple | list) and len(item) == 2:
            turns.append(Turn(str(item[0]), str(item[1])))
        else:
            raise TypeError(f"a history item is a Turn, a dict, a (question, answer) pair or a message, not {item!r}")
    return turns


def _retrieval_run(run_manager: CallbackManagerForChainRun) -> AroundRetrieval:
    """Gathering the evidence, reported to the callbacks as a retriever run under the chain's run."""

    def around(query: str, gather: Callable[[], Evidence]) -> Evidence:
        run = run_manager.get_child().on_retriever_start(None, query, name=RETRIEVER_NAME)
        try:
            evidence = gather()
        except BaseException as error:
            run.on_retriever_error(error)
            raise
        run.on_retriever_end([passage_document(passage) for passage in evidence.passages])
        return evidence

    return around


def _message_text(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(part if isinstance(part, str) else str(part.get("text", "")) for part in content)


def _the_answer(answer: object) -> Answer:
    if not isinstance(answer, Answer):
        raise RuntimeError("the assistant's answer stream ended without an Answer")
    return answer


def _answer_dict(answer: Answer | AnswerChunk) -> dict[str, Any]:
    # what a stream's chunks add up to: the Answer
    return _the_answer(answer).to_dict()
