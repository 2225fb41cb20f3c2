"""An experiment that did not ship (docs/quality.md, "The pair model"): the packaged MiniLM reading a question and a
sentence together ([CLS] question [SEP] sentence [SEP]) as a cross-encoder, its top layer and a scoring head trained
(or the head alone, --head-only), every other layer as packaged; its score mixed into the support models' sentence
ranking and decision by two small logistic combiners.

    python bench/train_pairs.py [--collect] [--limit N] [--epochs E]

Data and split as bench/train_support.py (licenses in ../shared/eval's README): SQuAD 2.0 dev half (CC BY-SA 4.0,
split by article) and ClapNQ dev (Apache-2.0, split by question); the even half trains, the odd half is held out,
XQuAD is never used. For each question the assistant gathers its evidence as it does when answering with the support
models on, and the best TOP_SENTENCES sentences by the sentence model become pairs, labelled as in
train_support.py. The states of the frozen layers are computed once; training the top layer then takes minutes on
2 cores. The report compares, on each half, the sentence model alone with the sentence model and the pair model.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from common import BENCH_DIR, load
from train_support import SETS, _answers, held_out

CACHE = BENCH_DIR / "pairs"
PAIR_SENTENCES = 8  # the sentence model's best sentences that the pair model would read when answering
MAX_SENTENCE_CHARS = 600  # a longer sentence is read up to here


@dataclass(frozen=True)
class Combiner:
    """A logit from two logits: first * a + second * b + bias."""

    first: float
    second: float
    bias: float

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return self.first * a + self.second * b + self.bias


@dataclass
class Pairs:
    questions: list[str]
    texts: list[str]  # one per pair
    owner: np.ndarray  # the question each pair belongs to
    rank: np.ndarray  # the pair's place in the sentence model's order
    linear: np.ndarray  # the sentence model's logit
    labels: np.ndarray
    evidence: np.ndarray  # per question: the decision model's probability
    answerable: np.ndarray
    held_out: np.ndarray

    def save(self, path: Path) -> None:
        arrays = {k: v for k, v in self.__dict__.items() if isinstance(v, np.ndarray)}
        np.savez(path.with_suffix(".npz"), **arrays)
        path.with_suffix(".json").write_text(json.dumps({"questions": self.questions, "texts": self.texts}))

    @classmethod
    def load(cls, path: Path) -> Pairs:
        texts = json.loads(path.with_suffix(".json").read_text())
        return cls(texts["questions"], texts["texts"], **dict(np.load(path.with_suffix(".npz"))))


def collect(name: str, limit: int | None) -> Pairs:
    from assistant import Assistant, Settings
    from assistant.evaluation.loading import load_eval_set
    from assistant.evaluation.metrics import shares_half_words
    from assistant.evaluation.questions import sample_questions
    from assistant.evaluation.runner import eval_settings

    data = load_eval_set(SETS[name])
    questions = sample_questions(data.questions, limit, 0)
    found = Pairs([], [], *([] for _ in range(7)))  # type: ignore[arg-type]
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings.from_env().with_changes(support_model=True)
        assistant = Assistant(eval_settings(settings, str(Path(folder) / "chroma")))
        assistant.index_documents(list(data.documents))
        for number, question in enumerate(questions):
            evidence = assistant.evidence(question.question)
            found.questions.append(question.question)
            for rank, sentence in enumerate(evidence.sentences[:TOP_SENTENCES]):
                found.texts.append(sentence.text)
                found.owner.append(number)  # type: ignore[attr-defined]
                found.rank.append(rank)  # type: ignore[attr-defined]
                p = min(max(sentence.score, 1e-6), 1 - 1e-6)
                found.linear.append(float(np.log(p / (1 - p))))  # type: ignore[attr-defined]
                found.labels.append(_answers(question, sentence, data.kind, shares_half_words))  # type: ignore[attr-defined]
            found.evidence.append(evidence.score)  # type: ignore[attr-defined]
            found.answerable.append(not question.is_impossible)  # type: ignore[attr-defined]
            found.held_out.append(held_out(question.document_id if name == "squad20" else question.id))  # type: ignore[attr-defined]
            if number % 200 == 0:
                print(f"{name}: {number}/{len(questions)} questions", file=sys.stderr)
    return Pairs(
        found.questions,
        found.texts,
        np.array(found.owner),
        np.array(found.rank),
        np.array(found.linear),
        np.array(found.labels, dtype=float),
        np.array(found.evidence),
        np.array(found.answerable),
        np.array(found.held_out),
    )


TOP_SENTENCES = 16  # pairs per question for training (at answer time, PAIR_SENTENCES are scored)


def frozen_states(encoder, pairs: Pairs, keep: np.ndarray) -> list:  # type: ignore[no-untyped-def]
    """For each kept pair, its token states below the top layer (bf16), and its token count."""
    import torch

    encoded = encoder.tokenizer.encode_batch(
        [(pairs.questions[pairs.owner[i]], pairs.texts[i][:MAX_SENTENCE_CHARS]) for i in np.flatnonzero(keep)]
    )
    states: list = [None] * len(encoded)
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i].ids))
    with torch.inference_mode():
        for first in range(0, len(order), 64):
            picked = order[first : first + 64]
            length = max(len(encoded[i].ids) for i in picked)
            ids = torch.zeros((len(picked), length), dtype=torch.long)
            mask = torch.zeros_like(ids)
            for row, i in enumerate(picked):
                ids[row, : len(encoded[i].ids)] = torch.tensor(encoded[i].ids)
                mask[row, : len(encoded[i].ids)] = 1
            x = encoder.apply_layers(encoder.embed_tokens(ids), mask, encoder.layers[:-1])
            for row, i in enumerate(picked):
                states[i] = x[row, : len(encoded[i].ids)].to(torch.bfloat16).clone()
            if first % 6400 == 0:
                print(f"frozen states: {first}/{len(order)}", file=sys.stderr)
    return states


def batch_of(states: list, picked: list[int]):  # type: ignore[no-untyped-def]
    import torch

    length = max(states[i].shape[0] for i in picked)
    x = torch.zeros((len(picked), length, states[picked[0]].shape[1]))
    mask = torch.zeros((len(picked), length), dtype=torch.long)
    for row, i in enumerate(picked):
        x[row, : states[i].shape[0]] = states[i].float()
        mask[row, : states[i].shape[0]] = 1
    return x, mask


def pair_logits(encoder, layer, head, states: list, indices: np.ndarray):  # type: ignore[no-untyped-def]
    import torch

    x, mask = batch_of(states, list(indices))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = encoder.apply_layers(x, mask, [layer])
    pooled = (out.float() * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
    return pooled @ head[0] + head[1]


def train_pairs(encoder, states: list, labels: np.ndarray, groups: np.ndarray, epochs: int, top: bool, rate: float):  # type: ignore[no-untyped-def]
    """The top layer (when `top`) and the head, trained on the pairs (BCE plus a listwise term per question)."""
    import torch

    layer = [t.detach().float().clone() for t in encoder.layers[-1]]
    if top:
        layer = [torch.nn.Parameter(t) for t in layer]
    head = [torch.nn.Parameter(torch.zeros(encoder.dimension)), torch.nn.Parameter(torch.zeros(1))]
    groups_list = [np.flatnonzero(groups == g) for g in np.unique(groups)]
    parameters = [{"params": head, "lr": 1e-3}] + ([{"params": layer, "lr": rate}] if top else [])
    optimiser = torch.optim.AdamW(parameters, weight_decay=0.01)
    target = torch.tensor(labels, dtype=torch.float32)
    positive = max(float(labels.mean()), 1e-3)
    generator = np.random.default_rng(0)
    for epoch in range(epochs):
        generator.shuffle(groups_list)
        total = 0.0
        for first in range(0, len(groups_list), 8):
            chunk = groups_list[first : first + 8]
            indices = np.concatenate(chunk)
            logits = pair_logits(encoder, layer, head, states, indices)
            y = target[indices]
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                logits, y, pos_weight=torch.tensor((1 - positive) / positive) ** 0.5
            )
            offset = 0
            for members in chunk:
                part, part_y = logits[offset : offset + len(members)], y[offset : offset + len(members)]
                offset += len(members)
                if part_y.sum() > 0:
                    loss = loss - 0.5 / len(chunk) * (torch.logsumexp(part[part_y > 0], 0) - torch.logsumexp(part, 0))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += float(loss.detach())
            if first % 400 == 0:
                print(
                    f"epoch {epoch}: {first}/{len(groups_list)} questions, loss {total / (first // 8 + 1):.4f}",
                    file=sys.stderr,
                )
    return [t.detach() for t in layer], [t.detach() for t in head]


def scores_of(encoder, layer, head, states: list, count: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    import torch

    out = np.empty(count)
    with torch.inference_mode():
        for first in range(0, count, 128):
            indices = np.arange(first, min(first + 128, count))
            out[indices] = pair_logits(encoder, layer, head, states, indices).float().numpy()
    return out


def fit_logistic(x: np.ndarray, y: np.ndarray, steps: int = 4000) -> np.ndarray:
    """Plain logistic regression on raw features (weights..., bias), unweighted so that it stays calibrated."""
    mean, scale = x.mean(0), x.std(0) + 1e-6
    z = (x - mean) / scale
    w, b = np.zeros(x.shape[1]), 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(z @ w + b)))
        w -= 0.5 * (z.T @ (p - y) / len(y) + 1e-4 * w)
        b -= 0.5 * float(np.mean(p - y))
    raw = w / scale
    return np.array([*raw, b - float(raw @ mean)])


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--collect", action="store_true", help="gather the pairs again (else use the cache)")
    parser.add_argument("--limit", type=int, default=None, help="questions per set")
    parser.add_argument("--only-collect", action="store_true")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--rate", type=float, default=1e-4, help="learning rate of the top layer")
    parser.add_argument("--head-only", action="store_true", help="train the head alone, the top layer as packaged")
    parser.add_argument("--answered", type=float, default=0.97, help="share of answerable questions kept")
    args = parser.parse_args(argv)
    CACHE.mkdir(parents=True, exist_ok=True)
    sets: dict[str, Pairs] = {}
    for name in SETS:
        path = CACHE / name
        if args.collect or not path.with_suffix(".npz").exists():
            collect(name, args.limit).save(path)
        sets[name] = Pairs.load(path)
    print(f"load {load()}; pairs: { ({k: len(v.texts) for k, v in sets.items()}) }", file=sys.stderr)
    if args.only_collect:
        return 0
    import torch

    from index.embedding import Embedder, EmbedderSettings

    torch.manual_seed(0)
    # bf16 as when answering; the fused oneDNN linear has no gradient, the plain one gives the same states
    encoder = Embedder(EmbedderSettings(precision="bfloat16", fused=False)).encoder
    generator = np.random.default_rng(1)
    parts = {}
    for name, data in sets.items():
        # training questions: 80% train the pair model, 20% fit the combiners and the threshold
        count = len(data.answerable)
        calibrate = ~data.held_out & (generator.random(count) < 0.2)
        keep = data.rank < PAIR_SENTENCES
        states = frozen_states(encoder, data, keep)
        parts[name] = (data, keep, calibrate, states)
    all_states, all_labels, all_groups = [], [], []
    for offset, (data, keep, calibrate, states) in enumerate(parts.values()):
        owner = data.owner[keep]
        # unanswerable questions too: their sentences are the near misses the pair model must learn to refuse
        train = ~data.held_out[owner] & ~calibrate[owner]
        all_states += [s for s, t in zip(states, train, strict=True) if t]
        all_labels.append(data.labels[keep][train])
        all_groups.append(owner[train] + 1_000_000 * offset)
    layer, head = train_pairs(
        encoder,
        all_states,
        np.concatenate(all_labels),
        np.concatenate(all_groups),
        args.epochs,
        not args.head_only,
        args.rate,
    )
    sentence_x, sentence_y, decision_x, decision_y = [], [], [], []
    scored = {}
    for name, (data, keep, calibrate, states) in parts.items():
        pair = scores_of(encoder, layer, head, states, len(states))
        owner = data.owner[keep]
        linear, labels = data.linear[keep], data.labels[keep]
        best = np.full(len(data.answerable), -20.0)
        np.maximum.at(best, owner, pair)
        scored[name] = (pair, owner, linear, labels, best)
        in_calibration = calibrate[owner] & data.answerable[owner]
        sentence_x.append(np.column_stack([linear, pair])[in_calibration])
        sentence_y.append(labels[in_calibration])
        decision_x.append(np.column_stack([logit(data.evidence), best])[calibrate])
        decision_y.append(data.answerable[calibrate].astype(float))
    sentence = Combiner(*fit_logistic(np.vstack(sentence_x), np.concatenate(sentence_y)))
    decision = Combiner(*fit_logistic(np.vstack(decision_x), np.concatenate(decision_y)))
    threshold = min(
        float(np.quantile(decision(x[:, 0], x[:, 1])[y > 0], 1 - args.answered))
        for x, y in zip(decision_x, decision_y, strict=True)
    )
    old_threshold = min(
        float(np.quantile(x[:, 0][y > 0], 1 - args.answered)) for x, y in zip(decision_x, decision_y, strict=True)
    )
    report = {"sentence combiner": sentence.__dict__, "decision combiner": decision.__dict__, "threshold": threshold}
    for name, (data, _keep, calibrate, _) in parts.items():
        pair, owner, linear, labels, best = scored[name]
        combined = sentence(linear, pair)
        before_right = np.zeros(len(data.answerable), dtype=bool)
        after_right = np.zeros(len(data.answerable), dtype=bool)
        for q in range(len(data.answerable)):
            mine = np.flatnonzero(owner == q)
            if len(mine):
                before_right[q] = labels[mine[np.argmax(linear[mine])]] > 0
                after_right[q] = labels[mine[np.argmax(combined[mine])]] > 0
        keep_before = logit(data.evidence) >= old_threshold
        keep_after = decision(logit(data.evidence), best) >= threshold
        for part, mask in (
            ("trained", ~data.held_out & ~calibrate),
            ("calibration", calibrate),
            ("held_out", data.held_out),
        ):
            a, u = mask & data.answerable, mask & ~data.answerable
            report[f"{name} {part}"] = {
                "questions": int(mask.sum()),
                "best sentence answers": f"{before_right[a].mean():.3f} -> {after_right[a].mean():.3f}",
                "answerable answered": f"{keep_before[a].mean():.3f} -> {keep_after[a].mean():.3f}",
                "unanswerable declined": f"{(~keep_before[u]).mean():.3f} -> {(~keep_after[u]).mean():.3f}",
            }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
