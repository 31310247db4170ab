"""From positioned words to blocks: the layout analysis of PDF pages (no PDF library in here).

* words are grouped into lines by their vertical position; a small raised number is a footnote marker;
* lines repeated at the top or bottom of many pages (running headers and footers) and bare page numbers go;
* the page foot below a short separator rule — or from the first line that starts with the next footnote
  number in a smaller size — holds footnotes, numbered as printed;
* tables come from ruling lines (pdfplumber) or from lines whose words align into columns;
* headings are told by size (each larger size a level up) and by weight; a first page set larger than any
  heading is the title page;
* paragraph lines are joined (a hyphen at a line end is kept unless only the joined word occurs elsewhere in
  the document), list items keep their continuation lines.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field

from assistant.corpus.document import Block
from assistant.corpus.headings import is_caption
from assistant.corpus.text import collapse_spaces, ends_sentence, strip_invisible

_NUMBER = re.compile(r"^\d{1,3}$")
_PAGE_NUMBER = re.compile(r"^(?:page\s+)?\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?$", re.IGNORECASE)
_BULLETS = set("•◦▪▫‣∙●○■□–—-*·➢➤✓")
_ORDINAL = re.compile(r"^(?:\d{1,2}[.)]|\(?[a-z][.)]|\(?[ivx]{1,4}[.)])$")
_WORD = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*")
MARGIN = 0.09  # share of the page height at top and bottom where running headers and footers sit
REPEATED = 0.4  # a line in those margins repeated on this share of pages is page furniture
SUPERSCRIPT = 0.8  # a number this much smaller than its line is a footnote marker
HEADING_SIZE = 1.12  # a line this much larger than body text is a heading


@dataclass
class Word:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    bold: bool = False


@dataclass(frozen=True)
class Rule:
    x0: float
    x1: float
    y: float


@dataclass(frozen=True)
class RuledTable:
    bbox: tuple[float, float, float, float]  # x0, top, x1, bottom
    rows: list[list[str]]
    header: bool  # the first row is a header row


@dataclass
class Page:
    number: int
    width: float
    height: float
    words: list[Word]
    rules: list[Rule] = field(default_factory=list)
    tables: list[RuledTable] = field(default_factory=list)


@dataclass
class Line:
    words: list[Word]
    page: int

    @property
    def x0(self) -> float:
        return min(w.x0 for w in self.words)

    @property
    def x1(self) -> float:
        return max(w.x1 for w in self.words)

    @property
    def top(self) -> float:
        return min(w.top for w in self.words)

    @property
    def bottom(self) -> float:
        return max(w.bottom for w in self.words)

    @property
    def size(self) -> float:
        weights: Counter[float] = Counter()
        for w in self.words:
            weights[w.size] += len(w.text)
        return weights.most_common(1)[0][0]

    @property
    def bold(self) -> bool:
        letters = [(w.bold, len(w.text)) for w in self.words if any(c.isalpha() for c in w.text)]
        return bool(letters) and sum(n for b, n in letters if b) >= 0.6 * sum(n for _, n in letters)

    def render(self, skip_first: bool = False) -> tuple[str, list[int]]:
        """Text with spaces where the words are apart, and the footnote markers taken out."""
        size = self.size
        parts: list[str] = []
        refs: list[int] = []
        previous: Word | None = None
        for i, w in enumerate(self.words):
            if i == 0 and skip_first:
                continue
            small = w.size <= SUPERSCRIPT * size and _NUMBER.match(w.text)
            if small and (i > 0 or not skip_first) and previous is not None:
                refs.append(int(w.text))
                continue
            if previous is not None and w.x0 - previous.x1 > 0.15 * size:
                parts.append(" ")
            parts.append(w.text)
            previous = w
        return strip_invisible("".join(parts)).strip(), refs

    @property
    def text(self) -> str:
        return self.render()[0]


def group_lines(words: list[Word], page: int) -> list[Line]:
    """Words on the same baseline band form a line (a raised footnote marker stays with its line)."""
    lines: list[Line] = []
    for w in sorted(words, key=lambda w: ((w.top + w.bottom) / 2, w.x0)):
        centre = (w.top + w.bottom) / 2
        if lines:
            band = [x for x in lines[-1].words if x.size >= SUPERSCRIPT * w.size] or lines[-1].words
            top, bottom = min(x.top for x in band), max(x.bottom for x in band)
            if top - 1 <= centre <= bottom + 1:
                lines[-1].words.append(w)
                continue
        lines.append(Line([w], page))
    for line in lines:
        line.words.sort(key=lambda w: w.x0)
    return lines


def body_size(pages: list[Page]) -> float:
    weights: Counter[float] = Counter()
    for p in pages:
        for w in p.words:
            weights[round(w.size * 2) / 2] += len(w.text)
    return weights.most_common(1)[0][0] if weights else 10.0


def _furniture_key(text: str) -> str:
    return re.sub(r"\d+", "#", text.casefold()).strip()


def remove_furniture(pages: list[Page], lines: dict[int, list[Line]]) -> None:
    """Drop running headers, footers and page numbers (in place)."""
    counts: Counter[str] = Counter()
    for p in pages:
        keys = {_furniture_key(line.text) for line in lines[p.number] if _in_margin(line, p)}
        counts.update(keys)
    threshold = max(2, REPEATED * len(pages))
    repeated = {k for k, n in counts.items() if n >= threshold} if len(pages) >= 3 else set()
    for p in pages:
        lines[p.number] = [
            line
            for line in lines[p.number]
            if not (_in_margin(line, p) and (_furniture_key(line.text) in repeated or _PAGE_NUMBER.match(line.text.strip())))
        ]


def _in_margin(line: Line, page: Page) -> bool:
    return line.bottom < MARGIN * page.height or line.top > (1 - MARGIN) * page.height


class Footnotes:
    """Footnotes read from page feet, in order; knows which number comes next."""

    def __init__(self) -> None:
        self.notes: dict[int, str] = {}
        self.current: int | None = None

    @property
    def expected(self) -> int:
        return max(self.notes, default=0) + 1

    def starts(self, line: Line, body: float) -> int | None:
        """The footnote number this line starts with, if it starts one."""
        first = line.words[0]
        if not _NUMBER.match(first.text):
            return None
        number = int(first.text)
        small = first.size <= SUPERSCRIPT * body or line.size < 0.95 * body
        if number in self.notes or not (small or number == self.expected):
            return None
        return number

    def take(self, page: Page, lines: list[Line], body: float) -> list[Line]:
        """Remove the page-foot footnotes from ``lines``; returns the body lines."""
        rule = next(
            (r for r in page.rules if r.y > 0.45 * page.height and r.x1 - r.x0 < 0.6 * page.width and r.x0 < 0.3 * page.width),
            None,
        )
        if rule is not None:
            cut = next((i for i, line in enumerate(lines) if line.top > rule.y), len(lines))
        else:
            cut = next(
                (
                    i
                    for i, line in enumerate(lines)
                    if line.top > 0.55 * page.height and self.starts(line, body) == self.expected and line.size <= body
                ),
                len(lines),
            )
        foot = lines[cut:]
        if rule is None and not foot:
            return lines
        self.current = None if foot and self.starts(foot[0], body) else self.current
        for line in foot:
            number = self.starts(line, body)
            text, _ = line.render(skip_first=number is not None)
            if number is not None:
                self.current = number
                self.notes[number] = text
            elif self.current is not None:
                self.notes[self.current] = _continue(self.notes[self.current], text)
        self.notes = {n: t for n, t in self.notes.items() if t}
        return lines[:cut]


_URL_TAIL = re.compile(r"(?:https?://|www\.)\S*$")


def _continue(text: str, more: str) -> str:
    """A footnote's next line: a web address broken over the line end is rejoined without a space."""
    if _URL_TAIL.search(text) and more and not more[0].isupper() and " " not in more.split("/")[0][:1]:
        return text + more
    if text.endswith("-") and more[:1].islower():
        return text[:-1] + more
    return f"{text} {more}"


def _segments(line: Line) -> list[list[Word]]:
    """Runs of words separated by gaps much wider than a space: the cells of a table row."""
    gap = max(8.0, 1.0 * line.size)
    out: list[list[Word]] = [[line.words[0]]]
    for a, b in zip(line.words, line.words[1:], strict=False):
        if b.x0 - a.x1 > gap:
            out.append([b])
        else:
            out[-1].append(b)
    return out


@dataclass
class _Table:
    lines: list[Line]
    starts: list[float]


def _column_starts(lines: list[Line]) -> list[float]:
    xs = sorted(seg[0].x0 for line in lines for seg in _segments(line))
    clusters: list[list[float]] = []
    for x in xs:
        if clusters and x - clusters[-1][-1] <= 4:
            clusters[-1].append(x)
        else:
            clusters.append([x])
    return [min(c) for c in clusters if len(c) >= 2]


def find_aligned_tables(lines: list[Line], text_x0: float, text_x1: float) -> list[_Table]:
    """Runs of lines whose words align into two or more columns (tables drawn without rules)."""
    tables: list[_Table] = []
    i = 0
    width = max(1.0, text_x1 - text_x0)
    while i < len(lines):
        if len(_segments(lines[i])) < 2 or is_caption(lines[i].text) or _bullet(lines[i])[0]:
            i += 1
            continue
        run = [lines[i]]
        j = i + 1
        while j < len(lines):
            line, prev = lines[j], run[-1]
            if line.page != prev.page or line.top - prev.bottom > 3 * line.size:
                break
            multi = len(_segments(line)) >= 2
            narrow = line.x1 - line.x0 < 0.6 * width
            if not (multi or narrow) or is_caption(line.text) or _bullet(line)[0]:
                break
            run.append(line)
            j += 1
        gapped = [line for line in run if len(_segments(line)) >= 2]
        starts = _column_starts(gapped)
        if len(gapped) >= 2 and len(starts) >= 2 and _fits(run, starts):
            tables.append(_Table(run, starts))
            i = j
        else:
            i += 1
    return tables


def _fits(run: list[Line], starts: list[float]) -> bool:
    """Every word run of every line lies within one column (ordinary text runs across them)."""
    bounds = [*starts[1:], float("inf")]
    for line in run:
        for seg in _segments(line):
            column = max(0, bisect_right(starts, seg[0].x0 + 2) - 1)
            if seg[-1].x1 > bounds[column] + 2:
                return False
    return True


def table_rows(table: _Table) -> list[tuple[list[str], bool, list[int]]]:
    """(cells, bold, references) per row: lines close together form one row; words go to the column their
    centre falls in."""
    rows: list[list[Line]] = []
    for line in sorted(table.lines, key=lambda x: x.top):
        if rows and line.top - max(x.top for x in rows[-1]) < 1.4 * line.size:
            rows[-1].append(line)
        else:
            rows.append([line])
    out = []
    for row in rows:
        cells: list[list[str]] = [[] for _ in table.starts]
        refs: list[int] = []
        words = sorted((w for line in row for w in line.words), key=lambda w: (round(w.top), w.x0))
        size = max(line.size for line in row)
        for w in words:
            if w.size <= SUPERSCRIPT * size and _NUMBER.match(w.text):
                refs.append(int(w.text))
                continue
            column = max(0, bisect_right(table.starts, (w.x0 + w.x1) / 2) - 1)
            cells[column].append(w.text)
        out.append(([collapse_spaces(" ".join(c)) for c in cells], all(line.bold for line in row), refs))
    return out


def _bullet(line: Line) -> tuple[bool, int]:
    """Does the line start a list item, and how many words does its marker take?"""
    first = line.words[0].text
    if len(first) == 1 and (first in _BULLETS or unicodedata.category(first) == "Co"):
        return True, 1
    if _ORDINAL.match(first) and len(line.words) > 1:
        return True, 0  # a numbered item keeps its number
    if first[:1] in _BULLETS and len(first) > 1 and first[1:2] == " ":
        return True, 0
    return False, 0


def _join(text: str, more: str, vocabulary: set[str]) -> str:
    if not text:
        return more
    match = re.search(r"([A-Za-z]+)-$", text)
    if match and more[:1].isalpha():
        head = re.match(r"[A-Za-z]+", more)
        joined = (match.group(1) + (head.group(0) if head else "")).lower()
        hyphenated = f"{match.group(1)}-{head.group(0) if head else ''}".lower()
        if joined in vocabulary and hyphenated not in vocabulary:
            return text[:-1] + more
        return text + more
    return f"{text} {more}"


def blocks_from_pages(pages: list[Page]) -> tuple[list[Block], dict[int, str]]:
    """The blocks of a PDF and its footnotes."""
    body = body_size(pages)
    lines = {p.number: group_lines(p.words, p.number) for p in pages}
    remove_furniture(pages, lines)
    notes = Footnotes()
    kept: list[Line] = []
    for p in pages:
        page_lines = notes.take(p, lines[p.number], body)
        kept += [line for line in page_lines if not any(_inside(line, t.bbox) for t in p.tables)]
    vocabulary = {w.lower() for line in kept for w in _WORD.findall(line.text)}
    text_x0 = min((line.x0 for line in kept), default=0.0)
    text_x1 = max((line.x1 for line in kept), default=1.0)
    tables = find_aligned_tables(kept, text_x0, text_x1)
    in_table = {id(line): t for t in tables for line in t.lines}
    heading_sizes = sorted(
        {
            round(line.size * 2) / 2
            for line in kept
            if line.size >= HEADING_SIZE * body and line.page > 1 and len(line.text) < 150
        },
        reverse=True,
    )
    title_size = max(heading_sizes, default=float("inf"))
    blocks: list[Block] = []
    table_id = 0
    done_tables: set[int] = set()
    previous: Line | None = None
    pending_ruled = {p.number: sorted(p.tables, key=lambda t: t.bbox[1]) for p in pages}

    def flush_ruled(page: int, before: float) -> None:
        nonlocal table_id
        while pending_ruled.get(page) and pending_ruled[page][0].bbox[1] <= before:
            table = pending_ruled[page].pop(0)
            last = blocks[-1] if blocks else None
            continues = last is not None and last.kind == "row" and last.page_end == page - 1
            if not continues:
                table_id += 1
            rows = table.rows
            header: tuple[str, ...] = ()
            if table.header:
                header, rows = tuple(rows[0]), rows[1:]
            elif continues and last is not None:
                header = last.header
            for i, cells in enumerate(rows):
                if continues and i == 0 and last is not None and (not cells[0] or _cut(last.cells)):
                    last.cells = _append_row(last.cells, tuple(cells))  # a row broken by the page end
                    last.page_end = page
                    continue
                blocks.append(Block("row", "", table=table_id, cells=tuple(cells), header=header, page=page, page_end=page))

    for line in kept:
        for page in range(previous.page if previous is not None else 1, line.page):
            flush_ruled(page, float("inf"))  # tables at the end of the pages before this line's
        flush_ruled(line.page, line.top)
        table = in_table.get(id(line))
        if table is not None:
            if id(table) not in done_tables:
                done_tables.add(id(table))
                table_id += 1
                header: tuple[str, ...] = ()
                for cells, bold, refs in table_rows(table):
                    if not header and bold and not blocks_have_rows(blocks, table_id):
                        header = tuple(cells)
                        continue
                    blocks.append(
                        Block(
                            "row",
                            "",
                            footnotes=tuple(refs),
                            table=table_id,
                            cells=tuple(cells),
                            header=header,
                            page=line.page,
                            page_end=line.page,
                        )
                    )
            previous = line
            continue
        text, refs = line.render()
        if not text:
            continue
        size = round(line.size * 2) / 2
        is_bullet, marker = _bullet(line)
        gap = line.top - previous.bottom if previous is not None and previous.page == line.page else float("inf")
        last = blocks[-1] if blocks else None
        if line.page == 1 and size > title_size and size >= HEADING_SIZE * body:
            if last is not None and last.kind == "title" and gap < size:
                last.text = f"{last.text} {text}"
            else:
                blocks.append(Block("title", text, page=line.page, page_end=line.page))
        elif size >= HEADING_SIZE * body and size in heading_sizes and len(text) < 150:
            level = heading_sizes.index(size) + 1
            if (
                last is not None
                and last.kind == "heading"
                and last.level == level
                and gap < 0.6 * size
                and last.page == line.page
            ):
                last.text = f"{last.text} {text}"
            else:
                blocks.append(Block("heading", text, level=level, page=line.page, page_end=line.page))
        elif is_caption(text):
            blocks.append(Block("caption", text, footnotes=tuple(refs), page=line.page, page_end=line.page))
        elif line.bold and not ends_sentence(text) and len(text) < 90 and gap > 0.5 * body and not is_bullet:
            blocks.append(Block("heading", text, level=len(heading_sizes) + 1, page=line.page, page_end=line.page))
        elif is_bullet:
            item, _ = Line(line.words[marker:], line.page).render() if marker else (text, refs)
            blocks.append(
                Block("bullet", item.lstrip("•◦▪‣–-* "), level=1, footnotes=tuple(refs), page=line.page, page_end=line.page)
            )
        elif (
            last is not None
            and last.kind in ("para", "bullet", "quote")
            and last.page_end == line.page
            and gap <= 0.6 * line.size
            and not (last.kind == "bullet" and line.x0 < previous.x0 - 2 if previous is not None else False)
        ):
            last.text = _join(last.text, text, vocabulary)
            last.footnotes += tuple(refs)
        else:
            kind = "quote" if text[:1] in '“"' else "para"
            blocks.append(Block(kind, text, footnotes=tuple(refs), page=line.page, page_end=line.page))
        previous = line
    for page in list(pending_ruled):
        flush_ruled(page, float("inf"))
    return blocks, notes.notes


def _cut(cells: tuple[str, ...]) -> bool:
    """The row's longest cell stops mid-sentence: the page ended inside it."""
    longest = max(cells, key=len, default="")
    return bool(longest) and not ends_sentence(longest)


def _append_row(cells: tuple[str, ...], more: tuple[str, ...]) -> tuple[str, ...]:
    """The rest of a row continued on the next page: cell by cell when the columns agree, else into the cut cell."""
    if len(cells) == len(more):
        return tuple(f"{a} {b}".strip() for a, b in zip(cells, more, strict=True))
    extra = " ".join(c for c in more if c)
    target = max(range(len(cells)), key=lambda i: len(cells[i])) if cells else 0
    return tuple(f"{c} {extra}".strip() if i == target else c for i, c in enumerate(cells))


def blocks_have_rows(blocks: list[Block], table: int) -> bool:
    return any(b.kind == "row" and b.table == table for b in blocks[-3:])


def _inside(line: Line, bbox: tuple[float, float, float, float]) -> bool:
    x0, top, x1, bottom = bbox
    return line.top >= top - 1 and line.bottom <= bottom + 1 and line.x0 >= x0 - 1 and line.x1 <= x1 + 1
