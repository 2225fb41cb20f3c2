"""Train the support models (assistant/support.py) from public question sets, and say what they score on the part
they did not see.

    python bench/train_support.py [--collect] [--limit N]

Data (../shared/eval, licenses in its README): SQuAD 2.0 half (CC BY-SA 4.0) and ClapNQ dev (Apache-2.0). Each is
split by a hash: SQuAD 2.0 by article, ClapNQ by question; the even half trains, the odd half is held out, and
XQuAD (SQuAD 1.1) is never used for training. For every question the assistant gathers its evidence as it does when
answering (same index, same retrieval), and every sentence of it is labelled: it holds a gold answer (SQuAD) or
shares half its words with a gold evidence sentence (ClapNQ). The features are cached in bench/.data/support/.
Training is plain logistic regression (numpy, full-batch gradient descent, L2), a few seconds on 2 cores.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from common import BENCH_DIR, EVAL_DIR, load

from assistant.support import (
    DECISION_FEATURES,
    SENTENCE_FEATURES,
    WEIGHTS_FILE,
    LinearModel,
    QuestionTerms,
    decision_features,
    sentence_features,
)

CACHE = BENCH_DIR / "support"
SETS = {
    "squad20": EVAL_DIR / "squad20-dev-half" / "dev-v2.0.json",
    "clapnq": EVAL_DIR / "clapnq-dev",
}
ANSWERED_TARGET = 0.96  # the decision threshold keeps this share of the training half's answerable questions


def held_out(key: str) -> bool:
    return int(hashlib.sha256(key.encode()).hexdigest(), 16) % 2 == 1


@dataclass
class Collected:
    rows: np.ndarray  # one per sentence
    labels: np.ndarray  # 1: the sentence answers
    question: np.ndarray  # the question each row belongs to
    dense: np.ndarray  # the sentence's cosine similarity with the question
    answerable: np.ndarray  # per question
    held_out: np.ndarray  # per question
    top_dense: np.ndarray  # per question: the top passage's dense score


def collect(name: str, limit: int | None) -> Collected:
    from assistant import Assistant, Settings
    from assistant.evaluation.loading import load_eval_set
    from assistant.evaluation.metrics import shares_half_words
    from assistant.evaluation.questions import sample_questions
    from assistant.evaluation.runner import eval_settings

    data = load_eval_set(SETS[name])
    questions = sample_questions(data.questions, limit, 0)
    rows, labels, owner, dense, answerable, hold, top_dense = [], [], [], [], [], [], []
    with tempfile.TemporaryDirectory() as folder:
        # word-coverage order, which the baseline reads and the features do not depend on
        settings = Settings.from_env().with_changes(support_model=False)
        assistant = Assistant(eval_settings(settings, str(Path(folder) / "chroma")))
        assistant.index_documents(list(data.documents))
        for number, question in enumerate(questions):
            evidence = assistant.evidence(question.question)
            terms = QuestionTerms.of(question.question, evidence.snapshot.lexical)
            vectors = assistant.embedder.embed_documents([question.question, *(s.text for s in evidence.sentences)])
            for sentence, vector in zip(evidence.sentences, vectors[1:], strict=True):
                rows.append(sentence_features(terms, sentence.text, sentence.context, sentence.passage))
                labels.append(_answers(question, sentence, data.kind, shares_half_words))
                owner.append(number)
                dense.append(float(vector @ vectors[0]))
            answerable.append(not question.is_impossible)
            key = question.document_id if name == "squad20" else question.id
            hold.append(held_out(key))
            top_dense.append(evidence.passages[0].dense_score or 0.0 if evidence.passages else 0.0)
            if number % 200 == 0:
                print(f"{name}: {number}/{len(questions)} questions", file=sys.stderr)
    return Collected(
        np.array(rows),
        np.array(labels, dtype=float),
        np.array(owner),
        np.array(dense),
        np.array(answerable),
        np.array(hold),
        np.array(top_dense),
    )


def _answers(question, sentence, kind: str, shares_half_words) -> bool:  # type: ignore[no-untyped-def]
    doc = sentence.passage.document_id
    if kind == "squad":
        return any(
            g.document_id == doc and sentence.start <= g.start <= g.end <= sentence.end for g in question.answers
        )
    return any(g.document_id == doc and shares_half_words(sentence.text, g.text) for g in question.answers)


def fit(rows: np.ndarray, labels: np.ndarray, names: tuple[str, ...], l2: float = 1e-3) -> LinearModel:
    mean = rows.mean(axis=0)
    scale = rows.std(axis=0) + 1e-6
    x = (rows - mean) / scale
    weights = np.zeros(x.shape[1])
    bias = 0.0
    positive = labels.mean()
    sample = np.where(labels > 0, 0.5 / max(positive, 1e-6), 0.5 / max(1 - positive, 1e-6))  # balanced classes
    for _ in range(3000):
        p = 1 / (1 + np.exp(-(x @ weights + bias)))
        gradient = sample * (p - labels)
        weights -= 0.5 * (x.T @ gradient / len(labels) + l2 * weights)
        bias -= 0.5 * gradient.mean()
    return LinearModel(names, mean, scale, weights, float(bias))


def fit_listwise(
    rows: np.ndarray, labels: np.ndarray, groups: np.ndarray, names: tuple[str, ...], l2: float = 1e-3
) -> LinearModel:
    """A linear scorer trained to put a sentence that answers first among its question's sentences (softmax over
    each question's sentences; the loss is minus the log of the probability given to the answering ones)."""
    mean, scale = rows.mean(axis=0), rows.std(axis=0) + 1e-6
    x = (rows - mean) / scale
    _, group = np.unique(groups, return_inverse=True)
    count = group.max() + 1
    weights = np.zeros(x.shape[1])
    for _ in range(1500):
        scores = x @ weights
        exp = np.exp(scores - scores.max())
        total = np.bincount(group, exp, count)
        p = exp / total[group]
        positive_total = np.bincount(group, exp * labels, count)
        q = np.where(labels > 0, exp / np.maximum(positive_total[group], 1e-300), 0.0)
        gradient = x.T @ (p - q) / count + l2 * weights
        weights -= 1.0 * gradient
    # Platt scaling: a slope and a bias that make the ranking scores calibrated probabilities of answering (the
    # softmax fixes the order, not the level), so that "within 0.2 of the best" means the same for every question
    scores = x @ weights
    slope, bias = 1.0, 0.0
    for _ in range(3000):
        p = 1 / (1 + np.exp(-(slope * scores + bias)))
        slope -= 0.5 * float(np.mean((p - labels) * scores))
        bias -= 0.5 * float(np.mean(p - labels))
    return LinearModel(names, mean, scale, weights * slope, bias)


def fit_hidden(rows: np.ndarray, labels: np.ndarray, names: tuple[str, ...], hidden: int = 12) -> LinearModel:
    """A logistic model with one tanh hidden layer, trained full-batch with Adam (balanced classes, L2)."""
    generator = np.random.default_rng(0)
    mean, scale = rows.mean(axis=0), rows.std(axis=0) + 1e-6
    x = (rows - mean) / scale
    params = [
        generator.normal(0, 1 / np.sqrt(x.shape[1]), (x.shape[1], hidden)),
        np.zeros(hidden),
        generator.normal(0, 1 / np.sqrt(hidden), hidden),
        np.zeros(1),
    ]
    moments = [np.zeros_like(p) for p in params]
    squares = [np.zeros_like(p) for p in params]
    positive = labels.mean()
    sample = np.where(labels > 0, 0.5 / max(positive, 1e-6), 0.5 / max(1 - positive, 1e-6)) / len(labels)
    for step in range(1, 2001):
        h = np.tanh(x @ params[0] + params[1])
        p = 1 / (1 + np.exp(-(h @ params[2] + params[3][0])))
        delta = sample * (p - labels)
        dh = np.outer(delta, params[2]) * (1 - h**2)
        grads = [x.T @ dh + 1e-4 * params[0], dh.sum(axis=0), h.T @ delta + 1e-4 * params[2], np.array([delta.sum()])]
        for i, grad in enumerate(grads):
            moments[i] = 0.9 * moments[i] + 0.1 * grad
            squares[i] = 0.999 * squares[i] + 0.001 * grad**2
            params[i] -= 0.01 * (moments[i] / (1 - 0.9**step)) / (np.sqrt(squares[i] / (1 - 0.999**step)) + 1e-8)
    return LinearModel(names, mean, scale, params[2], float(params[3][0]), params[0], params[1])


def decisions(data: Collected, sentence_model: LinearModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per question: decision features, whether its best sentence (by the sentence model) answers, answerable."""
    logits = sentence_model.logit(data.rows)
    features, best_right = [], []
    for number in range(len(data.answerable)):
        mine = np.flatnonzero(data.question == number)
        if len(mine) == 0:
            features.append(np.zeros(len(DECISION_FEATURES)))
            best_right.append(False)
            continue
        order = mine[np.argsort(-logits[mine])]
        second = logits[order[1]] if len(order) > 1 else logits[order[0]] - 5
        top3 = order[:3]
        features.append(
            decision_features(
                logits[order[0]], second, data.rows[order[0]], float(data.dense[top3].max()), data.top_dense[number]
            )
        )
        best_right.append(bool(data.labels[order[0]]))
    return np.array(features), np.array(best_right), data.answerable


def baseline(data: Collected) -> tuple[np.ndarray, np.ndarray]:
    """What the word-coverage ranking did: its best sentence (the first of each question's rows) and its decision
    (the higher of the top three sentences' meaning match and the best coverage, against 0.48)."""
    right, keep = [], []
    for number in range(len(data.answerable)):
        mine = np.flatnonzero(data.question == number)
        if len(mine) == 0:
            right.append(False)
            keep.append(False)
            continue
        right.append(bool(data.labels[mine[0]]))
        keep.append(max(float(data.dense[mine[:3]].max()), float(data.rows[mine[0], 0])) >= 0.48)
    return np.array(right), np.array(keep)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--collect", action="store_true", help="gather the features again (else use the cache)")
    parser.add_argument("--limit", type=int, default=None, help="questions per set")
    parser.add_argument("--answered", type=float, default=ANSWERED_TARGET, help="share of answerable kept")
    parser.add_argument("--listwise", action="store_true", help="train the sentence model to rank (softmax)")
    parser.add_argument("--hidden", type=int, default=12, help="hidden units of the models (0: logistic regression)")
    args = parser.parse_args(argv)
    CACHE.mkdir(parents=True, exist_ok=True)
    sets: dict[str, Collected] = {}
    for name in SETS:
        path = CACHE / f"{name}.npz"
        if args.collect or not path.exists():
            collected = collect(name, args.limit)
            np.savez(path, **collected.__dict__)
        sets[name] = Collected(**dict(np.load(path)))
    print(f"load {load()}", file=sys.stderr)

    def train_rows(data: Collected) -> np.ndarray:
        answerable_questions = np.flatnonzero(data.answerable & ~data.held_out)
        return np.isin(data.question, answerable_questions)

    rows = np.vstack([d.rows[train_rows(d)] for d in sets.values()])
    labels = np.concatenate([d.labels[train_rows(d)] for d in sets.values()])

    def train(rows: np.ndarray, labels: np.ndarray, names: tuple[str, ...]) -> LinearModel:
        return fit_hidden(rows, labels, names, args.hidden) if args.hidden else fit(rows, labels, names)

    if args.listwise:
        owners = np.concatenate([d.question[train_rows(d)] + 1_000_000 * i for i, d in enumerate(sets.values())])
        sentence_model = fit_listwise(rows, labels, owners, SENTENCE_FEATURES)
    else:
        sentence_model = train(rows, labels, SENTENCE_FEATURES)
    decision_rows, decision_labels = [], []
    for data in sets.values():
        features, _, answerable = decisions(data, sentence_model)
        decision_rows.append(features[~data.held_out])
        decision_labels.append(answerable[~data.held_out])
    decision_model = train(np.vstack(decision_rows), np.concatenate(decision_labels).astype(float), DECISION_FEATURES)
    # the threshold keeps ANSWERED_TARGET of every set's answerable training questions, not only on average
    threshold = min(
        float(np.quantile(decision_model.logit(r)[a.astype(bool)], 1 - args.answered))
        for r, a in zip(decision_rows, decision_labels, strict=True)
    )
    report = {}
    for name, data in sets.items():
        features, right, answerable = decisions(data, sentence_model)
        keep = decision_model.logit(features) >= threshold
        before_right, before_keep = baseline(data)
        for part, mask in (("train", ~data.held_out), ("held_out", data.held_out)):
            a, u = mask & answerable, mask & ~answerable
            report[f"{name} {part}"] = {
                "questions": int(mask.sum()),
                "best sentence answers (answerable)": f"{before_right[a].mean():.3f} -> {right[a].mean():.3f}",
                "answerable answered": f"{before_keep[a].mean():.3f} -> {keep[a].mean():.3f}",
                "unanswerable declined": f"{(~before_keep[u]).mean():.3f} -> {(~keep[u]).mean():.3f}"
                if u.any()
                else None,
            }
    print(json.dumps(report, indent=2))
    WEIGHTS_FILE.write_text(
        json.dumps(
            {
                "sentence": sentence_model.to_json(),
                "decision": decision_model.to_json(),
                "threshold": round(threshold, 6),
                "trained_on": "even halves of SQuAD 2.0 dev half (by article) and ClapNQ dev (by question)",
            },
            indent=1,
        )
        + "\n"
    )
    print(f"wrote {WEIGHTS_FILE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
