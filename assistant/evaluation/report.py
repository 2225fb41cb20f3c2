"""Present an evaluation run: a text table, JSON, per-question JSONL and a PNG plot."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from assistant.evaluation.results import (
    GROUPS,
    K_VALUES,
    GroupMetrics,
    QuestionResult,
    by_answer_type,
    summarize,
    tradeoff,
)
from assistant.evaluation.runner import EvalRun
from assistant.wording import plural

_Row = tuple[str, str, Callable[[GroupMetrics], Any], str]
_ROWS: list[_Row] = [
    *[("" if k > 1 else "retrieval", f"gold span in top-{k}", lambda g, k=k: g.hit_at.get(k), "pct") for k in K_VALUES],
    ("", "MRR@10", lambda g: g.mrr, "num"),
    ("answer", "exact match", lambda g: g.exact_match, "pct"),
    ("", "token F1", lambda g: g.f1, "pct"),
    ("", "quotes hold a gold answer", lambda g: g.quote_has_gold, "pct"),
    ("", "mean words per answer", lambda g: g.answer_words, "num"),
    ("citations", "count", lambda g: g.citations, "int"),
    ("", "verbatim", lambda g: g.citations_verbatim, "pct"),
    ("", "overlap the gold span", lambda g: g.citations_overlap_gold, "pct"),
    ("declining", "unanswerable declined", lambda g: g.unanswerable_declined, "pct"),
    ("", "answerable wrongly declined", lambda g: g.answerable_declined, "pct"),
    ("", "answered with weak support", lambda g: g.weak_support, "pct"),
    ("time", "latency p50 (s)", lambda g: g.latency_p50, "sec"),
    ("", "latency p95 (s)", lambda g: g.latency_p95, "sec"),
]
_CLAPNQ_ROWS: list[_Row] = [
    *[
        ("" if k > 1 else "retrieval", f"gold sentence in top-{k}", lambda g, k=k: g.hit_at.get(k), "pct")
        for k in K_VALUES
    ],
    ("", "MRR@10", lambda g: g.mrr, "num"),
    ("answer", "hit (quote ~ gold sentence)", lambda g: g.quote_has_gold, "pct"),
    ("", "answered", lambda g: None if g.answerable_declined is None else 1 - g.answerable_declined, "pct"),
    ("", "mean words per answer", lambda g: g.answer_words, "num"),
    ("citations", "count", lambda g: g.citations, "int"),
    ("", "verbatim", lambda g: g.citations_verbatim, "pct"),
    ("", "overlap a gold sentence", lambda g: g.citations_overlap_gold, "pct"),
    ("declining", "unanswerable declined", lambda g: g.unanswerable_declined, "pct"),
    ("", "answered with weak support", lambda g: g.weak_support, "pct"),
    ("time", "latency p50 (s)", lambda g: g.latency_p50, "sec"),
    ("", "latency p95 (s)", lambda g: g.latency_p95, "sec"),
]
ANSWER_TYPE_LABELS = {
    "date": "when (a date or time)",
    "number": "how many / much (a number)",
    "person": "who (a person or body)",
    "place": "where (a place)",
    "other": "other",
}
CLAPNQ_HIT_RULE = (
    "hit: the answer cites a quote that shares at least half of the words of the shorter of it and a gold "
    "evidence sentence (words: lower-cased \\w+, compared as sets)"
)


def _cell(value: Any, kind: str) -> str:
    if value is None:
        return "-"
    return {"pct": f"{100 * value:.1f}%", "num": f"{value:.3f}", "int": str(value), "sec": f"{value:.3f}"}[kind]


def format_table(run: EvalRun) -> str:
    """A readable summary table, one column per question group."""
    groups = summarize(run.results)
    lines = [
        f"{run.system} on {run.name}: {plural(groups['overall'].questions, 'question')} "
        f"({groups['answerable'].questions} answerable, {groups['unanswerable'].questions} unanswerable)",
        f"indexed {plural(run.documents, 'document')} into {plural(run.chunks, 'chunk')} "
        f"in {run.indexing_seconds:.1f}s",
    ]
    if run.variant:
        lines.append(f"documents {run.variant}")
    if run.skipped:
        lines.append(
            f"skipped {plural(len(run.skipped), 'document')} that could not be indexed "
            f"({plural(sum(s.questions for s in run.skipped), 'question')} not asked)"
        )
    lines += ["", f"{'':11}{'':30}" + "".join(f"{name:>14}" for name in GROUPS)]
    for section, label, getter, kind in _CLAPNQ_ROWS if run.kind == "clapnq" else _ROWS:
        cells = "".join(f"{_cell(getter(groups[name]), kind):>14}" for name in GROUPS)
        lines.append(f"{section:11}{label:30}{cells}")
    lines += ["", *format_answer_types(run)]
    if run.kind == "clapnq":
        lines += ["", CLAPNQ_HIT_RULE]
    return "\n".join(lines)


def format_answer_types(run: EvalRun) -> list[str]:
    """Per kind of wanted answer: questions, answerable ones, and the shares of those whose quotes hold such an
    answer (`assistant.answer_types`) and a gold answer (ClapNQ: a hit)."""
    gold = "hit" if run.kind == "clapnq" else "quotes hold gold"
    lines = [f"{'wanted answer':30}{'questions':>11}{'answerable':>11}{'quotes hold one':>17}{gold:>18}"]
    for answer_type, group in by_answer_type(run.results).items():
        lines.append(
            f"{ANSWER_TYPE_LABELS[answer_type]:30}{group.questions:>11}{group.answerable:>11}"
            f"{_cell(group.quote_has_answer_type, 'pct'):>17}{_cell(group.quote_has_gold, 'pct'):>18}"
        )
    return lines


def to_json(run: EvalRun) -> dict[str, Any]:
    """The run's summary as JSON-ready data (per-question results are left to the JSONL)."""
    groups = {}
    summary = summarize(run.results)
    for name, group in summary.items():
        data = asdict(group)
        data["hit_at"] = {str(k): v for k, v in group.hit_at.items()}
        groups[name] = data
    return {
        "name": run.name,
        "system": run.system,
        "file": run.file,
        "documents": run.documents,
        "chunks": run.chunks,
        "indexing_seconds": run.indexing_seconds,
        "decline_threshold": run.decline_threshold,
        "config": run.config,
        "format": run.kind,
        "variant": run.variant,
        "skipped_documents": [asdict(skipped) for skipped in run.skipped],
        "skipped_questions": sum(skipped.questions for skipped in run.skipped),
        **({"headline": clapnq_headline(summary)} if run.kind == "clapnq" else {}),
        "groups": groups,
        "answer_types": {name: asdict(group) for name, group in by_answer_type(run.results).items()},
    }


def clapnq_headline(groups: dict[str, GroupMetrics]) -> dict[str, float | None]:
    """The figures ClapNQ is read by: hit and answered rates of answerable questions, unanswerable declined."""
    answerable, unanswerable = groups["answerable"], groups["unanswerable"]
    declined = answerable.answerable_declined
    return {
        "answerable_hit": answerable.quote_has_gold,
        "answerable_answered": None if declined is None else 1 - declined,
        "unanswerable_declined": unanswerable.unanswerable_declined,
        "retrieval_hit_at_5": answerable.hit_at.get(5),
        "latency_p50": groups["overall"].latency_p50,
        "latency_p95": groups["overall"].latency_p95,
    }


def result_record(result: QuestionResult) -> dict[str, Any]:
    """One question's outcome as a JSON-ready record."""
    record = asdict(result)
    record["hit"] = result.hit
    return record


def write_outputs(run: EvalRun, out_dir: str | Path) -> list[Path]:
    """Write results.jsonl, summary.json and eval.png under `out_dir`; returns the paths written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    results_path, summary_path, plot_path = out / "results.jsonl", out / "summary.json", out / "eval.png"
    with results_path.open("w", encoding="utf-8") as handle:
        for result in run.results:
            handle.write(json.dumps(result_record(result), ensure_ascii=False) + "\n")
    summary_path.write_text(json.dumps(to_json(run), indent=2) + "\n", encoding="utf-8")
    if importlib.util.find_spec("matplotlib") is None:
        print(f"{plot_path.name} not written: the plot needs pip install 'quote-assistant[plot]'", file=sys.stderr)
        return [results_path, summary_path]
    write_plot(run, plot_path)
    return [results_path, summary_path, plot_path]


def write_plot(run: EvalRun, path: Path) -> None:
    """Recall at k of the answerable questions, and the decline trade-off over the evidence threshold."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ranks = [r.gold_rank for r in run.results if not r.is_impossible]
    ks = list(range(1, 11))
    recall = [sum(1 for rank in ranks if rank is not None and rank <= k) / max(len(ranks), 1) for k in ks]
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(ks, recall, marker="o")
    gold = "Gold sentence" if run.kind == "clapnq" else "Gold span"
    left.set(title=f"{gold} in top-k passages", xlabel="k", ylabel="share of answerable questions", ylim=(0, 1))
    left.grid(alpha=0.3)
    _plot_tradeoff(right, run)
    right.grid(alpha=0.3)
    figure.suptitle(f"{run.system} on {run.name}")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _plot_tradeoff(axes, run: EvalRun) -> None:
    """Unanswerable declined vs answerable kept per threshold; answerable kept vs threshold when all answerable."""
    points = tradeoff(run.results)
    declined = [not r.answered for r in run.results if r.is_impossible]
    kept = [r.answered for r in run.results if not r.is_impossible]
    if declined and kept:
        axes.plot([p.unanswerable_declined for p in points], [p.answerable_kept for p in points])
        axes.plot([sum(declined) / len(declined)], [sum(kept) / len(kept)], "ro", label="current threshold")
        axes.set(xlabel="share of unanswerable declined", xlim=(0, 1))
    else:
        finite = [p for p in points if p.threshold != float("inf")]
        axes.plot([p.threshold for p in finite], [p.answerable_kept for p in finite])
        if run.decline_threshold is not None:
            axes.axvline(run.decline_threshold, color="red", linestyle="--", label="current threshold")
        axes.set(xlabel="evidence threshold (no unanswerable questions)")
    if axes.get_legend_handles_labels()[0]:
        axes.legend(loc="lower left")
    axes.set(title="Decline trade-off over the evidence threshold", ylabel="share of answerable kept", ylim=(0, 1.02))
