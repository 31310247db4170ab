"""The same report in other formats, made by real tools, to check that every format path reads it alike.

``write_html`` renders a cleaned document as a plain HTML report (headings h1–h6 by level, lists, tables with
a header row and ruling lines, footnotes in LibreOffice's convention so that they become real footnotes);
LibreOffice then converts that to DOCX (heading styles, Word footnotes, Word tables) and the DOCX to PDF
(footnotes at the page foot, pages, headings by size). ``compare_structure`` measures how much of the
original's structure a parse of a variant kept.
"""

from __future__ import annotations

import html
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from assistant.corpus.document import Block, Document
from assistant.corpus.headings import key
from assistant.errors import AssistantError

FORMATS = ("html", "docx", "pdf")


class VariantError(AssistantError):
    """A variant cannot be made here (LibreOffice missing or failing)."""


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def _anchor(n: int) -> str:
    return f'<a class="sdfootnoteanc" name="sdfootnote{n}anc" href="#sdfootnote{n}sym"><sup>{n}</sup></a>'


def _cells(cells: tuple[str, ...], tag: str) -> str:
    return "<tr>" + "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in cells) + "</tr>"


def write_html(doc: Document) -> str:
    """The document as an HTML report LibreOffice reads faithfully."""
    out = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(doc.title)}</title>",
        f'<meta name="author" content="{html.escape(doc.authors)}"><meta name="date" content="{html.escape(doc.date)}">',
        "</head><body>",
    ]
    blocks = [b for b in doc.blocks if b.kind != "footnote" and not (b.kind == "title" and b.text == "Footnotes")]
    i = 0
    while i < len(blocks):
        block = blocks[i]
        refs = "".join(_anchor(n) for n in block.footnotes)
        text = html.escape(block.text)
        if block.kind == "title":
            out.append(f'<p style="font-size:20pt"><b>{text}</b></p>')
        elif block.kind == "heading":
            level = min(6, max(1, block.level))
            brk = ' style="page-break-before: always"' if level == 1 else ""
            out.append(f"<h{level}{brk}>{text}{refs}</h{level}>")
        elif block.kind == "bullet":
            items = []
            while i < len(blocks) and blocks[i].kind == "bullet":
                b = blocks[i]
                items.append(f"<li>{html.escape(b.text)}{''.join(_anchor(n) for n in b.footnotes)}</li>")
                i += 1
            out.append("<ul>" + "".join(items) + "</ul>")
            continue
        elif block.kind == "row":
            table, rows = block.table, []
            header = block.header
            while i < len(blocks) and blocks[i].kind == "row" and blocks[i].table == table:
                b = blocks[i]
                cells = tuple(html.escape(c) for c in b.cells)
                notes = "".join(_anchor(n) for n in b.footnotes)
                rows.append(
                    "<tr>" + "".join(f"<td>{c}</td>" for c in cells[:-1]) + f"<td>{cells[-1] if cells else ''}{notes}</td></tr>"
                )
                i += 1
            head = f"<thead>{_cells(header, 'th')}</thead>" if header else ""
            out.append(f'<table border="1" cellpadding="4" cellspacing="0">{head}<tbody>{"".join(rows)}</tbody></table>')
            continue
        elif block.kind == "quote":
            out.append(f"<blockquote><p>{text}{refs}</p></blockquote>")
        else:
            out.append(f"<p>{text}{refs}</p>")
        i += 1
    for n, note in sorted(doc.footnotes.items()):
        out.append(
            f'<div id="sdfootnote{n}"><p class="sdfootnote"><a class="sdfootnotesym" name="sdfootnote{n}sym" '
            f'href="#sdfootnote{n}anc">{n}</a>{html.escape(note)}</p></div>'
        )
    out.append("</body></html>")
    return "\n".join(out)


def convert(source: Path, target_format: str, outdir: Path, timeout: float = 120) -> Path:
    """LibreOffice, headless: ``source`` → ``outdir/<stem>.<format>``."""
    command = soffice()
    if command is None:
        raise VariantError("LibreOffice (soffice) is not installed: apt-get install libreoffice-writer-nogui.")
    filters = {"odt": "odt", "docx": "docx:MS Word 2007 XML", "pdf": "pdf"}
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        result = subprocess.run(
            [
                command,
                f"-env:UserInstallation=file://{profile}",
                "--headless",
                "--convert-to",
                filters[target_format],
                "--outdir",
                str(outdir),
                str(source),
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    target = outdir / f"{source.stem}.{target_format}"
    if result.returncode != 0 or not target.is_file():
        raise VariantError(f"LibreOffice could not convert {source.name} to {target_format}.")
    return target


def make_variants(doc: Document, outdir: Path, formats: tuple[str, ...] = FORMATS) -> dict[str, Path]:
    """Write the document as HTML, then DOCX and PDF through LibreOffice."""
    outdir.mkdir(parents=True, exist_ok=True)
    stem = Path(doc.file).stem or doc.id
    page = outdir / f"{stem}.html"
    page.write_text(write_html(doc), encoding="utf-8")
    made = {"html": page}
    if "docx" in formats or "pdf" in formats:
        # through Writer's own format: LibreOffice exports an HTML page opened as a web page to DOCX very slowly
        writer = convert(page, "odt", outdir)
        if "docx" in formats:
            made["docx"] = convert(writer, "docx", outdir)
        if "pdf" in formats:
            made["pdf"] = convert(writer, "pdf", outdir)
        writer.unlink(missing_ok=True)
    return {k: v for k, v in made.items() if k in formats}


@dataclass(frozen=True)
class StructureMatch:
    """How much of an original document's structure a variant's parse kept."""

    headings: int
    headings_found: int
    headings_at_level: int
    footnotes: int
    footnotes_found: int
    rows: int
    rows_found: int

    @property
    def heading_share(self) -> float:
        return self.headings_at_level / self.headings if self.headings else 1.0

    def to_json(self) -> dict[str, float]:
        return {**self.__dict__, "heading_share": round(self.heading_share, 4)}


def _fold(text: str) -> str:
    return key(text)


def compare_structure(
    original: list[Block], footnotes: dict[int, str], variant: list[Block], variant_notes: dict[int, str]
) -> StructureMatch:
    """Headings (matched by text, in order) at the same level; footnotes with the same text (whatever their
    number); table rows whose cells all appear in one row of the variant."""
    wanted = [(key(b.text), len(b.section)) for b in original if b.kind == "heading"]
    found = [(key(b.text), len(b.section)) for b in variant if b.kind == "heading"]
    cursor, matched, at_level = 0, 0, 0
    for text, level in wanted:
        for j in range(cursor, len(found)):
            if found[j][0] == text:
                matched += 1
                at_level += found[j][1] == level
                cursor = j + 1
                break
    theirs = {_fold(t) for t in variant_notes.values()}  # by text: a converter may renumber them
    notes_found = sum(1 for t in footnotes.values() if _fold(t) in theirs)
    variant_rows = [" ".join(_fold(c) for c in b.cells) or _fold(b.text) for b in variant if b.kind == "row"]
    rows = [b for b in original if b.kind == "row"]
    rows_found = sum(1 for b in rows if any(all(_fold(c) in r for c in b.cells if c) for r in variant_rows))
    return StructureMatch(len(wanted), matched, at_level, len(footnotes), notes_found, len(rows), rows_found)
