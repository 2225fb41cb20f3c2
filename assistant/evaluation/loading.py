"""Which reader a path needs: `.jsonl` is ClapNQ, any other file SQuAD JSON; a folder holds the files to read."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from assistant.evaluation.clapnq import load_clapnq
from assistant.evaluation.questions import EvalSet, merge_sets
from assistant.evaluation.squad import load_squad

EVAL_SUFFIXES = (".jsonl", ".json")


def eval_files(paths: Sequence[str | Path]) -> list[Path]:
    """The files the paths name: a file as it is, a folder's .jsonl and .json files (not its sub-folders)."""
    if not paths:
        raise ValueError("no evaluation file given")
    files: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in EVAL_SUFFIXES)
            if not found:
                raise ValueError(f"{path}: the folder holds no .jsonl (ClapNQ) or .json (SQuAD) file")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise ValueError(f"{path}: no such file or folder")
    return list(dict.fromkeys(files))


def load_eval_set(paths: str | Path | Sequence[str | Path]) -> EvalSet:
    """Read every named file (or folder) into one corpus; all of them must be of one format."""
    given = [paths] if isinstance(paths, (str, Path)) else list(paths)
    sets = [load_clapnq(path) if path.suffix.lower() == ".jsonl" else load_squad(path) for path in eval_files(given)]
    merged = merge_sets(sets)
    if len(given) == 1 and Path(given[0]).is_dir():
        return EvalSet(Path(given[0]).resolve().name, merged.documents, merged.questions, merged.kind)
    return merged
