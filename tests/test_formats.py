"""Every format through one path: detection by content, a parser per format, and the shared structure step.

Real files from real tools: Markdown and HTML written here, DOCX written with python-docx, and the bundled
report converted to HTML, DOCX and PDF with LibreOffice (those tests need ``soffice``; .ci/run installs it).
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from assistant.corpus.load import document_from
from assistant.corpus.manifest import Entry
from assistant.corpus.structure import recover, row_text
from assistant.errors import DocumentError
from assistant.evaluation.variants import compare_structure, make_variants, soffice
from assistant.formats.base import detect, formats, parse_bytes

from .conftest import CORPUS

needs_libreoffice = pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) is not installed; .ci/run installs it")

HTML = """<!DOCTYPE html><html><head><title>Community Transport Review</title>
<meta name="author" content="Fenwick Research"><meta name="date" content="2024-05-01">
<script>alert("never runs")</script><style>p{color:red}</style></head>
<body><nav>Home | About</nav>
<h1>1 Introduction</h1><p>Dial-a-ride carried 1.2 million passengers<sup><a href="#fn1" id="fnref1">1</a></sup> in 2023.</p>
<h2>1.1 Scope</h2><ol><li>Rural routes<ul><li>Market towns</li></ul></li><li>Urban routes</li></ol>
<table><thead><tr><th>Scheme</th><th>Trips</th><th>Share of all trips</th></tr></thead>
<tbody><tr><td>Dial-a-ride</td><td>400,000</td><td>33%</td></tr></tbody></table>
<p onclick="steal()">Ordinary text <a href="javascript:alert(1)">link</a>.</p>
<section class="footnotes"><ol><li id="fn1">Department for Transport statistics, 2024. <a href="#fnref1">↩</a></li></ol></section>
</body></html>"""


def _blocks(data: bytes, name: str):  # type: ignore[no-untyped-def]
    kind, parsed = parse_bytes(data, name)
    return kind, parsed, recover(parsed)


def test_every_format_has_a_parser_in_the_registry() -> None:
    assert set(formats()) >= {"pdf", "docx", "html", "markdown", "text"}


@pytest.mark.parametrize(
    ("data", "name", "kind"),
    [
        (b"%PDF-1.7\n...", "report.bin", "pdf"),
        (HTML.encode(), "page.txt", "html"),
        (b"# Title\n\nText with a [^1] note.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n[^1]: The note.\n", "notes.txt", "markdown"),
        (b"Plain words in a file called .pdf but holding text.", "fake.pdf", "text"),
    ],
)
def test_the_format_is_told_by_content_not_by_name(data: bytes, name: str, kind: str) -> None:
    assert detect(data, name) == kind


@pytest.mark.parametrize(
    ("data", "reason"),
    [(b"", "empty"), (b"PK\x03\x04not a real zip", "not a PDF, Word"), (bytes(range(256)) * 8, "binary|not UTF-8")],
)
def test_what_is_not_a_document_is_refused_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(DocumentError, match=reason):
        parse_bytes(data, "thing.docx")


def test_html_headings_lists_tables_and_footnotes_and_no_scripts() -> None:
    kind, parsed, blocks = _blocks(HTML.encode(), "review.html")
    assert kind == "html"
    assert parsed.metadata.title == "Community Transport Review" and parsed.metadata.authors == "Fenwick Research"
    text = " ".join(b.text for b in blocks)
    assert "alert" not in text and "steal" not in text and "color:red" not in text and "Home | About" not in text
    headings = [(b.text, b.level) for b in blocks if b.kind == "heading"]
    assert ("1 Introduction", 1) in headings and ("1.1 Scope", 2) in headings
    bullets = [(b.text, b.level) for b in blocks if b.kind == "bullet"]
    assert ("1. Rural routes", 1) in bullets and ("Market towns", 2) in bullets and ("2. Urban routes", 1) in bullets
    row = next(b for b in blocks if b.kind == "row")
    assert row.header == ("Scheme", "Trips", "Share of all trips") and "Dial-a-ride" in row.text and "400,000" in row.text
    para = next(b for b in blocks if b.text.startswith("Dial-a-ride carried"))
    assert para.footnotes == (1,) and para.text == "Dial-a-ride carried 1.2 million passengers in 2023."
    assert parsed.footnotes == {1: "Department for Transport statistics, 2024."}
    assert any(b.kind == "footnote" and b.text.startswith("Footnote 1:") for b in blocks)


def test_markdown_front_matter_footnotes_and_tables() -> None:
    md = b"---\ntitle: Library Review\nauthor: Calloway Hurst\ndate: 2025-03-14\n---\n\n# Findings\n\nVisits rose by 12%[^1].\n\n## Money\n\n| Source | 2024 |\n|---|---|\n| Council | 9,400 |\n\n<script>x()</script>\n\n[^1]: Trust annual report.\n"
    kind, parsed, blocks = _blocks(md, "review.md")
    assert kind == "markdown" and parsed.metadata.title == "Library Review" and parsed.metadata.authors == "Calloway Hurst"
    assert [(b.text, len(b.section)) for b in blocks if b.kind == "heading"][:2] == [("Findings", 1), ("Money", 2)]
    assert next(b for b in blocks if b.kind == "row").text == "Source: Council; 2024: 9,400" or "Council: 9,400" in " ".join(
        b.text for b in blocks
    )
    assert parsed.footnotes == {1: "Trust annual report."}


def test_docx_heading_styles_lists_and_table_header() -> None:
    import docx

    document = docx.Document()
    document.core_properties.title = "Housing First Evaluation"
    document.core_properties.author = "Corbel Institute"
    document.add_heading("2 Methods", level=1)
    document.add_heading("2.1 Data", level=2)
    document.add_paragraph("We linked records from five councils.")
    document.add_paragraph("Interviews", style="List Bullet")
    table = document.add_table(rows=2, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Source", "Records"
    for cell in table.rows[0].cells:
        for run in cell.paragraphs[0].runs:
            run.bold = True
    table.rows[1].cells[0].text, table.rows[1].cells[1].text = "Councils", "1,240"
    buffer = io.BytesIO()
    document.save(buffer)
    kind, parsed, blocks = _blocks(buffer.getvalue(), "evaluation.docx")
    assert (
        kind == "docx" and parsed.metadata.title == "Housing First Evaluation" and parsed.metadata.authors == "Corbel Institute"
    )
    assert [(b.text, len(b.section)) for b in blocks if b.kind == "heading"] == [("2 Methods", 1), ("2.1 Data", 2)]
    assert any(b.kind == "bullet" and b.text == "Interviews" for b in blocks)
    row = next(b for b in blocks if b.kind == "row")
    assert row.header == ("Source", "Records") and row.text == "Councils: 1,240"


def test_a_zip_bomb_dressed_as_docx_is_refused_before_unpacking(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "bomb.docx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            chunk = b"\0" * (1 << 20)
            for _ in range(400):
                member.write(chunk)
    with pytest.raises(DocumentError, match="zip bomb"):
        parse_bytes(path.read_bytes(), path.name)


def test_rows_read_as_sentences() -> None:
    assert row_text(("OCS", "2.1. Continue the programme as a valuable initiative.", "Key priority")) == (
        "OCS, Key priority: 2.1. Continue the programme as a valuable initiative."
    )
    assert row_text(("Includes less costly initiatives", "Might not reach everyone who needs it"), ()) == (
        "Includes less costly initiatives: Might not reach everyone who needs it"
    )
    assert row_text(
        ("Allows quality to be kept high", "Costly to run at a distance", "Strong local leaders"),
        ("Advantages", "Disadvantages", "Key success factors"),
    ) == (
        "Advantages: Allows quality to be kept high; Disadvantages: Costly to run at a distance; Key success factors: Strong local leaders"
    )


@pytest.fixture(scope="module")
def report():  # type: ignore[no-untyped-def]
    from assistant.corpus.load import load_documents

    return next(d for d in load_documents(CORPUS).documents if d.id == "report")


@pytest.fixture(scope="module")
def variants(report, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    if soffice() is None:
        pytest.skip("LibreOffice (soffice) is not installed; .ci/run installs it")
    return make_variants(report, tmp_path_factory.mktemp("variants"))


@pytest.mark.slow
@needs_libreoffice
@pytest.mark.parametrize("fmt", ["html", "docx", "pdf"])
def test_the_report_converted_by_libreoffice_keeps_its_structure(report, variants, fmt: str) -> None:  # type: ignore[no-untyped-def]
    path = variants[fmt]
    kind, parsed, blocks = _blocks(path.read_bytes(), path.name)
    assert kind == fmt
    match = compare_structure(list(report.blocks), report.footnotes, blocks, parsed.footnotes)
    assert match.heading_share >= 0.95, match
    assert match.footnotes_found == match.footnotes, match
    assert match.rows_found == match.rows, match


@pytest.mark.slow
@needs_libreoffice
def test_a_pdf_report_is_cited_by_page(variants) -> None:  # type: ignore[no-untyped-def]
    path = variants["pdf"]
    kind, parsed = parse_bytes(path.read_bytes(), path.name)
    doc = document_from(Entry(id="report-pdf", file=path.name), kind, parsed, "0" * 64)
    assert doc.pages > 20
    paged = [b for b in doc.blocks if b.kind in ("para", "bullet", "row")]
    assert all(b.page >= 1 for b in paged)
    assert [b.page for b in paged] == sorted(b.page for b in paged)
    assert any("Footnote 1:" in b.text and b.page >= 1 for b in doc.blocks if b.kind == "footnote")


@pytest.mark.slow
@needs_libreoffice
def test_running_headers_footers_and_page_numbers_are_not_text(tmp_path: Path) -> None:
    import docx
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    from assistant.evaluation.variants import convert

    document = docx.Document()
    section = document.sections[0]
    section.header.paragraphs[0].text = "Eastvale Transport Review — draft for consultation"
    footer = section.footer.paragraphs[0]
    footer.text = "Page "
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    footer.add_run()._r.append(field)
    for chapter in range(1, 5):
        document.add_heading(f"Chapter {chapter}", level=1)
        for n in range(14):
            document.add_paragraph(
                f"Paragraph {n} of chapter {chapter} describes how the scheme served riders in the county, " * 3
            )
    source = tmp_path / "review.docx"
    document.save(str(source))
    pdf = convert(source, "pdf", tmp_path)
    kind, parsed, blocks = _blocks(pdf.read_bytes(), pdf.name)
    assert kind == "pdf" and parsed.pages >= 4
    text = "\n".join(b.text for b in blocks)
    assert "draft for consultation" not in text
    assert not any(b.text.strip().startswith("Page ") and len(b.text) < 12 for b in blocks)
    assert [b.text for b in blocks if b.kind == "heading"] == [f"Chapter {n}" for n in range(1, 5)]
