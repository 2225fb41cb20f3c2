"""The shape of the code: layers (ui -> assistant -> index), no import cycles, small modules, library modules that
leave the process alone when imported, and a CLI that is not confused by a user's own index.py or ui.py."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

from helpers import ROOT, SEEDS

PACKAGES = ("assistant", "index", "ui")
LAYER = {"index": 0, "assistant": 1, "ui": 2}  # a module may import its own layer and those below
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    """Every module of the packages, by dotted name (a package by its name, from its __init__.py)."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _imports(path: Path, name: str, modules: dict[str, Path]) -> set[str]:
    """The project modules `path` imports anywhere: at the top, inside functions, under TYPE_CHECKING.
    (The packages use absolute imports only: a relative one fails here.)"""
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert not node.level, f"{path}: relative import"
            base = node.module or ""
            targets.update(
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names
            )
    return {target for target in targets if target in modules and target != name}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, name, modules) for name, path in modules.items()}


def test_layers_only_import_downwards():
    wrong = [
        f"{name} imports {target}"
        for name, targets in _graph().items()
        for target in targets
        if LAYER[target.split(".")[0]] > LAYER[name.split(".")[0]]
    ]
    assert not wrong, wrong


def test_no_two_modules_import_each_other_even_indirectly():
    graph = _graph()
    cycles = []
    for start in graph:  # a path from a module back to itself
        stack, seen = [(start, [start])], set()
        while stack:
            name, path = stack.pop()
            for target in graph[name]:
                if target == start:
                    cycles.append(" -> ".join([*path, start]))
                elif target not in seen:
                    seen.add(target)
                    stack.append((target, [*path, target]))
    assert not cycles, cycles[:5]


def test_the_graph_sees_imports_inside_functions():
    graph = _graph()
    assert "assistant.llm" in graph["assistant.core"], "choose_answerer imports it inside a function"
    assert "assistant.evaluation.command" in graph["assistant.cli"]


def test_every_module_is_under_400_lines():
    folders = [*PACKAGES, "bench", "tests"]
    long = {
        str(path.relative_to(ROOT)): lines
        for folder in folders
        for path in (ROOT / folder).rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, long


def _python(code: str, cwd: Path | None = None) -> dict:
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("ASSISTANT_", "OMP_"))}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd or ROOT, env=environment, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def _libraries_imported_at_the_top(paths: list[Path]) -> list[str]:
    """Third-party modules the given files import at module level (what they change is theirs, not ours)."""
    names = set()
    for path in paths:
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
    return sorted(name for name in names if name.split(".")[0] not in (*PACKAGES, "__future__"))


def test_importing_the_library_changes_nothing_in_the_process():
    modules = {name: path for name, path in _modules().items() if not name.startswith("ui")}
    code = f"""
import importlib, json, logging, os, warnings
for name in {_libraries_imported_at_the_top(list(modules.values()))!r}:
    importlib.import_module(name)
before = (dict(os.environ), len(warnings.filters))
levels = {{name: logging.getLogger(name).level for name in ("pdfminer", "bs4", "chromadb", "")}}
for name in {sorted(modules)!r}:
    importlib.import_module(name)
after = (dict(os.environ), len(warnings.filters))
print(json.dumps({{
    "environment": sorted(set(after[0].items()) ^ set(before[0].items())),
    "warning filters added": after[1] - before[1],
    "levels changed": [n for n, level in levels.items() if logging.getLogger(n).level != level],
}}))
"""
    changed = _python(code)
    assert changed == {"environment": [], "warning filters added": 0, "levels changed": []}


def test_indexing_and_asking_from_python_loads_no_ui_library(tmp_path):
    code = f"""
import json, sys
from assistant import Assistant, Settings
assistant = Assistant(Settings(index_path={str(tmp_path / "index")!r}))
assistant.index_paths([{str(SEEDS)!r}])
answer = assistant.ask("Where did the NATO foreign ministers meet?")
print(json.dumps({{"answered": answer.answered, "loaded": sorted(
    name for name in ("streamlit", "matplotlib", "bm25s") if name in sys.modules)}}))
"""
    assert _python(code) == {"answered": True, "loaded": []}


def test_the_cli_ignores_a_users_own_index_and_ui_modules(tmp_path, make_assistant, minilm):
    make_assistant(minilm).index_paths([SEEDS])  # the index the command reads, made here to save a process
    for name in ("index.py", "ui.py", "assistant.py"):
        (tmp_path / name).write_text(f"raise SystemExit('the user\\'s own {name} was imported')\n")
    command = [str(Path(sys.executable).with_name("assistant")), "--index", str(tmp_path / "index")]
    environment = {key: value for key, value in os.environ.items() if not key.startswith("ASSISTANT_")}
    question = ["ask", "Where did the NATO foreign ministers meet?", "--json"]
    result = subprocess.run([*command, *question], cwd=tmp_path, env=environment, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-500:]
    assert json.loads(result.stdout)["answered"] is True


def test_the_command_lets_idle_openmp_threads_sleep(tmp_path):
    code = f"""
import contextlib, io, json, os, sys
from assistant.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    main(["--index", {str(tmp_path / "index")!r}, "sources"])
print(json.dumps({{"policy": os.environ.get("OMP_WAIT_POLICY"), "torch loaded": "torch" in sys.modules}}))
"""
    assert _python(code) == {"policy": "PASSIVE", "torch loaded": False}
