"""Plain text, including text converted from PDF by other tools.

Two layouts are told apart by content, not by name:

* **paragraph text** — a paragraph per line or per blank-line-separated block (web pages saved as text,
  Markdown-like conversions of PDFs): headings as short lines, a contents list, superscript footnote markers
  with the footnotes themselves as paragraphs starting with a superscript number, tab-separated table rows,
  bullets, and stray emphasis or HTML fragments;
* **hard-wrapped text** — every printed line ends in a line break, as layout-preserving PDF extraction
  leaves it: lines are rejoined into paragraphs, footnotes sit in page-foot blocks after a wide blank line,
  footnote numbers are glued to words, and tables whose cells were flattened follow a "Table N:" caption.

Form feeds, where present, mark pages.
"""

from __future__ import annotations

import itertools
import re

from assistant.corpus.contents import is_contents_line, parse_contents
from assistant.corpus.document import Block, Parsed
from assistant.corpus.headings import is_caps, is_caption, key, looks_like_heading
from assistant.corpus.text import (
    collapse_spaces,
    ends_sentence,
    starts_lowercase,
    strip_invisible,
    strip_markup,
    superscript_number,
    take_superscript_refs,
)
from assistant.formats.base import Parser, decode_text, register

_BULLET = re.compile(r"^\s*(?:[-•*▪◦]\s+|(?=\d{1,2}\.\s+\S))")  # a numbered item keeps its number
_NESTED = re.compile(r"^\s+[-•*▪◦]\s+")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_FOOTNOTE_DEF = re.compile(r"^(\d{1,3})\s+(\S.*)$")
_BARE_URL = re.compile(r"^\s*https?://\S+\s*$")
_WORD = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*")
_LABEL_MAX_WORDS = 2
WRAPPED_SHARE = 0.3  # share of lines that continue mid-sentence on the next line: hard-wrapped text


def is_hard_wrapped(raw: str) -> bool:
    """Most paragraphs are cut into printed lines: many lines end mid-sentence and the next starts lower case."""
    lines = [line for line in raw.split("\n") if line.strip()]
    if len(lines) < 20:
        return False
    broken = sum(1 for a, b in itertools.pairwise(lines) if not ends_sentence(a) and starts_lowercase(b))
    return broken / len(lines) >= WRAPPED_SHARE


@register
class TextParser(Parser):
    name = "text"

    def parse(self, data: bytes, filename: str) -> Parsed:
        raw = strip_invisible(decode_text(data, filename).replace("\r\n", "\n").replace("\r", "\n"), keep="\t\n\f")
        pages = raw.split("\f")
        paged = len(pages) > 1
        blocks: list[Block] = []
        footnotes: dict[int, str] = {}
        contents = []
        wrapped = is_hard_wrapped(raw.replace("\f", "\n"))
        table_offset = 0
        for number, page in enumerate(pages, start=1):
            if wrapped:
                page_blocks, page_notes = parse_wrapped(page, vocabulary(raw), table_offset)
            else:
                page_blocks, page_notes, page_contents = parse_paragraphs(page, table_offset, first=number == 1)
                contents += page_contents
            for block in page_blocks:
                block.page = block.page_end = number if paged else 0
            table_offset = max([table_offset, *(b.table for b in page_blocks)])
            blocks += page_blocks
            footnotes.update(page_notes)
        return Parsed(blocks, footnotes, contents=contents, pages=len(pages) if paged else 0, glued_refs=wrapped)


# ---- paragraph text ---------------------------------------------------------------------------------------


class _Builder:
    def __init__(self, table_offset: int) -> None:
        self.blocks: list[Block] = []
        self.footnotes: dict[int, str] = {}
        self.table = table_offset

    def add(self, kind: str, text: str, level: int = 0) -> None:
        text, refs = take_superscript_refs(strip_markup(text))
        text = collapse_spaces(text)
        if text:
            self.blocks.append(Block(kind=kind, text=text, level=level, footnotes=refs))

    def add_row(self, line: str, table: int) -> None:
        text, refs = take_superscript_refs(strip_markup(line))
        cells = [collapse_spaces(cell) for cell in text.split("\t")]
        if not any(any(ch.isalnum() for ch in c) for c in cells) or set("".join(cells)) <= set("-| "):
            return
        self.blocks.append(Block(kind="row", text="", footnotes=refs, table=table, cells=tuple(cells)))


def parse_paragraphs(raw: str, table_offset: int = 0, first: bool = True) -> tuple[list[Block], dict[int, str], list]:  # type: ignore[type-arg]
    """Blocks, footnotes and the contents list of paragraph text."""
    builder = _Builder(table_offset)
    contents_lines: list[str] = []
    in_contents = False
    contents_keys: set[str] = set()
    paragraphs = [q for p in _PARAGRAPH_BREAK.split(raw) if p.strip() for q in _line_paragraphs(p)]
    for index, paragraph in enumerate(paragraphs):
        lines = [line for line in paragraph.split("\n") if line.strip()]
        stripped = [line.strip() for line in lines]
        bare = [collapse_spaces(strip_markup(line)) for line in lines]
        if in_contents:
            if all(is_contents_line(line) for line in stripped):
                contents_lines.extend(stripped)
                continue
            in_contents = False
            contents_keys = {key(entry.name) for entry in parse_contents(contents_lines)}
        if superscript_number(stripped[0]) is not None:
            _footnote_paragraph(builder, stripped)
            continue
        joined = " ".join(bare)
        if first and index == 0 and is_caps(joined):
            builder.add("title", joined)
            continue
        if joined.casefold() in ("contents", "table of contents"):
            in_contents = True
            continue
        if paragraph.lstrip().startswith("**") and is_caps(joined) and len(lines) > 1:
            builder.add("heading", joined)  # a chapter title set in bold over several lines
            continue
        if any("\t" in line for line in lines):
            builder.table += 1
            for line in lines:
                if "\t" in line:
                    builder.add_row(line, builder.table)
                else:
                    builder.add("para", line)
            continue
        if any(_BULLET.match(line) for line in lines):
            for line in lines:
                if _BULLET.match(line):
                    builder.add("bullet", _BULLET.sub("", line, count=1), level=2 if _NESTED.match(line) else 1)
                elif builder.blocks and builder.blocks[-1].kind == "bullet":
                    builder.blocks[-1].text += " " + collapse_spaces(strip_markup(line))
                else:
                    builder.add("para", line)
            continue
        if len(lines) == 1 and is_caption(joined):
            builder.add("caption", joined)
        elif len(lines) == 1 and (looks_like_heading(joined) or (is_caps(joined) and key(joined) in contents_keys)):
            builder.add("heading", joined)
        elif joined[:1] in '“"':
            builder.add("quote", joined)
        else:
            builder.add("para", joined)
    return _mend_rows(builder.blocks), builder.footnotes, parse_contents(contents_lines)


def _line_paragraphs(paragraph: str) -> list[str]:
    """A block whose lines each end a sentence holds a paragraph a line (text saved from a web page); any
    other block is one paragraph whose lines are joined (a title over two lines, a list)."""
    lines = [line for line in paragraph.split("\n") if line.strip()]
    if (
        len(lines) > 1
        and all(ends_sentence(line) for line in lines[:-1])
        and not any(_BULLET.match(line) or "\t" in line or _BARE_URL.match(line) for line in lines)
    ):
        return lines
    return [paragraph]


def _footnote_paragraph(builder: _Builder, lines: list[str]) -> None:
    current: int | None = None
    for line in lines:
        number = superscript_number(line)
        if number is not None:
            current = number
            text, _ = take_superscript_refs(strip_markup(line))
            builder.footnotes[number] = collapse_spaces(text)
        elif current is not None:
            builder.footnotes[current] += " " + collapse_spaces(strip_markup(line))


def _mend_rows(blocks: list[Block]) -> list[Block]:
    """A table row cut by a page break continues in the next row (first cell empty, lower case) or in the
    next paragraph (lower case)."""
    out: list[Block] = []
    for block in blocks:
        previous = out[-1] if out else None
        if previous is not None and previous.kind == "row":
            if block.kind == "row" and _row_continues(block):
                previous.cells = _append_cells(previous.cells, block.cells)
                previous.footnotes += block.footnotes
                continue
            if block.kind == "para" and starts_lowercase(block.text):
                previous.cells = _append_cells(previous.cells, (block.text,))
                previous.footnotes += block.footnotes
                continue
        out.append(block)
    return out


def _row_continues(row: Block) -> bool:
    if not row.cells or row.cells[0]:
        return False
    return starts_lowercase(next((c for c in row.cells if c), ""))


def _append_cells(cells: tuple[str, ...], extra: tuple[str, ...]) -> tuple[str, ...]:
    merged = list(cells)
    if len(extra) > 1:
        for i, cell in enumerate(extra):
            if cell and i < len(merged):
                merged[i] = f"{merged[i]} {cell}".strip()
        return tuple(merged)
    open_cells = [i for i, c in enumerate(merged) if c and not ends_sentence(c) and len(c.split()) > 3]
    target = open_cells[-1] if open_cells else max(range(len(merged)), key=lambda i: len(merged[i]))
    merged[target] = f"{merged[target]} {extra[0]}".strip()
    return tuple(merged)


# ---- hard-wrapped text ------------------------------------------------------------------------------------


def vocabulary(text: str) -> set[str]:
    """Lower-cased words (hyphenated compounds kept whole): what decides how to mend a line-break hyphen."""
    return {w.lower() for w in _WORD.findall(text)}


def split_footnotes(raw: str) -> tuple[list[str], dict[int, str]]:
    """Separate page-foot footnote blocks (they follow a wide run of spaces) from the body lines."""
    body: list[str] = []
    footnotes: dict[int, str] = {}
    in_block = False
    current: int | None = None
    for line in raw.split("\n"):
        if not line.strip():
            if len(line) >= 20:
                in_block, current = True, None
            continue
        if in_block:
            stripped = line.strip()
            match = _FOOTNOTE_DEF.match(stripped)
            if match and not line.startswith(" "):
                current = int(match.group(1))
                footnotes[current] = collapse_spaces(match.group(2))
                continue
            continues = "http" in stripped or " " not in stripped or not ends_sentence(footnotes.get(current or 0, "."))
            if current is not None and continues and not line.startswith(" ") and not stripped.startswith(("“", '"')):
                if not (_BARE_URL.match(stripped) and stripped in footnotes[current]):
                    glue = footnotes[current].endswith(("-", "/")) and not stripped.startswith("http")
                    footnotes[current] = collapse_spaces(footnotes[current] + ("" if glue else " ") + stripped)
                continue
            in_block = False
        if _BARE_URL.match(line):
            continue
        body.append(line)
    return body, footnotes


def join_lines(lines: list[str], vocab: set[str]) -> str:
    """Printed lines as one paragraph; a line-end hyphen is kept unless only the joined word is attested."""
    text = ""
    for line in lines:
        piece = collapse_spaces(line)
        if not text:
            text = piece
            continue
        match = re.search(r"([A-Za-z]+)-$", text)
        if match and piece[:1].isalpha():
            first = re.match(r"[A-Za-z]+", piece)
            joined = (match.group(1) + (first.group(0) if first else "")).lower()
            hyphenated = f"{match.group(1)}-{first.group(0) if first else ''}".lower()
            text = text[:-1] + piece if joined in vocab and hyphenated not in vocab else text + piece
        else:
            text = f"{text} {piece}"
    return text


def _is_label(line: str, following: str | None) -> tuple[bool, bool]:
    """Is this line a table row label, and does the next line continue it ("Scope of" / "services")?"""
    words = line.split()
    if not words or len(words) > _LABEL_MAX_WORDS or not words[0][0].isupper() or line[-1] in ".,;:)":
        return False, False
    continues = following is not None and len(following.split()) == 1 and following[:1].islower() and following[-1] not in ".,;:)"
    return True, continues


def _title_case(text: str) -> bool:
    """Every word of two or more capitalised (small words aside): a heading rather than a row label."""
    words = [w for w in text.split() if w.lower() not in ("of", "and", "the", "for", "in", "to", "a", "an", "&")]
    return len(words) >= 2 and all(w[:1].isupper() for w in words)


def _ended(line: str, width: int) -> bool:
    """A printed line that closes its paragraph: it ends a sentence and stops short of the line width (or the
    extraction marked the break with trailing spaces)."""
    body = line.rstrip()
    if not body or body[-1] not in ".!?:;”’)":
        return False
    return len(line) - len(body) >= 2 or len(body) < 0.8 * width


def parse_wrapped(raw: str, vocab: set[str], table_offset: int = 0) -> tuple[list[Block], dict[int, str]]:
    lines, footnotes = split_footnotes(raw)
    lengths = sorted(len(line.rstrip()) for line in lines if line.strip())
    width = lengths[int(len(lengths) * 0.9)] if lengths else 80
    paragraphs: list[tuple[str, list[str]]] = []  # (kind, lines)
    in_table = False
    i = 0
    while i < len(lines):
        line = lines[i]
        text = collapse_spaces(line)
        following = collapse_spaces(lines[i + 1]) if i + 1 < len(lines) else None
        previous_closed = not paragraphs or paragraphs[-1][0] in ("heading", "caption") or _ended(paragraphs[-1][1][-1], width)
        if not any(ch.isalnum() for ch in text):
            i += 1
            continue
        named = looks_like_heading(text) and not starts_lowercase((following or "").lstrip("‘’'\"“"))
        # a flattened table ends at a heading that cannot be one of its row labels
        heading = named and (_title_case(text) or len(text.split()) > _LABEL_MAX_WORDS) if in_table else named and previous_closed
        if is_caption(text):
            paragraphs.append(("caption", [text]))
            in_table = True
        elif heading:
            paragraphs.append(("heading", [text]))
            in_table = False
        elif in_table:
            is_label, continues = _is_label(text, following)
            if is_label:
                label = f"{text} {following}" if continues else text
                paragraphs.append(("row", [label + ":"]))
                i += 2 if continues else 1
                continue
            if paragraphs and paragraphs[-1][0] == "row":
                paragraphs[-1][1].append(line)
            else:
                paragraphs.append(("para", [line]))
        elif text.startswith("•"):
            paragraphs.append(("bullet", [text.lstrip("• ").strip()]))
        elif text.startswith(("“", '"')):
            quote = [line]
            while not quote[-1].rstrip().endswith(")") and i + 1 < len(lines):
                i += 1
                quote.append(lines[i])
            paragraphs.append(("quote", quote))
        elif paragraphs and paragraphs[-1][0] in ("para", "bullet") and not previous_closed:
            paragraphs[-1][1].append(line)
        else:
            paragraphs.append(("para", [line]))
        i += 1

    blocks: list[Block] = []
    table = table_offset
    for kind, para_lines in paragraphs:
        joined = collapse_spaces(strip_markup(join_lines(para_lines, vocab)))
        if not joined or not any(ch.isalnum() for ch in joined):
            continue
        if kind == "caption":
            table += 1
        if kind == "row":
            label, _, value = joined.partition(":")
            if not value.strip():
                continue
            blocks.append(Block(kind="row", text="", table=table, cells=(label.strip(), value.strip())))
            continue
        blocks.append(Block(kind=kind, text=joined, table=table if kind == "caption" else -1))
    return blocks, footnotes
