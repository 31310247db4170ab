"""Lexical retrieval with bm25s: English stop words removed, Snowball stemming."""

from __future__ import annotations

import numpy as np


def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer

    return Stemmer.Stemmer("english")


class BM25Index:
    """BM25 over the passages' section path and text. Built in memory at load: it takes milliseconds."""

    def __init__(self, texts: list[str]):
        import bm25s

        self._bm25s = bm25s
        self._stemmer = _stemmer()
        self._retriever = bm25s.BM25()
        tokens = bm25s.tokenize(texts, stopwords="en", stemmer=self._stemmer, show_progress=False)
        self._retriever.index(tokens, show_progress=False)
        self.size = len(texts)

    def search(self, query: str, n: int) -> list[tuple[int, float]]:
        """(passage position, score) best first; only passages sharing a term with the query."""
        tokens = self._bm25s.tokenize([query], stopwords="en", stemmer=self._stemmer, show_progress=False)
        if not tokens.vocab:
            return []
        n = min(n, self.size)
        docs, scores = self._retriever.retrieve(tokens, k=n, show_progress=False, n_threads=1)
        return [(int(d), float(s)) for d, s in zip(np.asarray(docs[0]), np.asarray(scores[0]), strict=False) if s > 0]
