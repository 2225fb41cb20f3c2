"""Tests for index.loaders: every format, every encoding, every way a file can be bad."""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

import docx
import pytest
from helpers import make_pdf
from pypdf import PdfReader, PdfWriter

from index import html_text, loaders
from index.errors import LoadError
from index.formats import SUPPORTED_EXTENSIONS
from index.loaders import load_document


def write(path: Path, data: bytes | str) -> Path:
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def load_error(path: Path, **kwargs: object) -> LoadError:
    with pytest.raises(LoadError) as caught:
        load_document(path, **kwargs)  # type: ignore[arg-type]
    error = caught.value
    assert str(error).startswith(f"{error.source}: ")
    assert error.source.endswith(path.name)
    return error


def encrypted_pdf(user_password: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf([["Secret text"]]))))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


# --- plain text and encodings ---

ACCENTED = "Café crème brûlée – naïve façade, “quoted” résumé; les élèves à l'école.\n"


def test_utf8_text_keeps_content_and_uses_resolved_source(tmp_path: Path) -> None:
    path = write(tmp_path / "notes.txt", "Hello wörld ✓ 😀\nSecond line\n")
    doc = load_document(path)
    assert doc.text == "Hello wörld ✓ 😀\nSecond line\n", "the decoded file, exactly"
    assert (doc.file_type, doc.encoding) == ("text", "utf-8")
    assert doc.title == "notes.txt"
    assert doc.source == str(path.resolve())
    assert doc.pages == ()


def test_explicit_source_is_used(tmp_path: Path) -> None:
    doc = load_document(write(tmp_path / "a.txt", "text"), source="upload:a.txt")
    assert doc.source == "upload:a.txt"


def test_utf8_bom_is_removed(tmp_path: Path) -> None:
    data = b"\xef\xbb\xbfWith BOM \xc3\xa9"
    doc = load_document(write(tmp_path / "bom.txt", data))
    assert doc.text == "With BOM é" == data.decode(doc.encoding)


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1"])
def test_legacy_western_encodings(tmp_path: Path, encoding: str) -> None:
    text = ACCENTED if encoding == "cp1252" else "Café au lait, déjà vu, Größe.\n"
    doc = load_document(write(tmp_path / "legacy.txt", text.encode(encoding)))
    assert doc.text == text and doc.encoding == "cp1252"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_with_bom(tmp_path: Path, encoding: str) -> None:
    data = "Wide text: ünïcödé ✓".encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    doc = load_document(write(tmp_path / "wide.txt", data))
    assert doc.text == "Wide text: ünïcödé ✓" == data.decode(doc.encoding)


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom(tmp_path: Path, encoding: str) -> None:
    text = "No byte order mark here.\nStill UTF-16, with café and ½."
    doc = load_document(write(tmp_path / "wide.txt", text.encode(encoding)))
    assert doc.text == text and doc.encoding == encoding


def test_shift_jis(tmp_path: Path) -> None:
    text = "日本語のテキストです。これはテストの文章で、文字コードはシフトJISです。"
    doc = load_document(write(tmp_path / "jp.txt", text.encode("shift_jis")))
    assert doc.text == text


def test_newlines_whitespace_and_blank_lines_are_kept_as_in_the_file(tmp_path: Path) -> None:
    data = b"  one  \r\ntwo\rthree\t \n\n\n\n\nfour\x0c\xc2\xa0five\xe2\x80\xa8six\n\n"
    doc = load_document(write(tmp_path / "lines.txt", data))
    assert doc.text == data.decode("utf-8") == "  one  \r\ntwo\rthree\t \n\n\n\n\nfour\x0c\xa0five\u2028six\n\n"


def test_markdown_is_kept_as_written(tmp_path: Path) -> None:
    source = "# Title\n\nSome **bold** text and a [link](http://x.y).\n\n- item\n"
    doc = load_document(write(tmp_path / "readme.md", source))
    assert doc.text == source
    assert doc.title == "readme.md"


def test_a_text_file_with_nul_bytes_is_refused_rather_than_shifted(tmp_path: Path) -> None:
    error = load_error(write(tmp_path / "nul.txt", b"plain text\x00 with a NUL" * 20))
    assert error.reason == "holds 20 NUL characters (byte 0), which a quote cannot keep"


def test_random_bytes_are_binary(tmp_path: Path) -> None:
    data = random.Random(0).randbytes(4096)
    error = load_error(write(tmp_path / "random.txt", data))
    assert error.reason == "looks like a binary file, not text"


def test_many_nul_bytes_outside_utf16_are_binary(tmp_path: Path) -> None:
    error = load_error(write(tmp_path / "nuls.txt", b"\x00\x00\x00 text \x00\x00 here\x00" * 50))
    assert error.reason == "looks like a binary file, not text"


def test_control_characters_are_binary(tmp_path: Path) -> None:
    error = load_error(write(tmp_path / "ctl.md", b"ab\x01\x02\x03cd\x04\x05" * 100))
    assert "binary" in error.reason


def test_undecodable_bytes(tmp_path: Path) -> None:
    error = load_error(write(tmp_path / "odd.txt", bytes(range(0x80, 0x100)) * 10))
    assert error.reason == "could not decode the text (unknown encoding)"


def test_broken_bom_text_is_undecodable(tmp_path: Path) -> None:
    error = load_error(write(tmp_path / "bad.txt", b"\xef\xbb\xbfok \xff\xfe\xfa"))
    assert "could not decode" in error.reason


# --- HTML ---

HOSTILE_HTML = """<!DOCTYPE html><html><head><title> My  Page </title>
<style>body { color: red }</style><script>alert(1)</script></head>
<body><h1>Heading</h1><p>First <b>bold</b> para &amp; a &lt; b.</p>
<img src=x onerror="alert(2)"><script type="text/javascript">document.write('<p>x</p>')</script>
<noscript>enable js</noscript><template><p>hidden</p></template>
<div>Line one<br>Line two</div><ul><li>item 1</li><li>item 2</li></ul>
<table><tr><td>c1</td><td>c2</td></tr></table><!-- a comment -->
<svg><title>icon</title><text>svg text</text></svg><pre>  keep   spaces</pre></body></html>"""


def test_html_visible_text_only(tmp_path: Path) -> None:
    doc = load_document(write(tmp_path / "page.html", HOSTILE_HTML))
    assert doc.title == "My Page"
    assert doc.text == (
        "Heading\n\nFirst bold para & a < b.\n\nLine one\nLine two\n\nitem 1\nitem 2\n\nc1 | c2\n\n  keep   spaces"
    )
    for leaked in ("<script", "alert", "onerror", "enable js", "hidden", "comment", "svg"):
        assert leaked not in doc.text


def test_html_without_title_uses_stem(tmp_path: Path) -> None:
    doc = load_document(write(tmp_path / "plain.htm", "<p>Only body</p>"))
    assert (doc.title, doc.text) == ("plain", "Only body")


def test_svg_title_is_not_the_page_title(tmp_path: Path) -> None:
    doc = load_document(write(tmp_path / "icons.html", "<svg><title>icon</title></svg><p>Body</p>"))
    assert (doc.title, doc.text) == ("icons", "Body")


def test_html_parser_fallback_without_lxml(monkeypatch: pytest.MonkeyPatch) -> None:
    real = html_text.BeautifulSoup

    def no_lxml(markup: str, parser: str) -> object:
        if parser == "lxml":
            raise html_text.FeatureNotFound(parser)
        return real(markup, parser)

    monkeypatch.setattr(html_text, "BeautifulSoup", no_lxml)
    assert html_text.html_to_text(HOSTILE_HTML)[1].startswith("Heading\n\nFirst bold para")


def test_html_declared_charset(tmp_path: Path) -> None:
    markup = '<html><head><meta charset="windows-1252"></head><body><p>Déjà – vu</p></body></html>'
    doc = load_document(write(tmp_path / "legacy.html", markup.encode("cp1252")))
    assert doc.text == "Déjà – vu"


def test_deeply_nested_html(tmp_path: Path) -> None:
    markup = "<html><body>" + "<div>" * 100_000 + "deep text" + "</div>" * 100_000
    markup += "<script>alert(1)</script><p>after</p></body></html>"
    doc = load_document(write(tmp_path / "deep.html", markup))
    assert doc.text.split() == ["deep", "text", "after"]


def test_html_regex_fallback_on_recursion_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args, **kwargs):
        raise RecursionError  # as BeautifulSoup does on markup nested too deep for it

    monkeypatch.setattr(html_text, "BeautifulSoup", explode)
    title, text = html_text.html_to_text(HOSTILE_HTML)
    assert title == "My Page"
    assert "<" not in text.replace("a < b", "")
    for leaked in ("alert", "onerror", "enable js", "hidden", "icon"):
        assert leaked not in text
    assert "First bold para & a < b." in text
    assert "Line one\nLine two" in text


def test_html_with_only_scripts_has_no_text(tmp_path: Path) -> None:
    error = load_error(write(tmp_path / "empty.html", "<script>alert(1)</script>"))
    assert error.reason == "no text could be extracted"


# --- PDF ---


def test_pdf_pages_and_spans(tmp_path: Path) -> None:
    pages = [["Page one first line", "second line"], [], ["Page three text"]]
    doc = load_document(write(tmp_path / "doc.pdf", make_pdf(pages)))
    assert doc.title == "doc.pdf"
    assert [page.number for page in doc.pages] == [1, 3]
    first, third = doc.pages
    assert doc.text[first.start : first.end] == "Page one first line\nsecond line"
    assert doc.text[third.start : third.end] == "Page three text"
    assert doc.text == "Page one first line\nsecond line\n\nPage three text"
    assert doc.page_at(doc.text.index("three")) == 3


def test_truncated_pdf(tmp_path: Path) -> None:
    data = make_pdf([["Hello"], ["World"]])
    error = load_error(write(tmp_path / "cut.pdf", data[: len(data) // 2]))
    assert error.reason.startswith("could not read the PDF: ")


def test_encrypted_pdf(tmp_path: Path) -> None:
    error = load_error(write(tmp_path / "locked.pdf", encrypted_pdf("secret")))
    assert error.reason == "the PDF is encrypted"


def test_pdf_encrypted_with_blank_user_password_opens(tmp_path: Path) -> None:
    doc = load_document(write(tmp_path / "owner-only.pdf", encrypted_pdf("")))
    assert doc.text == "Secret text"


def test_pdf_of_blank_pages(tmp_path: Path) -> None:
    error = load_error(write(tmp_path / "blank.pdf", make_pdf([[], []])))
    assert error.reason == "no text could be extracted (all 2 pages are blank)"


# --- DOCX ---


def test_docx_paragraphs_and_tables(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("First paragraph.")
    document.add_paragraph("")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).merge(table.cell(0, 1)).text = "Merged header"
    table.cell(1, 0).text = "left"
    table.cell(1, 1).text = "right"
    document.add_paragraph("After the table.")
    path = tmp_path / "report.docx"
    document.save(str(path))
    doc = load_document(path)
    assert doc.title == "report.docx"
    assert doc.text == "First paragraph.\n\nMerged header\nleft | right\n\nAfter the table."


def test_docx_zip_bomb_is_refused_before_it_is_unpacked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "bomb.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            block = bytes(1_000_000)
            for _ in range(300):
                member.write(block)

    def unpacked(*args, **kwargs):
        raise AssertionError("the archive was unpacked")

    monkeypatch.setattr(zipfile.ZipFile, "open", unpacked)  # python-docx reads every part through it
    error = load_error(path)
    assert error.reason.startswith("the .docx expands to 300.0 MB")
    assert error.reason.endswith("(looks like a zip bomb)")


def test_docx_high_compression_ratio_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ratio.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", bytes(20_000_000))
    error = load_error(path)
    assert "looks like a zip bomb" in error.reason


@pytest.mark.parametrize("kind", ["not-a-zip", "zip-without-docx"])
def test_invalid_docx(tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"{kind}.docx"
    if kind == "not-a-zip":
        write(path, "just some text pretending to be a document")
    else:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("hello.txt", "hi")
    assert load_error(path).reason == "not a valid .docx file"


# --- file-level problems ---


def test_missing_file(tmp_path: Path) -> None:
    error = load_error(tmp_path / "gone.txt")
    assert error.reason == "file not found (it may have been moved or deleted)"


def test_folder_is_not_a_regular_file(tmp_path: Path) -> None:
    folder = tmp_path / "folder.txt"
    folder.mkdir()
    assert load_error(folder).reason.startswith("not a regular file")


def test_empty_file(tmp_path: Path) -> None:
    assert load_error(write(tmp_path / "empty.txt", b"")).reason == "file is empty"


def test_whitespace_only_file(tmp_path: Path) -> None:
    error = load_error(write(tmp_path / "blank.md", " \n\t\r\n   \n"))
    assert error.reason == "no text could be extracted"


def test_unsupported_extension(tmp_path: Path) -> None:
    error = load_error(write(tmp_path / "tool.xyz", "text"))
    assert error.reason.startswith("unsupported file type '.xyz' (supported: ")
    assert all(ext in error.reason for ext in SUPPORTED_EXTENSIONS)


def test_file_over_size_limit_is_refused_before_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "big.txt", "x" * 2_500_000)

    def no_reading(*args: object, **kwargs: object) -> None:
        raise AssertionError("the file was opened")

    monkeypatch.setattr(Path, "open", no_reading)
    error = load_error(path, max_bytes=1_000_000)
    assert error.reason == "file is 2.5 MB, over the 1.0 MB limit"


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "secret.txt", "text")

    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "open", denied)
    assert load_error(path).reason == "permission denied (cannot read the file)"


def test_unexpected_errors_are_wrapped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(data: bytes, declared: str | None = None) -> str:
        raise KeyError("surprise")

    monkeypatch.setattr(loaders, "decode_text", broken)
    error = load_error(write(tmp_path / "a.txt", "text"))
    assert error.reason == "unexpected error (KeyError: 'surprise')"


def test_symlink_loop_file(tmp_path: Path) -> None:
    link = tmp_path / "loop.txt"
    link.symlink_to(link)
    assert load_error(link).reason.startswith("could not read the file (")


def test_path_with_dot_dot_parts(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    write(tmp_path / "odd..name.txt", "dots")
    doc = load_document(tmp_path / "sub" / ".." / "odd..name.txt")
    assert doc.source == str((tmp_path / "odd..name.txt").resolve())
    assert ".." not in Path(doc.source).parts
    assert (doc.title, doc.text) == ("odd..name.txt", "dots")


def test_same_file_gives_same_identity(tmp_path: Path) -> None:
    path = write(tmp_path / "stable.txt", "same text")
    first, second = load_document(path), load_document(tmp_path / "." / "stable.txt")
    assert (first.id, first.sha256) == (second.id, second.sha256)
