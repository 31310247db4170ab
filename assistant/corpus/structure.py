"""Document structure: the table of contents, heading detection, and the section path of every block."""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.corpus.document import Block

_TOC_LINE = re.compile(r"^(?P<name>.*?)[\s.]*\t?\s*(?P<page>\d{1,3})\s*$")
_NUMBERED_QUESTION = re.compile(r"^\d\)\s+\S.*\?$")
_FIGURE = re.compile(r"^(Figure|Table)\s+\d+\s*:", re.IGNORECASE)
_CASE_STUDY = re.compile(r"^Case stud(y|ies)\b", re.IGNORECASE)
_TERMINAL = '.!?;,:)"”’'
# Small words kept lower case when a capitalised heading is shown in sentence case.
_KEEP_UPPER = {"NHS", "GP", "GPS", "PCN", "PCNS", "DCMS", "DHSC", "UK", "CIC", "CQC", "OCS", "MSP2"}


@dataclass(frozen=True)
class TocEntry:
    name: str
    level: int
    path: tuple[str, ...]


def key(text: str) -> str:
    """Comparison key for headings: case, punctuation, dot leaders and spacing folded."""
    return re.sub(r"[^a-z0-9]+", " ", text.casefold()).strip()


def is_caps(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 4 and all(c.isupper() for c in letters)


def display(text: str) -> str:
    """Heading as shown in a section path: capitalised chapters become sentence case."""
    text = " ".join(text.split())
    if not is_caps(text):
        return text
    words = text.split()
    out = []
    for i, word in enumerate(words):
        if word.upper().strip("(),") in _KEEP_UPPER:
            out.append(word)
        elif i == 0:
            out.append(word[:1] + word[1:].lower())
        else:
            out.append(word.lower())
    return " ".join(out)


def parse_toc(lines: list[str]) -> list[TocEntry]:
    """Turn "Name.....page" lines into entries with levels.

    Capitalised entries are chapters (level 1). An entry whose name recurs (e.g. "Key drivers and
    opportunities for mutualisation" under every service area) is a child of the entry before it;
    every other entry is a section (level 2).
    """
    names: list[str] = []
    for line in lines:
        match = _TOC_LINE.match(line.strip())
        name = (match.group("name") if match else line).strip().rstrip(".").strip()
        if name and any(c.isalpha() for c in name):
            names.append(name)
    counts: dict[str, int] = {}
    for name in names:
        counts[key(name)] = counts.get(key(name), 0) + 1
    entries: list[TocEntry] = []
    chapter: str | None = None
    section: str | None = None
    previous_level = 1
    for name in names:
        shown = display(name)
        if is_caps(name):
            level, chapter, section = 1, shown, None
            path: tuple[str, ...] = (shown,)
        elif counts[key(name)] > 1 and previous_level >= 2 and section is not None:
            level = 3
            path = tuple(p for p in (chapter, section, shown) if p)
        else:
            level, section = 2, shown
            path = tuple(p for p in (chapter, shown) if p)
        entries.append(TocEntry(name=name, level=level, path=path))
        previous_level = level
    return entries


def looks_like_heading(text: str) -> bool:
    """A short line that names what follows: no sentence ending, no table cells, not a bullet or quote."""
    text = text.strip()
    if not text or "\t" in text or "\n" in text or len(text) > 130:
        return False
    if text[0] in "-•*“\"‘'(" or (text[0].isdigit() and not _NUMBERED_QUESTION.match(text)):
        return False
    if _NUMBERED_QUESTION.match(text):
        return True
    if len(text) > 90:
        return False
    if _FIGURE.match(text):
        return False  # figure captions stay with their table
    if _CASE_STUDY.match(text):
        return len(text.split()) <= 10
    if not text[0].isupper():
        return False
    if text[-1] in _TERMINAL or len(text.split()) > 10:
        return False
    if "http" in text or "@" in text or re.search(r"\bby:", text):
        return False
    return not (is_caps(text) and len(text.split()) < 2)


def is_caption(text: str) -> bool:
    return bool(_FIGURE.match(text.strip()))


class SectionTracker:
    """Walks headings in order and gives every block its section path.

    Headings found in the table of contents take the path the contents give them (matched in order,
    so a repeated name goes to its next occurrence); other headings sit one level below the last
    contents heading, replacing each other as siblings.
    """

    WINDOW = 4

    def __init__(self, toc: list[TocEntry]):
        self.toc = toc
        self.pointer = 0
        self.matched_any = False
        self.base: tuple[str, ...] = ()
        self.path: tuple[str, ...] = ()

    def find(self, text: str) -> int | None:
        """Index of the contents entry this heading matches next, without moving on."""
        wanted = key(text)
        if not self.matched_any:
            candidates = range(len(self.toc))
        else:
            candidates = range(self.pointer, min(len(self.toc), self.pointer + self.WINDOW))
        return next((i for i in candidates if key(self.toc[i].name) == wanted), None)

    def _match(self, text: str) -> TocEntry | None:
        found = self.find(text)
        if found is None:
            return None
        self.pointer = found + 1
        self.matched_any = True
        return self.toc[found]

    def heading(self, text: str, caps_chapter: bool = False) -> tuple[str, ...]:
        entry = self._match(text)
        if entry is not None:
            self.base = entry.path
            self.path = entry.path
        elif caps_chapter:
            self.base = (display(text),)
            self.path = self.base
        else:
            self.path = (*self.base, display(text))
        return self.path


def assign_sections(blocks: list[Block], toc: list[TocEntry], starts_in: str = "") -> None:
    """Set ``block.section`` (and heading levels) in place.

    A heading that is in neither the contents nor capitalised, and is followed directly by another
    heading (or nothing), labels nothing: it is demoted to a paragraph.
    """
    tracker = SectionTracker(toc)
    if starts_in:
        tracker.heading(starts_in, caps_chapter=is_caps(starts_in))
    for i, block in enumerate(blocks):
        if block.kind == "heading":
            following = blocks[i + 1] if i + 1 < len(blocks) else None
            labels_nothing = following is None or following.kind in ("heading", "title")
            if labels_nothing and tracker.find(block.text) is None and not is_caps(block.text):
                block.kind = "para"
            else:
                block.section = tracker.heading(block.text, caps_chapter=is_caps(block.text))
                block.level = len(block.section)
                continue
        if block.kind == "footnote":
            block.section = ("Footnotes",)
        elif block.kind == "title":
            block.section = ()
        else:
            block.section = tracker.path
