"""Cleaning of the markdown-like full report: paragraphs, bullets, tables, headings, footnotes.

Footnote definitions are lifted out of the running text (they sit wherever a PDF page ended), their
markers detached from words and kept as references on the citing block; paragraphs cut by a page
break (and by a side box dropped into them) are rejoined.
"""

from __future__ import annotations

import re

from assistant.corpus.document import Block
from assistant.corpus.structure import TocEntry, is_caps, is_caption, key, looks_like_heading, parse_toc
from assistant.corpus.text import (
    collapse_spaces,
    ends_sentence,
    starts_lowercase,
    strip_markup,
    superscript_number,
    take_superscript_refs,
)

_BULLET = re.compile(r"^\s*(?:[-•*]\s+(?:\d+\.\s+)?|\d+\.\s+(?=\S))")
_NESTED = re.compile(r"^\s+[-•*]\s+")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_TOC_ROW = re.compile(r"^.*?(\t|\.{3,})\s*\d{1,3}\s*$")


def _cells(line: str) -> list[str]:
    return [collapse_spaces(cell) for cell in line.split("\t")]


def format_row(cells: list[str]) -> str:
    """A table row as one line: decorative cells (+, -, arrows) dropped, label: value for two cells."""
    kept = [c for c in cells if any(ch.isalnum() for ch in c)]
    if len(kept) == 2:
        return f"{kept[0]}: {kept[1]}"
    return " | ".join(kept)


class _Builder:
    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.row_cells: dict[int, list[str]] = {}
        self.footnotes: dict[int, str] = {}
        self.table = 0

    def add(self, kind: str, text: str, level: int = 0) -> None:
        text, refs = take_superscript_refs(strip_markup(text))
        text = collapse_spaces(text)
        if text:
            self.blocks.append(Block(kind=kind, text=text, level=level, footnotes=refs))

    def add_row(self, line: str, table: int) -> None:
        text, refs = take_superscript_refs(strip_markup(line))
        cells = _cells(text)
        if not any(any(ch.isalnum() for ch in c) for c in cells) or set("".join(cells)) <= set("-| "):
            return
        self.blocks.append(Block(kind="row", text="", footnotes=refs, table=table))
        self.row_cells[id(self.blocks[-1])] = cells


def _is_footnote_paragraph(lines: list[str]) -> bool:
    return superscript_number(lines[0]) is not None


def parse_report(raw: str) -> tuple[list[Block], dict[int, str], list[TocEntry]]:
    """Parse the full report into blocks (sections not yet assigned), footnotes and its contents list."""
    builder = _Builder()
    toc_lines: list[str] = []
    in_contents = False
    toc_keys: set[str] = set()
    paragraphs = [p for p in _PARAGRAPH_BREAK.split(raw.replace("\r\n", "\n")) if p.strip()]
    for index, paragraph in enumerate(paragraphs):
        lines = [line for line in paragraph.split("\n") if line.strip()]
        stripped = [line.strip() for line in lines]
        bare = [collapse_spaces(strip_markup(line)) for line in lines]
        if in_contents:
            if all(_TOC_ROW.match(line) for line in stripped):
                toc_lines.extend(stripped)
                continue
            in_contents = False
            toc_keys = {key(entry.name) for entry in parse_toc(toc_lines)}
        if _is_footnote_paragraph(stripped):
            current: int | None = None
            for line in stripped:
                number = superscript_number(line)
                if number is not None:
                    current = number
                    text, _ = take_superscript_refs(strip_markup(line))
                    builder.footnotes[number] = collapse_spaces(text)
                elif current is not None:
                    builder.footnotes[current] += " " + collapse_spaces(strip_markup(line))
            continue
        joined = " ".join(bare)
        if index == 0 and is_caps(joined):
            builder.add("title", joined)
            continue
        if joined.casefold() == "contents":
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
                    level = 2 if _NESTED.match(line) else 1
                    builder.add("bullet", _BULLET.sub("", line, count=1), level=level)
                elif builder.blocks and builder.blocks[-1].kind == "bullet":
                    builder.blocks[-1].text += " " + collapse_spaces(strip_markup(line))
                else:
                    builder.add("para", line)
            continue
        if len(lines) == 1 and is_caption(joined):
            builder.add("caption", joined)
        elif len(lines) == 1 and (looks_like_heading(joined) or (is_caps(joined) and key(joined) in toc_keys)):
            builder.add("heading", joined)
        elif joined[:1] in '“"':
            builder.add("quote", joined)
        else:
            builder.add("para", joined)
    blocks = _rejoin(builder)
    return blocks, builder.footnotes, parse_toc(toc_lines)


def _append_to_row(builder: _Builder, row: Block, extra_cells: list[str]) -> None:
    cells = builder.row_cells[id(row)]
    if len(extra_cells) > 1:
        for i, cell in enumerate(extra_cells):
            if cell and i < len(cells):
                cells[i] = f"{cells[i]} {cell}".strip()
        return
    open_cells = [i for i, c in enumerate(cells) if c and not ends_sentence(c) and len(c.split()) > 3]
    target = open_cells[-1] if open_cells else max(range(len(cells)), key=lambda i: len(cells[i]))
    cells[target] = f"{cells[target]} {extra_cells[0]}".strip()


def _rejoin(builder: _Builder) -> list[Block]:
    """Mend text cut by page breaks: a block left mid-sentence continues in the next lower-case block,
    possibly after a side box (quote, heading, bullets) that the PDF conversion dropped in between."""
    blocks = builder.blocks
    consumed: set[int] = set()
    for i, block in enumerate(blocks):
        if i in consumed or i + 1 >= len(blocks):
            continue
        if block.kind == "row":
            following = blocks[i + 1]
            if following.kind == "row" and _row_continues(builder, following):
                _append_to_row(builder, block, builder.row_cells[id(following)])
            elif following.kind == "para" and starts_lowercase(following.text):
                _append_to_row(builder, block, [following.text])
            else:
                continue
            block.footnotes += following.footnotes
            consumed.add(i + 1)
            continue
        if block.kind not in ("para", "bullet") or ends_sentence(block.text):
            continue
        for j in range(i + 1, min(i + 5, len(blocks))):
            candidate = blocks[j]
            if j in consumed:
                continue
            if candidate.kind == "para" and starts_lowercase(candidate.text):
                block.text = f"{block.text} {candidate.text}"
                block.footnotes += candidate.footnotes
                consumed.add(j)
                break
            if candidate.kind not in ("quote", "heading", "bullet", "caption"):
                break
    out = [b for i, b in enumerate(blocks) if i not in consumed]
    for block in out:
        if block.kind == "row":
            block.text = format_row(builder.row_cells[id(block)])
    return [b for b in out if b.text]


def _row_continues(builder: _Builder, candidate: Block) -> bool:
    """A row whose first cell is empty and whose text starts lower case continues the row above."""
    cells = builder.row_cells[id(candidate)]
    if cells[0]:
        return False
    first = next((c for c in cells if c), "")
    return starts_lowercase(first)
