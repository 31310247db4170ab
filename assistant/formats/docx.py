"""Word documents (.docx) through python-docx, with the footnotes part read from the package.

Heading styles give heading levels ("Heading 2" → 2), list styles and numbering give bullets with their
level, tables give rows with the first row as header when it is marked or looks like one, and footnote
references in the text are tied to the footnotes' text (numbered in order of first use, as Word shows
them). Pages are known only where Word recorded where it broke them. The archive is checked before it is
opened: a zip bomb or a damaged file is refused.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

from assistant.corpus.document import Block, Metadata, Parsed
from assistant.corpus.headings import is_caption
from assistant.corpus.text import collapse_spaces, strip_invisible
from assistant.errors import DocumentError
from assistant.formats.base import Parser, register

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MAX_UNPACKED = 300_000_000  # bytes once unzipped
MAX_RATIO = 200  # unpacked / packed
_HEADING = re.compile(r"^(?:heading|überschrift|titre)\s*(\d)$", re.IGNORECASE)


def check_archive(data: bytes, filename: str) -> None:
    """Refuse damaged archives and zip bombs before anything is unpacked."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            unpacked = sum(i.file_size for i in infos)
            if unpacked > MAX_UNPACKED or unpacked > MAX_RATIO * max(1, len(data)):
                raise DocumentError(f"{filename} unpacks to {unpacked / 1e6:.0f} MB: refused as a possible zip bomb.")
            if archive.testzip() is not None:
                raise DocumentError(f"{filename} is damaged (a part of the Word file is corrupt).")
    except (zipfile.BadZipFile, EOFError, ValueError) as exc:
        raise DocumentError(f"{filename} is damaged or truncated (not a complete Word file).") from exc


def _text(element: Any, refs: list[int], ids: dict[str, int]) -> str:
    """Paragraph text with footnote references taken out (recorded in ``refs``)."""
    parts: list[str] = []
    for node in element.iter():
        tag = node.tag
        if tag == f"{W}t":
            parts.append(node.text or "")
        elif tag == f"{W}tab" or tag in (f"{W}br", f"{W}cr"):
            parts.append(" ")
        elif tag == f"{W}footnoteReference":
            key = node.get(f"{W}id", "")
            ids.setdefault(key, len(ids) + 1)
            refs.append(ids[key])
    return "".join(parts)


def _style(paragraph: Any) -> str:
    try:
        return str(paragraph.style.name or "")
    except (AttributeError, KeyError, ValueError):
        return ""


def _footnotes(document: Any, ids: dict[str, int]) -> dict[int, str]:
    """Footnote texts by their displayed number."""
    from lxml import etree

    part = next((p for p in document.part.package.parts if str(p.partname).endswith("/footnotes.xml")), None)
    if part is None:
        return {}
    root = etree.fromstring(part.blob)
    notes: dict[int, str] = {}
    for note in root.iter(f"{W}footnote"):
        key = note.get(f"{W}id", "")
        if note.get(f"{W}type") in ("separator", "continuationSeparator", "continuationNotice") or key not in ids:
            continue
        text = collapse_spaces(" ".join(_text(p, [], {}) for p in note.iter(f"{W}p")))
        if text:
            notes[ids[key]] = text
    return notes


def parse_docx(data: bytes, filename: str) -> Parsed:
    check_archive(data, filename)
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise DocumentError(f"{filename} is not a readable Word document.") from exc
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    ids: dict[str, int] = {}
    blocks: list[Block] = []
    table_id = 0
    page = 1
    rendered_breaks = b"lastRenderedPageBreak" in data or document.element.body.find(f".//{W}lastRenderedPageBreak") is not None
    for child in document.element.body.iterchildren():
        if child.tag == f"{W}p":
            paragraph = Paragraph(child, document)
            if rendered_breaks and child.find(f".//{W}lastRenderedPageBreak") is not None and blocks:
                page += 1
            refs: list[int] = []
            text = collapse_spaces(strip_invisible(_text(child, refs, ids)))
            if not text:
                continue
            style = _style(paragraph)
            heading = _HEADING.match(style)
            numbered = child.find(f"{W}pPr/{W}numPr") is not None
            if style.lower() == "title":
                kind, level = "title", 0
            elif heading:
                kind, level = "heading", int(heading.group(1))
            elif "list" in style.lower() or numbered:
                ilvl = child.find(f"{W}pPr/{W}numPr/{W}ilvl")
                kind, level = "bullet", 1 + int(ilvl.get(f"{W}val", "0")) if ilvl is not None else 1
            elif style.lower() == "caption" or is_caption(text):
                kind, level = "caption", 0
            elif "quote" in style.lower():
                kind, level = "quote", 0
            else:
                kind, level = "para", 0
            blocks.append(Block(kind=kind, text=text, level=level, footnotes=tuple(refs), page=page if rendered_breaks else 0))
        elif child.tag == f"{W}tbl":
            table_id += 1
            table = Table(child, document)
            header: tuple[str, ...] = ()
            for i, row in enumerate(table.rows):
                refs = []
                cells: list[str] = []
                seen: set[int] = set()
                for cell in row.cells:
                    if id(cell._tc) in seen:  # a merged cell is returned once per grid column
                        continue
                    seen.add(id(cell._tc))
                    cells.append(collapse_spaces(strip_invisible(" ".join(_text(p._p, refs, ids) for p in cell.paragraphs))))
                if not any(cells):
                    continue
                marked = row._tr.find(f"{W}trPr/{W}tblHeader") is not None
                if i == 0 and (marked or _bold_row(row)):
                    header = tuple(cells)
                    continue
                blocks.append(
                    Block(kind="row", text="", footnotes=tuple(refs), table=table_id, cells=tuple(cells), header=header)
                )
    props = document.core_properties
    created = props.created.date().isoformat() if props.created else ""
    metadata = Metadata(title=collapse_spaces(props.title or ""), authors=collapse_spaces(props.author or ""), date=created)
    return Parsed(blocks, _footnotes(document, ids), metadata, pages=page if rendered_breaks else 0)


def _bold_row(row: Any) -> bool:
    """Every run of the row is bold (or the cells are styled as headings): a header row."""
    runs = [r for c in row.cells for p in c.paragraphs for r in p.runs if r.text.strip()]
    if not runs:
        return False
    return all(r.bold or (r.style is not None and "strong" in str(r.style.name).lower()) for r in runs) or all(
        "heading" in _style(p).lower() for c in row.cells for p in c.paragraphs if p.text.strip()
    )


@register
class DocxParser(Parser):
    name = "docx"

    def parse(self, data: bytes, filename: str) -> Parsed:
        return parse_docx(data, filename)
