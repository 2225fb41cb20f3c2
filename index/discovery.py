"""Find the loadable files among the paths a person named, walking folders recursively."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from index.formats import SUPPORTED_EXTENSIONS, unsupported_type_reason

JUNK_DIRS = frozenset({"__pycache__", "node_modules", ".git"})
LINK_LOOP = "symbolic link loop (the link leads back to itself)"
SPECIAL_FILE = "not a regular file (a pipe, socket or device)"


@dataclass(frozen=True)
class DiscoveredPath:
    """A file to load, or a named path that cannot be loaded and why (`problem`)."""

    path: Path
    problem: str = ""


def discover_files(paths: Iterable[Path]) -> Iterator[DiscoveredPath]:
    """Yield each supported file once, in sorted order; report named paths that are unusable."""
    seen_dirs: set[str] = set()
    seen_files: set[str] = set()
    for given in paths:
        path = Path(given)
        if path.is_dir():
            yield from _walk(path, seen_dirs, seen_files)
        elif path.is_file():
            suffix = path.suffix.lower()
            if suffix not in SUPPORTED_EXTENSIONS:
                yield DiscoveredPath(path, unsupported_type_reason(suffix))
            elif _first_time(path, seen_files):
                yield DiscoveredPath(path)
        elif path.is_symlink():
            yield DiscoveredPath(path, _link_problem(path))
        elif path.exists():
            yield DiscoveredPath(path, "not a regular file or folder")
        else:
            yield DiscoveredPath(path, "no such file or folder")


def _link_problem(path: Path) -> str:
    if _loops(path):
        return LINK_LOOP
    return "broken link (its target does not exist)"


def _loops(path: Path) -> bool:
    try:
        os.stat(path)
    except OSError as error:
        return error.errno == errno.ELOOP
    return False


def _first_time(path: Path, seen: set[str]) -> bool:
    key = os.path.realpath(path)
    if key in seen:
        return False
    seen.add(key)
    return True


def _walk(root: Path, seen_dirs: set[str], seen_files: set[str]) -> Iterator[DiscoveredPath]:
    """Depth-first over `root`: a folder's files, then its subfolders, each sorted by name."""
    stack = [root]
    while stack:
        folder = stack.pop()
        # Resolved folders already walked are skipped: this is what stops symlink loops.
        if not _first_time(folder, seen_dirs):
            continue
        try:
            with os.scandir(folder) as scan:
                entries = sorted(scan, key=lambda entry: entry.name)
        except OSError as exc:
            yield DiscoveredPath(folder, f"could not read the folder ({exc.strerror or exc})")
            continue
        subfolders = []
        for entry in entries:
            if entry.name.startswith(".") or entry.name in JUNK_DIRS:
                continue
            path = Path(entry.path)
            try:
                is_dir, is_file = entry.is_dir(), entry.is_file()  # both follow symlinks
            except OSError:  # e.g. a symbolic link loop
                is_dir = is_file = False
            if is_dir:
                subfolders.append(path)
            elif path.suffix.lower() not in SUPPORTED_EXTENSIONS:
                continue
            elif is_file:
                if _first_time(path, seen_files):
                    yield DiscoveredPath(path)
            elif _loops(path) or not entry.is_symlink():  # a dangling link is skipped quietly
                yield DiscoveredPath(path, _link_problem(path) if entry.is_symlink() else SPECIAL_FILE)
        stack.extend(reversed(subfolders))
