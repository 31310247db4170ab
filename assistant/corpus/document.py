"""Cleaned documents: typed blocks rendered into the one text that every offset refers to."""

from __future__ import annotations

from dataclasses import dataclass, field

SECTION_SEP = " › "


@dataclass
class Block:
    """A structural unit of a document: never split across passages unless it alone is too long.

    Format parsers fill ``kind``, ``text`` and what their format knows (heading ``level``, table ``cells`` and
    ``header``, ``page``, footnote references); the shared structure step fills in the rest.
    """

    kind: str  # title, heading, para, bullet, row, caption, quote or footnote
    text: str
    level: int = 0  # heading depth (1 = chapter; 0 = not known yet); bullet nesting for bullets
    footnotes: tuple[int, ...] = ()
    table: int = -1  # consecutive rows (and their caption) of one table share an id
    cells: tuple[str, ...] = ()  # a table row's cells (``text`` is rendered from them)
    header: tuple[str, ...] = ()  # the header cells of the row's table, when it has a header row
    page: int = 0  # 1-based page the block starts on; 0 when the document has no pages
    page_end: int = 0  # page the block ends on (a paragraph may run over a page break)
    section: tuple[str, ...] = ()
    start: int = 0
    end: int = 0


@dataclass(frozen=True)
class Metadata:
    """What a file says about itself (document properties, <meta>, a title page); all optional."""

    title: str = ""
    authors: str = ""
    publisher: str = ""
    date: str = ""
    url: str = ""
    description: str = ""

    def merged(self, other: Metadata) -> Metadata:
        """These values, with blanks filled from ``other``."""
        return Metadata(**{k: getattr(self, k) or getattr(other, k) for k in self.__dataclass_fields__})


@dataclass(frozen=True)
class ContentsEntry:
    """A heading named by the document's own contents list or PDF outline, with its depth and path."""

    name: str
    level: int
    path: tuple[str, ...]


@dataclass
class Parsed:
    """What a format parser hands to the shared structure step."""

    blocks: list[Block]
    footnotes: dict[int, str] = field(default_factory=dict)
    metadata: Metadata = field(default_factory=Metadata)
    contents: list[ContentsEntry] = field(default_factory=list)
    pages: int = 0
    # Footnote numbers may be printed as plain digits glued to words ("2018.38"): text extracted from a PDF
    # without font sizes. The structure step then detaches the ones that follow the footnotes' sequence.
    glued_refs: bool = False


@dataclass(frozen=True)
class Document:
    """A cleaned library document. ``text[block.start:block.end] == block.text`` for every block."""

    id: str
    title: str
    kind: str  # the file's format: pdf, docx, html, markdown or text
    authors: str
    publisher: str
    date: str
    url: str
    file: str
    sha256: str
    relations: tuple[tuple[str, str], ...]  # (part_of | duplicates | summarises, other document id), detected
    text: str
    blocks: tuple[Block, ...] = field(repr=False)
    footnotes: dict[int, str] = field(default_factory=dict, repr=False)
    pages: int = 0
    aliases: tuple[str, ...] = ()  # other names people use for it ("the GOV.UK page")


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
