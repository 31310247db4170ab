"""Lexical retrieval with bm25s: English stop words removed, Snowball stemming."""

from __future__ import annotations

import math
import re
import sys
from types import ModuleType

import numpy as np

_WORD = re.compile(r"[a-z0-9]+")
# Words that say nothing about which passage answers: English function words and question words. Words
# common in one library ("mutual" here) are not listed: inverse document frequency weighs them down.
_QUIET = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "has",
        "have",
        "how",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "that",
        "the",
        "their",
        "this",
        "to",
        "was",
        "what",
        "when",
        "where",
        "which",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "do",
        "does",
        "did",
        "can",
        "could",
        "should",
        "would",
        "about",
        "into",
        "than",
        "there",
        "these",
        "they",
        "them",
        "i",
        "me",
        "my",
        "we",
        "our",
        "you",
        "your",
        "tell",
        "say",
        "says",
        "said",
        "mean",
        "meant",
    ]
)


def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer

    return Stemmer.Stemmer("english")


def content_terms(text: str, stemmer: object | None = None) -> set[str]:
    """Stemmed content words: what "the passage covers the question's terms" is measured in."""
    words = [w for w in _WORD.findall(text.lower()) if w not in _QUIET]
    stem = stemmer or _stemmer()
    return set(stem.stemWords(words))  # type: ignore[union-attr]


def _import_bm25s() -> ModuleType:
    """bm25s with its numpy backend and no progress bars. Its optional numba and scipy backends and tqdm cost
    0.7 s of imports in every new process (half of `assistant search`'s start-up) and change nothing here
    (scores are the same; progress is never shown), so they are hidden while bm25s is imported and left
    importable for whatever needs them later (scipy for pytrec_eval in the evaluation)."""
    if "bm25s" in sys.modules:
        return sys.modules["bm25s"]
    hidden = [name for name in ("numba", "scipy", "tqdm") if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # makes `import name` raise ImportError
    try:
        import bm25s
    finally:
        for name in hidden:
            if sys.modules.get(name, ...) is None:
                del sys.modules[name]
    return bm25s


class BM25Index:
    """BM25 over the passages' section path and text. Built in memory at load: it takes milliseconds."""

    def __init__(self, texts: list[str]):
        bm25s = _import_bm25s()
        self._bm25s = bm25s
        self._stemmer = _stemmer()
        self._retriever = bm25s.BM25()
        tokens = bm25s.tokenize(texts, stopwords="en", stemmer=self._stemmer, show_progress=False)
        self._retriever.index(tokens, show_progress=False)
        self.size = len(texts)
        self.terms = [content_terms(t, self._stemmer) for t in texts]
        self.postings: dict[str, list[int]] = {}  # term → the passages holding it
        for position, terms in enumerate(self.terms):
            for term in terms:
                self.postings.setdefault(term, []).append(position)
        frequency = {term: len(held) for term, held in self.postings.items()}
        n = max(1, self.size)
        self.idf = {t: math.log((n - f + 0.5) / (f + 0.5) + 1.0) for t, f in frequency.items()}
        self.unseen_idf = math.log((n + 0.5) / 0.5 + 1.0)

    def weights(self, terms: set[str]) -> dict[str, float]:
        """Inverse document frequency of each term (rare terms say more about which passage answers)."""
        return {t: self.idf.get(t, self.unseen_idf) for t in terms}

    def coverage(self, query: str) -> tuple[set[str], list[float]]:
        """Share of the query's content terms each passage contains, each term weighted by its rarity."""
        wanted = content_terms(query, self._stemmer)
        if not wanted:
            return wanted, [0.0] * self.size
        weight = self.weights(wanted)
        total = sum(weight.values())
        share = np.zeros(self.size)
        for term in wanted:
            share[self.postings.get(term, [])] += weight[term] / total
        return wanted, share.tolist()

    def search(self, query: str, n: int) -> list[tuple[int, float]]:
        """(passage position, score) best first; only passages sharing a term with the query."""
        tokens = self._bm25s.tokenize([query], stopwords="en", stemmer=self._stemmer, show_progress=False)
        if not tokens.vocab:
            return []
        n = min(n, self.size)
        docs, scores = self._retriever.retrieve(tokens, k=n, show_progress=False, n_threads=0)  # 0: no thread pool
        return [(int(d), float(s)) for d, s in zip(np.asarray(docs[0]), np.asarray(scores[0]), strict=False) if s > 0]
