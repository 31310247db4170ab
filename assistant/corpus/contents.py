"""A document's own contents list ("Name ..... 12"): the headings it names and their depth."""

from __future__ import annotations

import re

from assistant.corpus.document import ContentsEntry
from assistant.corpus.headings import is_caps, key, numbering_depth

_CONTENTS_LINE = re.compile(r"^(?P<name>.*?)[\s.]*\t?\s*(?P<page>\d{1,3})\s*$")
_CONTENTS_ROW = re.compile(r"^.*?(\t|\.{3,})\s*\d{1,3}\s*$")


def is_contents_line(line: str) -> bool:
    """A line of a contents list: a name, then a tab or dot leaders, then a page number."""
    return bool(_CONTENTS_ROW.match(line.strip()))


def parse_contents(lines: list[str]) -> list[ContentsEntry]:
    """Turn "Name.....page" lines into entries with levels.

    Numbered entries take their numbering's depth ("3.2 …" → 2). Otherwise capitalised entries are chapters
    (level 1); an entry whose name recurs (e.g. "Key drivers" under every service area) is a child of the
    entry before it; every other entry is a section (level 2).
    """
    names: list[str] = []
    for line in lines:
        match = _CONTENTS_LINE.match(line.strip())
        name = (match.group("name") if match else line).strip().rstrip(".").strip()
        if name and any(c.isalpha() for c in name):
            names.append(name)
    counts: dict[str, int] = {}
    for name in names:
        counts[key(name)] = counts.get(key(name), 0) + 1
    entries: list[ContentsEntry] = []
    chapter: str | None = None
    section: str | None = None
    previous_level = 1
    for name in names:
        depth = numbering_depth(name)
        if depth:
            level = min(depth, 3)
        elif is_caps(name):
            level = 1
        elif counts[key(name)] > 1 and previous_level >= 2 and section is not None:
            level = 3
        else:
            level = 2
        if level == 1:
            chapter, section = name, None
            path: tuple[str, ...] = (name,)
        elif level == 2:
            section = name
            path = tuple(p for p in (chapter, name) if p)
        else:
            path = tuple(p for p in (chapter, section, name) if p)
        entries.append(ContentsEntry(name=name, level=level, path=path))
        previous_level = level
    return entries
