"""The one result retrieval hands on: passages best first, their sentences scored against the query, the
passages around them in their sections, and what the library does not know of the query.

An answerer reads only this (``Answerer.answer(question, hits)``), never the retriever's internals.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from assistant.passage import Passage


@dataclass(frozen=True)
class SentenceHit:
    """One sentence of a retrieved passage: a span of its document, with its cosine to the query."""

    passage: Passage
    start: int  # document offsets: document.text[start:end] == text
    end: int
    text: str
    cosine: float
    vector: np.ndarray = field(repr=False, compare=False)
    starts_line: bool = False  # begins a line of its passage (a paragraph, a bullet, a row)
    position: int = 0  # order of the sentence in its passage


@dataclass(frozen=True)
class Hits:
    """What retrieval found for one (standalone) query."""

    query: str
    passages: list[Passage]  # best first, duplicates collapsed
    sentences: dict[str, list[SentenceHit]]  # passage id → its sentences, in document order
    vector: np.ndarray = field(repr=False)  # the query's embedding
    neighbours: dict[str, list[Passage]] = field(default_factory=dict)  # passage id → its section, in order
    unknown_terms: tuple[str, ...] = ()  # name words of the query that no document of the library contains
    term_weights: dict[str, float] = field(default_factory=dict)  # the query's content terms and their rarity
    unplaced_names: tuple[str, ...] = ()  # names of several words ("Leeds City Council") no passage holds all of

    def sentences_of(self, passage: Passage) -> list[SentenceHit]:
        return self.sentences.get(passage.id, [])

    @property
    def all_sentences(self) -> list[SentenceHit]:
        return [s for p in self.passages for s in self.sentences_of(p)]
