"""Sentences inside passages: the finer unit for dense matching and for extractive answers."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from assistant.passage import Passage

# A sentence ends at . ! ? — but not after a list number such as "1." or "3.2." ("1.1. Explore options…").
_SENTENCE_END = re.compile(r"(?<![\s|]\d\.)(?<![\s|]\d\d\.)(?<!\d\.\d\.)(?<!\d\.\d\d\.)(?<=[.!?])[”’\"]?\s+(?=[A-Z0-9“\"‘(£])")
MIN_CHARS = 12


@dataclass(frozen=True)
class Sentence:
    """A span of a passage's document: ``document.text[start:end] == text``."""

    passage: int  # position of the passage in the index
    start: int
    end: int
    text: str


def split_passage(position: int, passage: Passage) -> list[Sentence]:
    """Sentences of a passage; a table row, bullet or line is never merged with the next one."""
    sentences: list[Sentence] = []
    offset = 0
    for line in passage.text.split("\n"):
        line_start = offset
        offset += len(line) + 1
        if not line.strip():
            continue
        cuts = [0] + [m.start() for m in _SENTENCE_END.finditer(line)] + [len(line)]
        for a, b in itertools.pairwise(cuts):
            piece = line[a:b]
            stripped = piece.strip()
            if len(stripped) < MIN_CHARS:
                if sentences and sentences[-1].passage == position and stripped:
                    last = sentences[-1]
                    end = passage.start + line_start + a + len(piece.rstrip())
                    sentences[-1] = Sentence(
                        position, last.start, end, passage.text[last.start - passage.start : end - passage.start]
                    )
                continue
            lead = len(piece) - len(piece.lstrip())
            start = passage.start + line_start + a + lead
            end = start + len(stripped)
            sentences.append(Sentence(position, start, end, stripped))
    return sentences


def split_passages(passages: list[Passage]) -> list[Sentence]:
    out: list[Sentence] = []
    for position, passage in enumerate(passages):
        out.extend(split_passage(position, passage))
    return out
