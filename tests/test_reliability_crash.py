"""Crash safety: real indexing subprocesses SIGKILLed after a chosen write to Chroma and at random moments.

After each kill the index must answer questions and show only complete documents (each in its old or its new
version); the next run must end with exactly the records a clean run writes: no chunk lost, none duplicated.
"""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from helpers import write_earlier_layout
from reliability_support import (
    assert_answers_verbatim,
    assert_consistent,
    assert_same_records,
    change_corpus,
    clean_environment,
    cli_command,
    count_writes,
    fake_assistant,
    figure,
    normalized,
    run_cli,
    store_settings,
    write_corpus,
)

from index.chroma_client import close_connections
from index.store import ChunkStore

FILES = 9
QUESTION = "When was Project zeta3 approved by the council?"


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    """A corpus, the records of a clean first run over it, and how many writes that run makes."""
    work = tmp_path_factory.mktemp("crash-first")
    corpus = work / "corpus"
    write_corpus(corpus, FILES)
    reference = work / "reference"
    writes = count_writes("--index", str(reference), "index", str(corpus), cwd=work)
    expected = normalized(ChunkStore(store_settings(reference)))
    figure("first run: files / chunks / writes", f"{FILES} / {len(expected['chunks'])} / {writes}")
    close_connections()
    return work, corpus, writes, expected


@pytest.fixture(scope="module")
def update_run(tmp_path_factory):
    """An index of corpus v1; the corpus changed to v2 (appended, rewritten, deleted, new files); the records of a
    clean `index --prune` run of v2 over that index, its write count, and the versions each source may show."""
    work = tmp_path_factory.mktemp("crash-update")
    corpus = work / "corpus"
    write_corpus(corpus, FILES)
    base = work / "base"
    assert run_cli("--index", str(base), "index", str(corpus), cwd=work).returncode == 0
    allowed: dict[str, set[str]] = {}
    for document in ChunkStore(store_settings(base)).documents().values():
        allowed.setdefault(document.source, set()).add(document.sha256)
    close_connections()
    change_corpus(corpus, FILES)
    reference = work / "reference"
    shutil.copytree(base, reference)
    writes = count_writes("--index", str(reference), "index", "--prune", str(corpus), cwd=work)
    store = ChunkStore(store_settings(reference))
    for document in store.documents().values():
        allowed.setdefault(document.source, set()).add(document.sha256)
    expected = normalized(store)
    figure("update run: files / chunks / writes", f"{len(expected['manifest'])} / {len(expected['chunks'])} / {writes}")
    close_connections()
    return work, corpus, base, writes, expected, allowed


@pytest.fixture(scope="module")
def relayout_run(tmp_path_factory):
    """An index of the corpus rewritten as index format 3 laid it out (texts as metadata values); the records of a
    clean run over it (which moves the texts in place, 4 records per write), its write count; the records of the
    index before the rewrite, which that run must give back."""
    work = tmp_path_factory.mktemp("crash-relayout")
    corpus = work / "corpus"
    write_corpus(corpus, FILES)
    base = work / "base"
    assert run_cli("--index", str(base), "index", str(corpus), cwd=work).returncode == 0
    written = normalized(ChunkStore(store_settings(base)))
    close_connections()
    write_earlier_layout(base)
    reference = work / "reference"
    shutil.copytree(base, reference)
    writes = count_writes("--index", str(reference), "index", str(corpus), cwd=work, RELIABILITY_RELAYOUT_BATCH="4")
    expected = normalized(ChunkStore(store_settings(reference)))
    assert_same_records(expected, written)
    figure("relayout run: chunks / writes", f"{len(expected['chunks'])} / {writes}")
    close_connections()
    return work, corpus, base, writes, expected


def _check_after_kill(index: Path, allowed: dict[str, set[str]] | None) -> int:
    store = ChunkStore(store_settings(index))
    visible = assert_consistent(store, allowed)
    figure("after a kill: visible documents / writes in progress", f"{visible} / {len(store.pending_writes())}")
    if visible:
        assert_answers_verbatim(fake_assistant(index), QUESTION)
    return visible


def _resume_in_process(index: Path, corpus: Path, prune: bool) -> None:
    report = fake_assistant(index).index_paths([corpus], prune=prune)
    assert not report.failures, report.failures


def _assert_clean(index: Path, expected: dict) -> None:
    store = ChunkStore(store_settings(index))
    assert_same_records(normalized(store), expected)
    assert store.pending_writes() == []
    assert_consistent(store)


@pytest.mark.parametrize("point", ["first", "middle", "last"])
def test_a_first_run_killed_after_a_write_is_finished_by_the_next_run(first_run, tmp_path, point):
    work, corpus, writes, expected = first_run
    after = {"first": 1, "middle": writes // 2, "last": writes - 1}[point]
    index = tmp_path / "index"
    killed = run_cli("--index", str(index), "index", str(corpus), cwd=work, RELIABILITY_KILL_AFTER_WRITES=str(after))
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    _check_after_kill(index, None)
    _resume_in_process(index, corpus, prune=False)
    _assert_clean(index, expected)


# Per batch of changed documents the run makes 6 writes: journal entries, chunks, manifest (the commit), generation,
# deletion of the old versions, journal entries removed. Points 1-5 cut the first batch (it holds an appended file
# whose first chunks keep their ids) at each step; the others land in later batches, and in the prune at the end.
UPDATE_POINTS = [1, 2, 3, 4, 5, "half", "prune-3", "last-1"]


@pytest.mark.parametrize("point", UPDATE_POINTS)
def test_an_update_run_killed_after_a_write_is_finished_by_the_next_run(update_run, tmp_path, point):
    work, corpus, base, writes, expected, allowed = update_run
    named = {"half": writes // 2, "prune-3": writes - 3, "last-1": writes - 1}
    after = point if isinstance(point, int) else named[point]
    index = tmp_path / "index"
    shutil.copytree(base, index)
    killed = run_cli(
        "--index", str(index), "index", "--prune", str(corpus), cwd=work, RELIABILITY_KILL_AFTER_WRITES=str(after)
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert _check_after_kill(index, allowed) >= FILES - 1
    _resume_in_process(index, corpus, prune=True)
    _assert_clean(index, expected)


@pytest.mark.parametrize("point", ["first", "half", "last-1"])
def test_a_run_killed_while_moving_texts_in_place_is_finished_by_the_next_run(relayout_run, tmp_path, point):
    """Killed after a batch of records moved, or after the manifest records the new format (before the new
    generation): every document stays visible and complete, and the next run ends with the records of a clean one."""
    work, corpus, base, writes, expected = relayout_run
    after = {"first": 1, "half": writes // 2, "last-1": writes - 1}[point]
    index = tmp_path / "index"
    shutil.copytree(base, index)
    killed = run_cli(
        "--index",
        str(index),
        "index",
        str(corpus),
        cwd=work,
        RELIABILITY_KILL_AFTER_WRITES=str(after),
        RELIABILITY_RELAYOUT_BATCH="4",
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert _check_after_kill(index, None) == FILES
    _resume_in_process(index, corpus, prune=False)
    _assert_clean(index, expected)
    assert {document.index_format for document in ChunkStore(store_settings(index)).documents().values()} == {4}


def test_repeated_kills_then_the_same_command_completes(update_run, tmp_path):
    """Killed three times in a row (the later kills land in the repair of the earlier ones), then run to its end."""
    work, corpus, base, writes, expected, allowed = update_run
    index = tmp_path / "index"
    shutil.copytree(base, index)
    command = ("--index", str(index), "index", "--prune", str(corpus))
    for after in (8, 2, 5):
        killed = run_cli(*command, cwd=work, RELIABILITY_KILL_AFTER_WRITES=str(after))
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        _check_after_kill(index, allowed)
        close_connections()
    finished = run_cli(*command, cwd=work)
    assert finished.returncode == 0, finished.stderr
    _assert_clean(index, expected)


def test_kills_at_random_moments(update_run, tmp_path):
    """SIGKILL at a random moment: the run is held after a random write, then killed a random few milliseconds
    after it goes on (inside a Chroma call, between calls, while embedding); the next run of the same command, in
    a new process, completes it. A run that ends first waits at its exit, so every kill lands."""
    work, corpus, base, writes, expected, allowed = update_run
    rng = random.Random(20_241_125)
    landed_mid_run = 0
    for attempt in range(3):
        index = tmp_path / f"index-{attempt}"
        shutil.copytree(base, index)
        command = ("--index", str(index), "index", "--prune", str(corpus))
        after = rng.randrange(1, writes)
        hooks = clean_environment(RELIABILITY_PAUSE_AT_WRITES=str(after), RELIABILITY_HOLD_AT_EXIT="1")
        process = subprocess.Popen(
            cli_command(*command),
            cwd=work,
            env=hooks,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert process.stdin is not None and process.stdout is not None
        assert process.stdout.readline().strip() == f"paused after {after} writes"
        process.stdin.write("go\n")
        process.stdin.flush()
        time.sleep(rng.uniform(0, 0.05))  # where the kill lands is random; that it lands is not
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        landed_mid_run += "done" not in process.stdout.read()
        _check_after_kill(index, allowed)
        close_connections()
        finished = run_cli(*command, cwd=work)
        assert finished.returncode == 0, finished.stderr
        _assert_clean(index, expected)
        close_connections()
    figure("random-time kills that landed before the run's end", f"{landed_mid_run} of 3")
