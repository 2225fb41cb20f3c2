"""Tests for index.discovery: folder walking, symlinks, and named paths that cannot be used."""

from __future__ import annotations

import os
from pathlib import Path

from index.discovery import DiscoveredPath, discover_files


def touch(path: Path, text: str = "text") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def found(paths: list[Path], root: Path) -> list[str]:
    """Relative paths of the files discovered without problems."""
    results = list(discover_files(paths))
    assert all(not item.problem for item in results), results
    return [item.path.relative_to(root).as_posix() for item in results]


def test_walks_folders_recursively_in_sorted_order(tmp_path: Path) -> None:
    for name in ["b.txt", "a.md", "sub/z.pdf", "sub/deeper/c.html", "c.docx", "m/x.htm"]:
        touch(tmp_path / name)
    assert found([tmp_path], tmp_path) == [
        "a.md",
        "b.txt",
        "c.docx",
        "m/x.htm",
        "sub/z.pdf",
        "sub/deeper/c.html",
    ]
    assert list(discover_files([tmp_path])) == list(discover_files([tmp_path]))


def test_skips_hidden_junk_and_unsupported_inside_folders(tmp_path: Path) -> None:
    touch(tmp_path / "keep.txt")
    touch(tmp_path / ".hidden.txt")
    touch(tmp_path / ".secret" / "inside.txt")
    touch(tmp_path / ".git" / "HEAD.txt")
    touch(tmp_path / "__pycache__" / "cached.txt")
    touch(tmp_path / "node_modules" / "pkg" / "README.md")
    touch(tmp_path / "program.exe")
    touch(tmp_path / "archive.ZIP")
    touch(tmp_path / "photo.JPG")  # images are read with OCR; the extension's case does not matter
    touch(tmp_path / "UPPER.TXT")
    assert found([tmp_path], tmp_path) == ["UPPER.TXT", "keep.txt", "photo.JPG"]


def test_named_files_with_problems(tmp_path: Path) -> None:
    good = touch(tmp_path / "good.txt")
    exe = touch(tmp_path / "tool.exe")
    missing = tmp_path / "missing.txt"
    results = list(discover_files([good, exe, missing]))
    assert results[0] == DiscoveredPath(good)
    assert results[1].path == exe
    assert results[1].problem.startswith("unsupported file type '.exe'")
    assert results[2] == DiscoveredPath(missing, "no such file or folder")


def test_named_hidden_file_is_accepted(tmp_path: Path) -> None:
    hidden = touch(tmp_path / ".notes.md")
    assert list(discover_files([hidden])) == [DiscoveredPath(hidden)]


def test_symlink_loop_does_not_loop(tmp_path: Path) -> None:
    touch(tmp_path / "docs" / "a.txt")
    (tmp_path / "docs" / "loop").symlink_to(tmp_path / "docs", target_is_directory=True)
    (tmp_path / "docs" / "self").symlink_to(tmp_path / "docs" / "self")
    assert found([tmp_path / "docs"], tmp_path) == ["docs/a.txt"]


def test_mutual_symlink_loop(tmp_path: Path) -> None:
    touch(tmp_path / "one" / "a.txt")
    touch(tmp_path / "two" / "b.txt")
    (tmp_path / "one" / "to-two").symlink_to(tmp_path / "two")
    (tmp_path / "two" / "to-one").symlink_to(tmp_path / "one")
    # "two" is first reached through the link inside "one"; each folder is walked once.
    assert found([tmp_path], tmp_path) == ["one/a.txt", "one/to-two/b.txt"]


def test_follows_symlinks_to_files_once(tmp_path: Path) -> None:
    target = touch(tmp_path / "real" / "doc.txt")
    (tmp_path / "links").mkdir()
    (tmp_path / "links" / "alias.md").symlink_to(target)
    (tmp_path / "links" / "dangling.txt").symlink_to(tmp_path / "nowhere.txt")
    assert found([tmp_path / "links"], tmp_path) == ["links/alias.md"]
    # Reachable twice (link and real file): yielded only the first time.
    assert found([tmp_path / "links", tmp_path / "real"], tmp_path) == ["links/alias.md"]


def test_named_broken_symlink(tmp_path: Path) -> None:
    link = tmp_path / "broken.txt"
    link.symlink_to(tmp_path / "absent.txt")
    [result] = discover_files([link])
    assert result.path == link and "broken link" in result.problem


def test_overlapping_arguments_yield_each_file_once(tmp_path: Path) -> None:
    touch(tmp_path / "a.txt")
    touch(tmp_path / "sub" / "b.txt")
    paths = [tmp_path, tmp_path / "sub", tmp_path / "a.txt"]
    assert found(paths, tmp_path) == ["a.txt", "sub/b.txt"]


def test_dot_dot_parts_in_named_paths(tmp_path: Path) -> None:
    touch(tmp_path / "docs" / "a.txt")
    (tmp_path / "other").mkdir()
    results = list(discover_files([tmp_path / "other" / ".." / "docs"]))
    assert [item.path.name for item in results] == ["a.txt"]
    assert results[0].path.resolve() == (tmp_path / "docs" / "a.txt").resolve()


def test_unreadable_folder_is_reported(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    touch(locked / "a.txt")
    locked.chmod(0)
    try:
        results = list(discover_files([tmp_path]))
        if os.access(locked, os.R_OK):  # running as root: permissions are not enforced
            assert [item.path.name for item in results] == ["a.txt"]
        else:
            assert results == [DiscoveredPath(locked, "could not read the folder (Permission denied)")]
    finally:
        locked.chmod(0o755)


def test_accepts_plain_strings_as_paths(tmp_path: Path) -> None:
    touch(tmp_path / "a.txt")
    [result] = discover_files([str(tmp_path)])  # type: ignore[list-item]
    assert result == DiscoveredPath(tmp_path / "a.txt")
