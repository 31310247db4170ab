"""The scale run of ``assistant bench --only scale``: the retrieval at N times the library's size.

The synthetic corpus is the real passages (not footnotes or glossary entries) copied N times, shuffled under
new section names. Embedding it would take the better part of an hour on two cores, so its vectors are the
real passages' vectors, jittered and re-normalised; everything else — FAISS build, BM25 index, hybrid search
with real query embeddings — runs for real at that size.
"""

from __future__ import annotations

import random
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from assistant.evaluation.bench_stats import Percentiles
from assistant.passage import Passage

SEARCHES = 60


@dataclass(frozen=True)
class ScaleResult:
    index_type: str
    copies: int
    passages: int
    sentences: int
    faiss_build_s: float
    retriever_build_s: float
    faiss_bytes: int
    search: Percentiles
    dense_only_search: Percentiles


def _timed(fn: Any, items: list[Any], warm_up: int = 5) -> list[float]:
    for item in items[:warm_up]:
        fn(item)
    out = []
    for item in items:
        started = time.perf_counter()
        fn(item)
        out.append(time.perf_counter() - started)
    return out


def synthetic_corpus(assistant: Any, copies: int) -> tuple[list[Passage], np.ndarray]:
    """The library's passages ``copies`` times over under new sections, with jittered copies of their vectors."""
    rng = random.Random(copies)
    noise = np.random.default_rng(copies)
    source = [p for p in assistant.passages if p.kind not in ("footnote", "glossary")]
    vectors = assistant.retriever.passage_matrix
    position = {p.id: i for i, p in enumerate(assistant.passages)}
    passages: list[Passage] = []
    rows: list[np.ndarray] = []
    for copy in range(copies):
        shuffled = source[:]
        rng.shuffle(shuffled)
        for j, p in enumerate(shuffled):
            section = f"Synthetic part {copy + 1} › Section {j // 7 + 1}"
            passages.append(replace(p, id=f"synthetic#{len(passages)}", section=section, duplicate_of="", also_in=()))
            v = vectors[position[p.id]] + noise.normal(0, 0.02, vectors.shape[1]).astype(np.float32)
            rows.append(v / np.linalg.norm(v))
    return passages, np.vstack(rows).astype(np.float32)


def scale_run(assistant: Any, copies: int, index_type: str, questions: list[str]) -> ScaleResult:
    import faiss

    from assistant.chunks.sentences import split_passages
    from assistant.index.store import make_faiss
    from assistant.retrieval.hybrid import HybridRetriever

    passages, matrix = synthetic_corpus(assistant, copies)
    started = time.perf_counter()
    index = make_faiss(matrix, index_type)
    faiss_s = time.perf_counter() - started
    sentences = split_passages(passages)
    sentence_index = make_faiss(np.vstack([matrix[s.passage] for s in sentences]).astype(np.float32), index_type)
    with tempfile.TemporaryDirectory(prefix="assistant-bench-scale-") as tmp:
        paths = [Path(tmp) / "vectors.faiss", Path(tmp) / "sentences.faiss"]
        faiss.write_index(index, str(paths[0]))
        faiss.write_index(sentence_index, str(paths[1]))
        size = sum(p.stat().st_size for p in paths)
    embedder = assistant.embedder
    started = time.perf_counter()
    retriever = HybridRetriever(
        passages,
        index,
        embedder,
        assistant.settings.retrieval,
        sentences,
        sentence_index,
        assistant.index.documents,
        assistant.profile,
    )
    retriever_s = time.perf_counter() - started
    asked = questions[:SEARCHES]
    return ScaleResult(
        index_type=index_type,
        copies=copies,
        passages=len(passages),
        sentences=len(sentences),
        faiss_build_s=round(faiss_s, 2),
        retriever_build_s=round(retriever_s, 2),
        faiss_bytes=size,
        search=Percentiles.of_seconds(_timed(lambda q: retriever.search(q, 5), asked)),
        dense_only_search=Percentiles.of_seconds(_timed(lambda q: index.search(embedder.embed([q]), 40), asked)),
    )
