"""Sentences inside passages: the finer unit for dense matching and for extractive answers."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from assistant.passage import Passage

_SENTENCE_END = re.compile(r"(?<=[.!?])(?P<quote>[”’\"]?)\s+(?=[A-Z0-9“\"‘(£])")
_LAST_WORD = re.compile(r"(\S+)[.!?][”’\"]?$")
_LIST_NUMBER = re.compile(r"^\(?\d{1,2}(?:\.\d{1,2})*$")
ABBREVIATIONS = frozenset(
    [
        "e.g",
        "i.e",
        "etc",
        "vs",
        "cf",
        "no",
        "nos",
        "approx",
        "dr",
        "mr",
        "mrs",
        "ms",
        "st",
        "prof",
        "fig",
        "figs",
        "p",
        "pp",
        "c",
        "ca",
        "al",
        "ed",
        "eds",
        "vol",
        "op",
        "para",
        "paras",
    ]
)
MIN_CHARS = 12


def sentence_cuts(line: str) -> list[int]:
    """Where sentences end in one line: after . ! ? and a space before a capital or digit — but not after a
    list number ("1.", "3.2."), an abbreviation ("e.g.", "Dr.") or an initial ("N. Watson")."""
    cuts = []
    for match in _SENTENCE_END.finditer(line):
        word = _LAST_WORD.search(line[: match.start()])
        token = word.group(1).lstrip('(“"‘') if word else ""
        if _LIST_NUMBER.match(token) or token.lower().rstrip(".") in ABBREVIATIONS:
            continue
        if len(token) == 1 and token.isupper():
            continue
        cuts.append(match.start() + len(match.group("quote")))
    return cuts


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
        cuts = [0, *sentence_cuts(line), len(line)]
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
