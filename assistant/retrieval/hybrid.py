"""Hybrid retrieval: BM25 and dense (FAISS) rankings fused by reciprocal rank fusion, then duplicates collapsed."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from assistant.index.embedder import Embedder
from assistant.passage import Passage
from assistant.retrieval.bm25 import BM25Index
from assistant.retrieval.glossary import Glossary, build_glossary


@dataclass(frozen=True)
class FusionSettings:
    candidates: int = 40
    rrf_k: int = 60
    dense_weight: float = 1.0
    bm25_weight: float = 1.0
    expand_dense: bool = True


def reciprocal_rank_fusion(rankings: list[list[int]], weights: list[float], k: int) -> dict[int, float]:
    scores: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, position in enumerate(ranking):
            scores[position] = scores.get(position, 0.0) + weight / (k + rank + 1)
    return scores


class HybridRetriever:
    """Search over one loaded index. ``search`` returns span-exact passages, best first, each once."""

    def __init__(self, passages: list[Passage], vectors: Any, embedder: Embedder, fusion: FusionSettings):
        self.passages = passages
        self.vectors = vectors
        self.embedder = embedder
        self.fusion = fusion
        self.by_id = {p.id: i for i, p in enumerate(passages)}
        self.bm25 = BM25Index([p.embed_text for p in passages])
        self.glossary: Glossary = build_glossary(passages)

    def dense(self, query: str, n: int) -> list[tuple[int, float]]:
        vector = self.embedder.embed([query])
        scores, ids = self.vectors.search(np.asarray(vector, dtype=np.float32), min(n, len(self.passages)))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=False) if i >= 0]

    def search(self, query: str, k: int = 5) -> list[Passage]:
        expanded = self.glossary.expand(query)
        n = max(self.fusion.candidates, 4 * k)
        dense = self.dense(expanded if self.fusion.expand_dense else query, n)
        lexical = self.bm25.search(expanded, n)
        fused = reciprocal_rank_fusion(
            [[i for i, _ in dense], [i for i, _ in lexical]],
            [self.fusion.dense_weight, self.fusion.bm25_weight],
            self.fusion.rrf_k,
        )
        dense_score = dict(dense)
        bm25_score = dict(lexical)
        order = sorted(fused, key=lambda i: (-fused[i], i))
        results: list[Passage] = []
        placed: dict[str, int] = {}
        for position in order:
            passage = self.passages[position]
            extra: dict[str, Any] = {
                "dense": dense_score.get(position, 0.0),
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
        return results
