"""Uploads get safe names, stay inside their folder, respect the size limit, and can be rolled back."""

import os

import pytest

from ui.uploads import UploadRejected, check_upload, safe_filename, save_upload


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\windows\\evil.md", "evil.md"),
        ("/abs/path/notes.TXT", "notes.TXT"),
        ("..", "upload"),
        ("...txt", "txt"),
        ("", "upload"),
        ("a\x00b\x1fc\u202e.txt", "abc.txt"),
        ("we<ir>d:na|me?.html", "we_ir_d_na_me_.html"),
        ("  spaced   name  .docx", "spaced name.docx"),
        ("a..b.txt", "a.b.txt"),
        ("CON.txt", "_CON.txt"),
        (".hidden.md", "hidden.md"),
        ("résumé.md", "résumé.md"),
    ],
)
def test_safe_filename(given, expected):
    assert safe_filename(given) == expected


def test_safe_filename_is_never_a_path_and_keeps_extension_when_truncated():
    name = safe_filename("x" * 500 + ".pdf")
    assert name.endswith(".pdf") and len(name) <= 120
    for weird in ["../x", "a/../../b.txt", "\\\\server\\share\\c.md", "./.", "/"]:
        safe = safe_filename(weird)
        assert "/" not in safe and "\\" not in safe and safe not in (".", "..") and not safe.startswith(".")


def test_check_upload_uses_the_index_rules():
    assert check_upload("a.txt", 10, 100) == "a.txt"
    with pytest.raises(UploadRejected, match="unsupported file type '.exe'"):
        check_upload("tool.exe", 10, 100)
    with pytest.raises(UploadRejected, match=r"unsupported file type \(no extension\)"):
        check_upload("README", 10, 100)
    with pytest.raises(UploadRejected, match="over the 100 bytes limit"):
        check_upload("big.txt", 101, 100)
    with pytest.raises(UploadRejected, match="file is empty"):
        check_upload("empty.txt", 0, 100)


def test_save_upload_writes_inside_the_folder(tmp_path):
    folder = tmp_path / "uploads"
    saved = save_upload(folder, "../../escape.txt", b"hello", 100)
    assert saved.path == folder.resolve() / "escape.txt"
    assert saved.path.read_bytes() == b"hello"
    assert not (tmp_path / "escape.txt").exists()
    assert sorted(p.name for p in folder.iterdir()) == ["escape.txt"]  # no temporary files left


def test_save_upload_rejects_too_big_without_writing(tmp_path):
    with pytest.raises(UploadRejected):
        save_upload(tmp_path / "up", "big.txt", b"x" * 11, 10)
    assert not (tmp_path / "up").exists() or not any((tmp_path / "up").iterdir())


def test_replacing_a_file_can_be_rolled_back_or_kept(tmp_path):
    first = save_upload(tmp_path, "doc.md", b"one", 100)
    first.keep()
    second = save_upload(tmp_path, "doc.md", b"two", 100)
    assert second.path.read_bytes() == b"two"
    second.discard()
    assert first.path.read_bytes() == b"one"
    third = save_upload(tmp_path, "doc.md", b"three", 100)
    third.keep()
    assert third.path.read_bytes() == b"three"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["doc.md"]


def test_a_link_in_the_folder_is_replaced_not_followed(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("secret")
    folder = tmp_path / "uploads"
    folder.mkdir()
    os.symlink(outside, folder / "doc.txt")
    saved = save_upload(folder, "doc.txt", b"new", 100)
    assert outside.read_text() == "secret"
    assert not saved.path.is_symlink() and saved.path.read_bytes() == b"new"
