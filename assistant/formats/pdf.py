"""PDF files through pdfplumber (on pdfminer.six; MIT licensed — PyMuPDF is AGPL and stays out).

Each page's words come with their font size and weight; ``pdf_layout`` turns them into lines and blocks:
running headers and footers and page numbers dropped, footnotes taken from the page foot, superscript
footnote markers turned into references, tables rebuilt from ruling lines or from aligned columns,
headings told by size and weight, paragraphs rejoined and line-break hyphens mended. Every block keeps the
page it comes from. Encrypted, scanned (no text layer), truncated and malformed files are refused with the
reason.
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from typing import Any

from assistant.corpus.document import ContentsEntry, Metadata, Parsed
from assistant.errors import DocumentError
from assistant.formats.base import Parser, register
from assistant.formats.pdf_layout import Line, Page, Rule, RuledTable, Word, blocks_from_pages

MIN_CHARS = 20  # a document with fewer characters of text than this has no usable text layer
_DATE = re.compile(r"^D?:?(\d{4})(\d{2})?(\d{2})?")
_UNMAPPED = re.compile(r"\(cid:\d+\)")  # pdfminer's stand-in for a glyph its font does not map to a character


def _date(value: str) -> str:
    match = _DATE.match(value.strip())
    if not match:
        return ""
    return "-".join(part for part in match.groups() if part)


def _metadata(info: dict[str, Any] | None) -> Metadata:
    info = info or {}

    def get(key: str) -> str:
        value = info.get(key) or ""
        return " ".join(str(value).split()) if isinstance(value, str | bytes) and not isinstance(value, bytes) else ""

    return Metadata(title=get("Title"), authors=get("Author"), description=get("Subject"), date=_date(get("CreationDate")))


def _words(page: Any) -> tuple[list[Word], int]:
    """The page's words, and how many glyphs were left out because their font does not say what they are."""
    raw = page.extract_words(
        extra_attrs=["size", "fontname"], x_tolerance=1.5, y_tolerance=2.5, keep_blank_chars=False, use_text_flow=False
    )
    out = []
    unmapped = 0
    for w in raw:
        unmapped += len(_UNMAPPED.findall(w["text"]))
        text = unicodedata.normalize("NFC", _UNMAPPED.sub("", w["text"]))
        if not text:
            continue
        font = str(w.get("fontname", ""))
        out.append(
            Word(
                text=text,
                x0=float(w["x0"]),
                x1=float(w["x1"]),
                top=float(w["top"]),
                bottom=float(w["bottom"]),
                size=round(float(w.get("size", 0.0)), 1),
                bold=bool(re.search(r"bold|black|heavy|semibold", font, re.IGNORECASE)),
            )
        )
    return out, unmapped


def _rules(page: Any) -> list[Rule]:
    """Thin horizontal rules (a footnote separator, table borders)."""
    out = []
    for shape in [*page.lines, *page.rects]:
        height = abs(float(shape["bottom"]) - float(shape["top"]))
        width = abs(float(shape["x1"]) - float(shape["x0"]))
        if height <= 2.0 and width >= 10:
            out.append(Rule(float(shape["x0"]), float(shape["x1"]), float(shape["top"])))
    return out


def _ruled_tables(page: Any) -> list[RuledTable]:
    """Tables drawn with ruling lines: bounding box, rows of cell texts, and whether the first row is a header
    (set in bold)."""
    if len(page.lines) + len(page.rects) < 4:
        return []
    found = []
    for table in page.find_tables():
        grid = table.extract()
        # columns that are None in every row are artefacts of merged cells in the ruling
        keep = [j for j in range(max((len(r) for r in grid), default=0)) if any(j < len(r) and r[j] is not None for r in grid)]
        rows = [[" ".join((row[j] or "").split()) if j < len(row) else "" for j in keep] for row in grid]
        if not rows or len(keep) < 2:
            continue
        first = table.rows[0].bbox
        chars = [c for c in page.crop(first).chars if c["text"].strip()]
        bold = bool(chars) and all(re.search(r"bold|black|heavy", str(c.get("fontname", "")), re.IGNORECASE) for c in chars)
        found.append(RuledTable(tuple(float(v) for v in table.bbox), rows, bold))  # type: ignore[arg-type]
    return found


def _outline(reader: Any) -> list[ContentsEntry]:
    """The PDF's bookmarks as contents entries (name, depth, path)."""
    entries: list[ContentsEntry] = []

    def walk(items: list[Any], path: tuple[str, ...]) -> None:
        last: tuple[str, ...] = path
        for item in items:
            if isinstance(item, list):
                walk(item, last)
                continue
            title = " ".join(str(getattr(item, "title", "")).split())
            if title:
                last = (*path, title)
                entries.append(ContentsEntry(title, len(last), last))

    try:
        walk(list(reader.outline), ())
    except Exception:  # a damaged outline only means no outline
        return []
    return entries


def parse_pdf(data: bytes, filename: str) -> Parsed:
    import pdfplumber
    import pypdf
    from pdfminer.pdfdocument import PDFPasswordIncorrect
    from pdfminer.psparser import PSException

    # both log each repair they try on a damaged file; the outcome reaches the user once, as a DocumentError
    for name in ("pypdf", "pdfminer"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    unmapped = 0
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise DocumentError(f"{filename} is encrypted or password-protected; save an unprotected copy to add it.")
        outline = _outline(reader)
        pages: list[Page] = []
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            info = pdf.metadata
            for number, page in enumerate(pdf.pages, start=1):
                words, missing = _words(page)
                unmapped += missing
                pages.append(Page(number, float(page.width), float(page.height), words, _rules(page), _ruled_tables(page)))
    except DocumentError:
        raise
    except PDFPasswordIncorrect as exc:
        raise DocumentError(f"{filename} is encrypted or password-protected; save an unprotected copy to add it.") from exc
    except (pypdf.errors.PdfReadError, PSException, ValueError, KeyError, TypeError, AttributeError, EOFError, OSError) as exc:
        raise DocumentError(f"{filename} is damaged or truncated (not a readable PDF).") from exc
    except Exception as exc:  # pdfminer raises many kinds for malformed files
        raise DocumentError(f"{filename} is damaged (not a readable PDF).") from exc
    chars = sum(len(w.text) for p in pages for w in p.words)
    if unmapped >= max(chars, MIN_CHARS):
        raise DocumentError(
            f"{filename}'s text cannot be extracted (its fonts do not say which letters they draw); export it again or OCR it."
        )
    if chars < MIN_CHARS:
        raise DocumentError(f"{filename} has no text layer (a scanned document needs OCR before it can be added).")
    blocks, footnotes = blocks_from_pages(pages)
    return Parsed(blocks, footnotes, _metadata(info), contents=outline, pages=len(pages))


@register
class PDFParser(Parser):
    name = "pdf"

    def parse(self, data: bytes, filename: str) -> Parsed:
        return parse_pdf(data, filename)


__all__ = ["Line", "PDFParser", "parse_pdf"]
