"""Cleaned documents: typed blocks rendered into the one text that every offset refers to."""

from __future__ import annotations

from dataclasses import dataclass, field

SECTION_SEP = " › "


@dataclass
class Block:
    """A structural unit of a cleaned document: never split across passages unless it alone is too long."""

    kind: str  # title, heading, para, bullet, row, caption, quote or footnote
    text: str
    level: int = 0  # heading depth (1 = chapter); bullet nesting for bullets
    footnotes: tuple[int, ...] = ()
    table: int = -1  # consecutive rows (and their caption) of one table share an id
    section: tuple[str, ...] = ()
    start: int = 0
    end: int = 0


@dataclass(frozen=True)
class Document:
    """A cleaned corpus document. ``text[block.start:block.end] == block.text`` for every block."""

    id: str
    title: str
    kind: str
    publisher: str
    date: str
    file: str
    sha256: str
    relations: tuple[tuple[str, str], ...]
    text: str
    blocks: tuple[Block, ...] = field(repr=False)
    footnotes: dict[int, str] = field(default_factory=dict, repr=False)


def render(blocks: list[Block]) -> str:
    """Join blocks into the cleaned text and record each block's offsets.

    Rows of one table are separated by a single newline, everything else by a blank line.
    """
    parts: list[str] = []
    cursor = 0
    previous: Block | None = None
    for block in blocks:
        if previous is not None:
            same_table = block.kind == "row" and previous.kind == "row" and block.table == previous.table
            sep = "\n" if same_table else "\n\n"
            parts.append(sep)
            cursor += len(sep)
        block.start = cursor
        block.end = cursor + len(block.text)
        parts.append(block.text)
        cursor = block.end
        previous = block
    return "".join(parts)
