"""Cleaning of the web pages (summaries and the GOV.UK page): one paragraph a line."""

from __future__ import annotations

import re

from assistant.corpus.document import Block
from assistant.corpus.structure import looks_like_heading
from assistant.corpus.text import collapse_spaces, strip_markup

_LIST_ITEM = re.compile(r"^\s*(?:[-•*]|\d+\.)\s+")


def parse_web(raw: str) -> list[Block]:
    blocks: list[Block] = []
    for line in raw.replace("\r\n", "\n").split("\n"):
        if not line.strip():
            continue
        if _LIST_ITEM.match(line):
            blocks.append(Block(kind="bullet", text=collapse_spaces(strip_markup(_LIST_ITEM.sub("", line))), level=1))
            continue
        text = collapse_spaces(strip_markup(line))
        kind = "heading" if looks_like_heading(text) else ("quote" if text[:1] in '“"' else "para")
        blocks.append(Block(kind=kind, text=text))
    return blocks
