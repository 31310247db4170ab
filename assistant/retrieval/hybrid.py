"""Hybrid retrieval: BM25 and dense (FAISS) candidates, scored by weighted features, duplicates collapsed.

Candidates come from BM25, dense passage search and dense sentence search; each is scored by its
passage cosine, its best sentence's cosine and how many of the question's terms it holds (weights
tuned on the dev split), with small structural cues: footnotes count for the passages citing them,
"what is X?" prefers the glossary entry for X, "what should…?" prefers the report's recommendations, a
named document is preferred. Reciprocal rank fusion remains available (``FusionSettings(method="rrf")``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from assistant.chunks.sentences import Sentence
from assistant.index.embedder import Embedder
from assistant.passage import Passage
from assistant.retrieval.bm25 import BM25Index
from assistant.retrieval.glossary import Glossary, build_glossary
from assistant.retrieval.recommendations import asks_for_recommendation, is_recommendation


@dataclass(frozen=True)
class FusionSettings:
    """How the signals are combined. Defaults were tuned on the dev split of eval/questions.jsonl."""

    candidates: int = 40
    sentence_candidates: int = 120
    method: str = "linear"  # "linear" (weighted features) or "rrf" (reciprocal rank fusion)
    rrf_k: int = 60
    dense_weight: float = 1.0  # cosine of the passage
    sentence_weight: float = 1.0  # cosine of its best sentence
    bm25_weight: float = 0.0  # BM25 scaled by the best BM25 score (BM25 still proposes candidates)
    coverage_weight: float = 1.0  # share of the question's content terms the passage contains
    reference_penalty: float = 0.2  # footnotes and bibliography, unless nothing else matches
    definition_boost: float = 0.3  # "what is X?" prefers the glossary entry for X
    document_boost: float = 0.15  # "what does the GOV.UK page say…" prefers that document
    recommendation_boost: float = 0.4  # "should…?", "what does it recommend/propose…?" prefers recommendations
    expand_dense: bool = True


def reciprocal_rank_fusion(rankings: list[list[int]], weights: list[float], k: int) -> dict[int, float]:
    scores: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, position in enumerate(ranking):
            scores[position] = scores.get(position, 0.0) + weight / (k + rank + 1)
    return scores


_DEFINITION_CUE = re.compile(
    r"^\s*(?:what(?:'s|\s+is|\s+are|\s+was|\s+does|\s+do)\b|define\b|definition\b|meaning\b|who\s+is\b)|\b(?:mean|means|stand for|stands for|defined)\b",
    re.IGNORECASE,
)


# How people name the documents of the corpus (manifest kinds).
_DOCUMENT_CUES = {
    "web summary": re.compile(r"\b(?:web\s*summary|website|web\s*page|blog)\b", re.IGNORECASE),
    "publication page": re.compile(r"\b(?:gov\.?uk|publication page)\b", re.IGNORECASE),
    "chapter extract": re.compile(r"\b(?:chapter extract|extract)\b", re.IGNORECASE),
}


def _fold(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.casefold().replace("’", "'").replace("'s", "")))


def _citing_passages(passages: list[Passage]) -> dict[int, list[int]]:
    """Footnote passage position → positions of the passages (same document) that cite its footnotes."""
    holder: dict[tuple[str, int], int] = {}
    for i, p in enumerate(passages):
        if p.kind == "footnote":
            for number in re.findall(r"^Footnote (\d+):", p.text, flags=re.MULTILINE):
                holder[(p.doc_id, int(number))] = i
    cited: dict[int, list[int]] = {}
    for i, p in enumerate(passages):
        if p.kind == "footnote":
            continue
        for number in p.footnotes:
            if (p.doc_id, number) in holder:
                cited.setdefault(holder[(p.doc_id, number)], []).append(i)
    return cited


class HybridRetriever:
    """Search over one loaded index. ``search`` returns span-exact passages, best first, each once."""

    def __init__(
        self,
        passages: list[Passage],
        vectors: Any,
        embedder: Embedder,
        fusion: FusionSettings,
        sentences: list[Sentence] | None = None,
        sentence_vectors: Any = None,
        document_kinds: dict[str, str] | None = None,
    ):
        import faiss

        # A query touches a few thousand vectors: one thread is plenty, and idle FAISS (OpenMP) threads
        # spinning after each search would otherwise steal the CPU from the query embedding.
        faiss.omp_set_num_threads(1)
        self.passages = passages
        self.vectors = vectors
        self.sentences = sentences or []
        self.sentence_vectors = sentence_vectors
        self.embedder = embedder
        self.fusion = fusion
        self.by_id = {p.id: i for i, p in enumerate(passages)}
        self.is_reference = [p.kind == "footnote" or p.section.endswith("Bibliography") for p in passages]
        self.is_recommendation = [is_recommendation(p.text) for p in passages]
        self.passage_matrix = vectors.reconstruct_n(0, vectors.ntotal)
        self.sentence_matrix = (
            sentence_vectors.reconstruct_n(0, sentence_vectors.ntotal)
            if sentence_vectors is not None and sentences
            else np.zeros((0, self.passage_matrix.shape[1]), dtype=np.float32)
        )
        self.cited_by = _citing_passages(passages)
        self.doc_kinds = [(document_kinds or {}).get(p.doc_id, "") for p in passages]
        self.glossary_terms = [_fold(p.text.split(":", 1)[0]) if p.kind == "glossary" else "" for p in passages]
        self.sentences_of: list[list[int]] = [[] for _ in passages]
        for i, sentence in enumerate(self.sentences):
            self.sentences_of[sentence.passage].append(i)
        self.bm25 = BM25Index([p.embed_text for p in passages])
        self.glossary: Glossary = build_glossary(passages)

    def _score(self, candidates: list[int], vector: np.ndarray, query: str, bm25: dict[int, float]) -> dict[int, float]:
        """Weighted features for every candidate, computed exactly (not only for those FAISS returned)."""
        f = self.fusion
        passage_cos = self.passage_matrix[candidates] @ vector[0]
        # only the candidates' own sentences are scored, so the cost does not grow with the corpus
        rows = [self.sentences_of[c] for c in candidates]
        lengths = np.array([len(r) for r in rows])
        best_sentence = np.zeros(len(candidates), dtype=np.float32)
        if lengths.sum():
            flat = np.fromiter((i for r in rows for i in r), dtype=np.int64, count=int(lengths.sum()))
            cosines = self.sentence_matrix[flat] @ vector[0]
            starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
            present = lengths > 0
            best_sentence[present] = np.maximum.reduceat(cosines, starts[present])
        top_bm25 = max(bm25.values(), default=0.0) or 1.0
        _, coverage = self.bm25.coverage(query)
        scores: dict[int, float] = {}
        for j, c in enumerate(candidates):
            scores[c] = (
                f.dense_weight * float(passage_cos[j])
                + f.sentence_weight * float(best_sentence[j])
                + f.bm25_weight * bm25.get(c, 0.0) / top_bm25
                + f.coverage_weight * coverage[c]
            )
        # A matching footnote (a source, an author quoted) also speaks for the passage that cites it.
        for c in list(scores):
            if self.passages[c].kind != "footnote":
                continue
            for citing in self.cited_by.get(c, []):
                inherited = scores[c] - f.reference_penalty / 2
                if inherited > scores.get(citing, float("-inf")):
                    scores[citing] = inherited
        for c in scores:
            scores[c] -= f.reference_penalty * self.is_reference[c]
        named = {kind for kind, cue in _DOCUMENT_CUES.items() if cue.search(query)}
        if named:
            for c in scores:
                if self.doc_kinds[c] in named:
                    scores[c] += f.document_boost
        if asks_for_recommendation(query):
            for c in scores:
                scores[c] += f.recommendation_boost * self.is_recommendation[c]
        if _DEFINITION_CUE.search(query):
            lowered = f" {_fold(query)} "
            for c in scores:
                term = self.glossary_terms[c]
                if term and f" {term} " in lowered:
                    scores[c] += f.definition_boost
        return scores

    def embed_query(self, query: str) -> np.ndarray:
        return np.asarray(self.embedder.embed([query]), dtype=np.float32)

    def dense(self, vector: np.ndarray, n: int) -> list[tuple[int, float]]:
        scores, ids = self.vectors.search(vector, min(n, len(self.passages)))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=False) if i >= 0]

    def sentence_dense(self, vector: np.ndarray, n: int) -> tuple[list[tuple[int, float]], dict[int, float]]:
        """Passages ranked by their best-matching sentence; also every sentence score seen."""
        if self.sentence_vectors is None or not self.sentences:
            return [], {}
        scores, ids = self.sentence_vectors.search(vector, min(n, len(self.sentences)))
        best: dict[int, float] = {}
        seen: dict[int, float] = {}
        for i, score in zip(ids[0], scores[0], strict=False):
            if i < 0:
                continue
            seen[int(i)] = float(score)
            position = self.sentences[int(i)].passage
            if position not in best:
                best[position] = float(score)
        return sorted(best.items(), key=lambda item: -item[1]), seen

    def search(self, query: str, k: int = 5) -> list[Passage]:
        return self.search_with_vector(query, k)[0]

    def search_with_vector(self, query: str, k: int = 5) -> tuple[list[Passage], np.ndarray]:
        """Search, also returning the query vector (so answers need not embed the query again)."""
        expanded = self.glossary.expand(query)
        n = max(self.fusion.candidates, 4 * k)
        # the embedder understands plain words itself; it gets the acronym expansions only
        vector = self.embed_query(self.glossary.expand(query, plain_words=False) if self.fusion.expand_dense else query)
        dense = self.dense(vector, n)
        by_sentence, _ = self.sentence_dense(vector, self.fusion.sentence_candidates)
        lexical = self.bm25.search(expanded, n)
        if self.fusion.method == "rrf":
            fused = reciprocal_rank_fusion(
                [[i for i, _ in dense], [i for i, _ in by_sentence[:n]], [i for i, _ in lexical]],
                [self.fusion.dense_weight, self.fusion.sentence_weight, self.fusion.bm25_weight or 1.0],
                self.fusion.rrf_k,
            )
        else:
            candidates = {i for i, _ in dense} | {i for i, _ in by_sentence[:n]} | {i for i, _ in lexical}
            fused = self._score(sorted(candidates), vector, expanded, dict(lexical))
        dense_score = dict(dense)
        sentence_best = dict(by_sentence)
        bm25_score = dict(lexical)
        order = sorted(fused, key=lambda i: (-fused[i], i))
        results: list[Passage] = []
        placed: dict[str, int] = {}
        for position in order:
            passage = self.passages[position]
            extra: dict[str, Any] = {
                "dense": max(dense_score.get(position, 0.0), sentence_best.get(position, 0.0)),
                "bm25": bm25_score.get(position, 0.0),
                "expanded_query": expanded,
            }
            if passage.duplicate_of and passage.duplicate_of in self.by_id:
                primary_position = self.by_id[passage.duplicate_of]
                primary = self.passages[primary_position]
                extra["dense"] = max(extra["dense"], dense_score.get(primary_position, 0.0))
                if primary.id in placed:
                    continue
                passage = primary
            if passage.id in placed:
                continue
            placed[passage.id] = len(results)
            results.append(replace(passage, score=round(fused[position], 6), extra=extra))
            if len(results) >= k:
                break
        return results, vector
