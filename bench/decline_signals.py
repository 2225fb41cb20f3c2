"""Decline signals on SQuAD 2.0: how many unanswerable questions each signal declines while 95% of the
answerable ones are still answered.

Every question is asked the way `ask` does (hybrid retrieval, sentence scoring, the evidence score), then each
candidate signal is computed from the question and the 3 best sentences:

- evidence: what the answerer declines on (max of the sentences' cosine and the best sentence's word coverage);
- coverage: share of the question's informative (IDF-weighted) words in the best sentence;
- token alignment: MiniLM's last-layer token states of the question against those of each sentence (each
  question word's best match, as in BERTScore): mean, weakest word, IDF-weighted mean, and the sentence side's
  mean best match (precision); the best of the 3 sentences;
- missing name: a capitalised word or number of the question (not its first word) absent from the best sentence.

    python bench/decline_signals.py                       # all 6,078 questions, about 5 minutes here
    python bench/decline_signals.py --limit 1000          # a sample (seed 0)

Figures: docs/quality.md ("What was measured to choose the settings").
"""

from __future__ import annotations

import argparse
import itertools
import re
import tempfile
import time
from pathlib import Path

import common
import numpy as np

KEEP = 0.95  # share of answerable questions still answered
NAME_OR_NUMBER = re.compile(r"[A-Za-z][\w'-]*|\d[\d,.]*")


def token_states(encoder, texts: list[str]) -> list[tuple[list[str], np.ndarray]]:
    """Each text's word pieces (without [CLS] and [SEP]) and their unit-length last-layer states."""
    import torch

    encoded = encoder.tokenizer.encode_batch(texts)
    longest = max(len(e.ids) for e in encoded)
    ids = np.full((len(texts), longest), encoder.pad_id, dtype=np.int64)
    mask = np.zeros_like(ids)
    for row, item in enumerate(encoded):
        ids[row, : len(item.ids)] = item.ids
        mask[row, : len(item.ids)] = 1
    with torch.inference_mode():
        states = encoder.hidden_states(torch.from_numpy(ids), torch.from_numpy(mask)).float().numpy()
    found = []
    for row, item in enumerate(encoded):
        vectors = states[row, 1 : len(item.ids) - 1]
        found.append((item.tokens[1 : len(item.ids) - 1], vectors / np.linalg.norm(vectors, axis=1, keepdims=True)))
    return found


def alignment(question, sentences, lexical) -> dict[str, float]:
    """Token-alignment features of the question against each sentence; the best value over the sentences."""
    from assistant.text import tokens

    pieces, question_vectors = question
    content = [i for i, piece in enumerate(pieces) if piece.isalnum() and tokens(piece)]
    content = content or list(range(len(pieces)))
    weights = np.array([lexical.word_weight(tokens(pieces[i])[0]) if tokens(pieces[i]) else 0.0 for i in content])
    best: dict[str, float] = {}
    for _, sentence_vectors in sentences:
        similarity = question_vectors @ sentence_vectors.T
        matched = similarity.max(axis=1)[content]
        values = {
            "tokens_mean": float(matched.mean()),
            "tokens_weakest": float(matched.min()),
            "tokens_idf_mean": float((matched * weights).sum() / weights.sum()) if weights.sum() else 0.0,
            "tokens_precision": float(similarity.max(axis=0).mean()),
        }
        for key, value in values.items():
            best[key] = max(best.get(key, -1.0), value)
    return best


def missing_name(question: str, sentence: str) -> float:
    words = NAME_OR_NUMBER.findall(question)
    names = [w.lower().strip(".,") for i, w in enumerate(words) if w[0].isdigit() or (i > 0 and w[0].isupper())]
    return float(any(name not in sentence.lower() for name in names))


def declined_share(answerable: np.ndarray, unanswerable: np.ndarray) -> float:
    """Unanswerable questions declined when the threshold keeps KEEP of the answerable ones answered."""
    threshold = np.quantile(answerable, 1 - KEEP)
    return float((unanswerable < threshold).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog="Figures: docs/quality.md")
    parser.add_argument("--squad", default=str(common.SQUAD20), help="SQuAD 2.0 file (default the dev half)")
    parser.add_argument("--limit", type=int, help="ask only N questions, sampled with seed 0")
    args = parser.parse_args()

    from assistant import Assistant, Settings
    from assistant.evaluation.runner import eval_settings
    from assistant.evaluation.squad import load_squad, sample_questions

    data = load_squad(args.squad)
    questions = sample_questions(data.questions, args.limit, 0)
    with tempfile.TemporaryDirectory(prefix="bench-decline-", ignore_cleanup_errors=True) as folder:
        assistant = Assistant(eval_settings(Settings.from_env(), str(Path(folder) / "chroma")))
        assistant.warm_up()
        assistant.index_documents(list(data.documents))
        encoder = assistant.embedder.encoder
        if not hasattr(encoder, "hidden_states"):
            raise SystemExit("token alignment needs the built-in encoder (the default MiniLM)")
        lexical = assistant.snapshot().lexical
        started = time.perf_counter()
        features, impossible = [], []
        for question in questions:
            gathered = assistant.evidence(question.question)
            scored, evidence = gathered.sentences, gathered.score
            top = scored[:3]
            if not top:
                continue
            states = token_states(encoder, [question.question] + [s.text for s in top])
            row = {"evidence": evidence, "coverage": top[0].coverage}
            row.update(alignment(states[0], states[1:], lexical))
            row["no_missing_name"] = 1.0 - missing_name(question.question, top[0].text)
            features.append(row)
            impossible.append(question.is_impossible)
    mask = np.array(impossible)
    print(
        f"{len(features)} questions ({int(mask.sum())} unanswerable) in {time.perf_counter() - started:.0f} s; "
        f"load {common.load()}"
    )
    print(f"unanswerable declined while {KEEP:.0%} of the answerable are answered:")
    names = list(features[0])
    columns = {name: np.array([row[name] for row in features]) for name in names}
    shares = {name: declined_share(columns[name][~mask], columns[name][mask]) for name in names}
    for name, share in shares.items():
        print(f"  {name:18s} {share:.3f}")
    flagged = columns["no_missing_name"] == 0
    print(
        f"a name or number of the question missing from the best sentence: {flagged[mask].mean():.3f} of the "
        f"unanswerable, {flagged[~mask].mean():.3f} of the answerable questions"
    )
    mixes = []
    for first, second in itertools.combinations(names, 2):
        for weight in (0.25, 0.5, 0.75):
            mixed = weight * columns[first] + (1 - weight) * columns[second]
            mixes.append((declined_share(mixed[~mask], mixed[mask]), f"{weight} x {first} + {1 - weight} x {second}"))
    print("best mixes of two:")
    best = sorted(mixes, reverse=True)[:5]
    for share, label in best:
        print(f"  {share:.3f}  {label}")
    summary = {"questions": len(features), "unanswerable": int(mask.sum()), "keep": KEEP, "declined": shares}
    common.save_result("decline_signals", {**summary, "best_mixes": best, "load": common.load()})


if __name__ == "__main__":
    main()
