"""The structure step every format goes through: from a parser's blocks to a document's sections.

* paragraphs cut by a page break, or by a side box dropped into them, are rejoined (pages kept as a range);
* footnote numbers glued to words by a text extraction are detached, trusting only defined footnotes
  that follow the sequence;
* table rows become readable lines: "OCS, Key priority: 2.1. Continue …" or "Advantages: …; Disadvantages: …";
* headings get their depth — from the document's contents list or PDF outline, from the format (DOCX heading
  styles, HTML h1–h6, font sizes), from their numbering, from capitals — and every block its section path;
* footnotes become blocks of their own at the end ("Footnote 12: …"), on the page that first cites them.
"""

from __future__ import annotations

import re

from assistant.corpus.document import Block, ContentsEntry, Parsed
from assistant.corpus.headings import acronyms, display, is_caps, key, numbering_depth
from assistant.corpus.text import collapse_spaces, ends_sentence, starts_lowercase

_GLUED_NUMBER = re.compile(r"(?P<pre>.)(?P<num>\d{1,3})(?=[\s.,;:)”’]|$)")
HEADER_MAX_WORDS = 4
LABEL_MAX_WORDS = 8
FOOTNOTES = "Footnotes"


def recover(parsed: Parsed) -> list[Block]:
    """The parser's blocks with paragraphs mended, rows rendered, footnotes appended and sections assigned."""
    blocks = [b for b in parsed.blocks if b.text.strip() or b.cells]
    if parsed.glued_refs and parsed.footnotes:
        detach_glued_refs(blocks, set(parsed.footnotes))
    blocks = mend_paragraphs(blocks)
    blocks = render_rows(blocks)
    blocks += footnote_blocks(parsed.footnotes, blocks)
    keep_upper = acronyms([b.text for b in blocks if b.kind in ("para", "bullet", "row", "quote")])
    assign_sections(blocks, parsed.contents, keep_upper)
    return blocks


# ---- paragraphs -------------------------------------------------------------------------------------------


def mend_paragraphs(blocks: list[Block]) -> list[Block]:
    """A paragraph or bullet left mid-sentence continues in the next lower-case paragraph, possibly after a
    side box (quote, heading, bullets, caption) that the layout put in between."""
    consumed: set[int] = set()
    for i, block in enumerate(blocks):
        if i in consumed or block.kind not in ("para", "bullet") or ends_sentence(block.text):
            continue
        for j in range(i + 1, min(i + 5, len(blocks))):
            candidate = blocks[j]
            if j in consumed:
                continue
            if candidate.kind == "para" and starts_lowercase(candidate.text):
                block.text = f"{block.text} {candidate.text}"
                block.footnotes += candidate.footnotes
                block.page_end = max(block.page_end, candidate.page_end)
                consumed.add(j)
                break
            if candidate.kind not in ("quote", "heading", "bullet", "caption"):
                break
    return [b for i, b in enumerate(blocks) if i not in consumed]


def detach_glued_refs(blocks: list[Block], defined: set[int]) -> None:
    """Remove footnote numbers glued to words ("in 2018.38"), in document order: a number counts only if it
    is a defined footnote within a few of the last one found (so "2018" and "£4 million" stay)."""
    state = [min(defined)]
    for block in blocks:
        if block.kind in ("title", "heading"):
            continue
        if block.cells:
            cells, refs = zip(*(_detach(c, defined, state) for c in block.cells), strict=True)
            block.cells = tuple(cells)
            block.footnotes += tuple(n for r in refs for n in r)
        else:
            text, refs = _detach(block.text, defined, state)
            block.text = collapse_spaces(text)
            block.footnotes += refs


def _detach(text: str, defined: set[int], state: list[int]) -> tuple[str, tuple[int, ...]]:
    refs: list[int] = []
    out: list[str] = []
    cursor = 0
    for match in _GLUED_NUMBER.finditer(text):
        pre, run = match.group("pre"), match.group("num")
        before_pre = text[match.start("pre") - 1] if match.start("pre") > 0 else " "
        if pre.isalpha() or pre in ")’”,%" or (pre == "." and before_pre.isalnum()):
            suffixes = [run[i:] for i in range(len(run))]
        elif pre.isspace() and len(run) >= 2:
            suffixes = [run[i:] for i in range(1, len(run))]  # "Programme 245." → "Programme 2" + footnote 45
        else:
            continue
        for suffix in suffixes:
            number = int(suffix)
            if number in defined and state[0] - 1 <= number <= state[0] + 8:
                cut = match.end("num") - len(suffix)
                out.append(text[cursor:cut])
                cursor = match.end("num")
                refs.append(number)
                state[0] = number
                break
    out.append(text[cursor:])
    return "".join(out), tuple(refs)


# ---- tables -----------------------------------------------------------------------------------------------


def is_header_row(cells: tuple[str, ...]) -> bool:
    """Short cells without figures: a table's header row ("Who | What | Focus")."""
    filled = [c for c in cells if c]
    return len(filled) > 1 and all(len(c.split()) <= HEADER_MAX_WORDS and not any(ch.isdigit() for ch in c) for c in filled)


def row_text(cells: tuple[str, ...], header: tuple[str, ...] = ()) -> str:
    """A table row as a readable line.

    Two cells: "label: value". A short first cell labels the row, other short cells qualify it and the long
    ones say what it is about: "OCS, Key priority: 2.1. Continue …". Otherwise each cell is named by its
    column: "Advantages: …; Disadvantages: …".
    """
    kept = [(i, c) for i, c in enumerate(cells) if any(ch.isalnum() for ch in c)]
    if not kept:
        return ""
    if len(kept) == 1:
        return kept[0][1]
    if len(kept) == 2:
        return f"{kept[0][1]}: {kept[1][1]}"
    words = {i: len(c.split()) for i, c in kept}
    first, longest = kept[0][0], max(words.values())
    if words[first] <= LABEL_MAX_WORDS and longest >= 2 * words[first]:
        short = [c for i, c in kept[1:] if words[i] <= HEADER_MAX_WORDS]
        long = [c for i, c in kept[1:] if words[i] > HEADER_MAX_WORDS]
        if long:
            label = ", ".join([kept[0][1], *short])
            return f"{label}: {'; '.join(long)}"
    if header:
        return "; ".join(f"{header[i]}: {c}" if i < len(header) and header[i] else c for i, c in kept)
    return "; ".join(c for _, c in kept)


def render_rows(blocks: list[Block]) -> list[Block]:
    """Rows get their table's header (the first row, when it looks like one and the format gave none) and a
    readable text; header rows themselves are dropped (their words are in every row)."""
    out: list[Block] = []
    header: tuple[str, ...] = ()
    table = None
    for block in blocks:
        if block.kind != "row":
            out.append(block)
            continue
        if block.table != table:
            table = block.table
            header = block.header
            if not header and is_header_row(block.cells):
                header = block.cells
                continue
        block.header = block.header or header
        block.text = row_text(block.cells, block.header) if block.cells else block.text
        if block.text:
            out.append(block)
    return out


# ---- footnotes --------------------------------------------------------------------------------------------


def footnote_blocks(footnotes: dict[int, str], blocks: list[Block]) -> list[Block]:
    """One block per footnote, after the body, on the page of the first block that cites it."""
    if not footnotes:
        return []
    page_of: dict[int, int] = {}
    for block in blocks:
        for n in block.footnotes:
            page_of.setdefault(n, block.page)
    out = [Block(kind="heading", text=FOOTNOTES, level=1)]
    for n, text in sorted(footnotes.items()):
        page = page_of.get(n, 0)
        out.append(Block(kind="footnote", text=f"Footnote {n}: {collapse_spaces(text)}", page=page, page_end=page))
    return out


# ---- sections ---------------------------------------------------------------------------------------------


class SectionTracker:
    """Walks headings in order and gives each its path.

    A heading found in the contents (matched in order, so a repeated name goes to its next occurrence) takes
    the contents' path; one whose depth is known (format, numbering) sits under the headings above it; a
    capitalised one starts a chapter; any other sits one level below the last of those, replacing its
    siblings.
    """

    WINDOW = 4

    def __init__(self, contents: list[ContentsEntry], keep_upper: set[str]):
        self.contents = contents
        self.keep_upper = keep_upper
        self.pointer = 0
        self.matched_any = False
        self.stack: list[str] = []
        self.base: tuple[str, ...] = ()
        self.path: tuple[str, ...] = ()

    def find(self, text: str) -> int | None:
        """Index of the contents entry this heading matches next, without moving on."""
        wanted = key(text)
        if not self.matched_any:
            candidates = range(len(self.contents))
        else:
            candidates = range(self.pointer, min(len(self.contents), self.pointer + self.WINDOW))
        return next((i for i in candidates if key(self.contents[i].name) == wanted), None)

    def heading(self, text: str, level: int, given: bool = False) -> tuple[str, ...]:
        """The heading's path. ``given``: its level comes from the format (styles, font sizes), which then wins
        over the contents."""
        found = None if given else self.find(text)
        shown = display(text, self.keep_upper)
        if found is not None:
            self.pointer = found + 1
            self.matched_any = True
            path = tuple(display(p, self.keep_upper) for p in self.contents[found].path)
            self.stack = list(path)
            self.base = self.path = path
        elif level > 0:
            self.stack = [*self.stack[: level - 1], shown]
            self.base = self.path = tuple(self.stack)
        elif is_caps(text):
            self.stack = [shown]
            self.base = self.path = (shown,)
        else:
            self.path = (*self.base, shown)
        return self.path


def assign_sections(blocks: list[Block], contents: list[ContentsEntry], keep_upper: set[str]) -> None:
    """Set ``block.section`` and heading levels in place.

    A heading of unknown depth that is in neither the contents nor capitalised, and is followed directly by
    another heading (or nothing), labels nothing: it becomes a paragraph.
    """
    tracker = SectionTracker(contents, keep_upper)
    for i, block in enumerate(blocks):
        if block.kind == "heading":
            level = block.level or numbering_depth(block.text)
            following = blocks[i + 1] if i + 1 < len(blocks) else None
            labels_nothing = following is None or following.kind in ("heading", "title")
            if not level and labels_nothing and tracker.find(block.text) is None and not is_caps(block.text):
                block.kind = "para"
            else:
                block.section = tracker.heading(block.text, level, given=block.level > 0)
                block.level = len(block.section)
                continue
        if block.kind == "footnote":
            block.section = (FOOTNOTES,)
        elif block.kind == "title":
            block.section = ()
        else:
            block.section = tracker.path
