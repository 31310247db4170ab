"""``assistant bench``: build, load, search and ask timings, memory, and a 100× scale run (flat vs HNSW).

The scale run builds a synthetic corpus from the real text (paragraphs shuffled under new section
names). Embedding it would take the better part of an hour on two cores, so its vectors are the real
passages' vectors, jittered and re-normalised; everything else — FAISS build, BM25 index, hybrid
search with real query embeddings — runs for real at that size, with the embedding time it would
need estimated from the measured throughput.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from assistant.config import Settings
from assistant.evaluation.questions import DEFAULT_QUESTIONS, load_questions
from assistant.evaluation.report import BENCH_DIR


def _pcts(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    q = statistics.quantiles(ordered, n=100, method="inclusive")
    return {"p50_ms": round(statistics.median(ordered), 2), "p95_ms": round(q[94], 2)}


def _timed(fn: Any, items: list[Any], warm_up: int = 5) -> list[float]:
    for item in items[:warm_up]:
        fn(item)
    out = []
    for item in items:
        started = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - started) * 1000)
    return out


def _dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def run_bench(scale: int = 100, index_types: tuple[str, ...] = ("flat", "hnsw"), progress: bool = False) -> dict[str, Any]:
    from assistant.api import Assistant
    from assistant.index.embedder import SentenceTransformerEmbedder

    results: dict[str, Any] = {"created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    started = time.perf_counter()
    embedder = SentenceTransformerEmbedder()
    results["model_load_s"] = round(time.perf_counter() - started, 2)
    base = Settings.from_env()
    questions = load_questions(DEFAULT_QUESTIONS)

    with tempfile.TemporaryDirectory(prefix="assistant-bench-") as tmp:
        settings = replace(base, index_dir=Path(tmp) / "index")
        started = time.perf_counter()
        assistant = Assistant.load(settings, embedder=embedder, notify=lambda _m: None, progress=progress)
        build_s = time.perf_counter() - started
        n_passages, n_sentences = len(assistant.passages), len(assistant.index.sentences)
        words = sorted(len(p.text.split()) for p in assistant.passages)
        packed = sorted(len(p.text.split()) for p in assistant.passages if p.kind not in ("glossary", "footnote"))
        results["passage_words"] = {
            "all": {"min": words[0], "median": statistics.median(words), "max": words[-1]},
            "packed (not glossary or footnote)": {
                "count": len(packed),
                "min": packed[0],
                "p10": packed[len(packed) // 10],
                "median": statistics.median(packed),
                "p90": packed[len(packed) * 9 // 10],
                "max": packed[-1],
            },
            "by_kind": {k: sum(p.kind == k for p in assistant.passages) for k in sorted({p.kind for p in assistant.passages})},
            "max_word_pieces": max(embedder.count_tokens(p.embed_text) for p in assistant.passages),
        }
        texts = [p.embed_text for p in assistant.passages]
        started = time.perf_counter()
        embedder.embed(texts)
        raw_s = time.perf_counter() - started
        results["cold_build"] = {
            "seconds": round(build_s, 2),
            "passages": n_passages,
            "sentences": n_sentences,
            "passages_per_s": round(n_passages / build_s, 1),
            "embedded_texts_per_s": round((n_passages + n_sentences) / build_s, 1),
            "raw_model_passages_per_s": round(n_passages / raw_s, 1),
            "index_bytes": _dir_size(settings.index_dir),
        }
        loads = []
        for _ in range(3):
            started = time.perf_counter()
            Assistant.load(settings, embedder=embedder, notify=lambda _m: None)
            loads.append(time.perf_counter() - started)
        results["warm_load_s"] = round(min(loads), 3)

        plain = [(q.question, q.history) for q in questions]
        results["search"] = _pcts(_timed(lambda qh: assistant.search(qh[0], k=5, history=qh[1]), plain))
        results["ask"] = _pcts(_timed(lambda qh: assistant.ask(qh[0], history=qh[1]), plain))
        results["scale"] = [
            _scale_run(assistant, embedder, scale, index_type, Path(tmp), questions) for index_type in index_types
        ]
    results["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return results


def _scale_run(assistant: Any, embedder: Any, scale: int, index_type: str, tmp: Path, questions: list[Any]) -> dict[str, Any]:
    import faiss

    from assistant.chunks.sentences import split_passages
    from assistant.index.store import _make_faiss
    from assistant.passage import Passage
    from assistant.retrieval.hybrid import FusionSettings, HybridRetriever

    rng = random.Random(scale)
    source = [p for p in assistant.passages if p.kind not in ("footnote", "glossary")]
    vectors = assistant.retriever.passage_matrix
    position = {p.id: i for i, p in enumerate(assistant.passages)}
    passages: list[Passage] = []
    rows: list[np.ndarray] = []
    noise = np.random.default_rng(scale)
    offset = 0
    for copy in range(scale):
        shuffled = source[:]
        rng.shuffle(shuffled)
        for j, p in enumerate(shuffled):
            section = f"Synthetic part {copy + 1} › Section {j // 7 + 1}"
            passages.append(
                replace(
                    p,
                    id=f"synthetic#{len(passages)}",
                    section=section,
                    start=offset,
                    end=offset + len(p.text),
                    duplicate_of="",
                    also_in=(),
                )
            )
            offset += len(p.text) + 2
            v = vectors[position[p.id]] + noise.normal(0, 0.02, vectors.shape[1]).astype(np.float32)
            rows.append(v / np.linalg.norm(v))
    matrix = np.vstack(rows).astype(np.float32)
    started = time.perf_counter()
    index = _make_faiss(matrix, index_type)
    faiss_s = time.perf_counter() - started
    sentences = split_passages(passages)
    sentence_rows = np.vstack([matrix[s.passage] for s in sentences]).astype(np.float32)
    sentence_index = _make_faiss(sentence_rows, index_type)
    path = tmp / f"scale-{index_type}.faiss"
    faiss.write_index(index, str(path))
    faiss.write_index(sentence_index, str(tmp / f"scale-{index_type}-sentences.faiss"))
    started = time.perf_counter()
    retriever = HybridRetriever(passages, index, embedder, FusionSettings(), sentences, sentence_index)
    retriever_s = time.perf_counter() - started
    timings = _timed(lambda q: retriever.search(q.question, 5), questions[:60])
    dense_only = _timed(lambda q: index.search(embedder.embed([q.question]), 40), questions[:60])
    size = path.stat().st_size + (tmp / f"scale-{index_type}-sentences.faiss").stat().st_size
    return {
        "index_type": index_type,
        "passages": len(passages),
        "sentences": len(sentences),
        "faiss_build_s": round(faiss_s, 2),
        "bm25_and_features_build_s": round(retriever_s, 2),
        "faiss_bytes": size,
        "search": _pcts(timings),
        "dense_only_search": _pcts(dense_only),
    }


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("bench", help="benchmark build, load, search, ask, memory and a 100× scale run")
    p.add_argument("--scale", type=int, default=100, help="size of the synthetic corpus, in copies of the real one")
    p.add_argument("--index-types", default="flat,hnsw", help="FAISS index types for the scale run")
    p.add_argument("--json", action="store_true", help="print JSON only")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    results = run_bench(
        args.scale, tuple(t.strip() for t in args.index_types.split(",") if t.strip()), progress=sys.stderr.isatty()
    )
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    out = BENCH_DIR / f"{results['created'].replace(':', '').replace('-', '')}.json"
    out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    cb = results["cold_build"]
    table = Table(title="Benchmark (this machine)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    rows = [
        ("model load", f"{results['model_load_s']} s"),
        ("cold index build", f"{cb['seconds']} s ({cb['passages']} passages + {cb['sentences']} sentences)"),
        ("build throughput", f"{cb['passages_per_s']} passages/s ({cb['embedded_texts_per_s']} texts/s embedded)"),
        ("raw model throughput (same passages)", f"{cb['raw_model_passages_per_s']} passages/s"),
        ("index size", f"{cb['index_bytes'] / 1e6:.1f} MB"),
        (
            "passage words (packed passages)",
            ", ".join(f"{k} {v}" for k, v in results["passage_words"]["packed (not glossary or footnote)"].items()),
        ),
        ("passages by kind", ", ".join(f"{k} {v}" for k, v in results["passage_words"]["by_kind"].items())),
        ("longest passage, word pieces", str(results["passage_words"]["max_word_pieces"])),
        ("load, unchanged index", f"{results['warm_load_s']} s"),
        ("search p50 / p95", f"{results['search']['p50_ms']} / {results['search']['p95_ms']} ms"),
        ("ask (extractive) p50 / p95", f"{results['ask']['p50_ms']} / {results['ask']['p95_ms']} ms"),
        ("peak memory (RSS)", f"{results['peak_rss_mb']} MB"),
    ]
    for run in results["scale"]:
        rows.append(
            (
                f"{args.scale}× corpus, {run['index_type']}",
                f"{run['passages']:,} passages; FAISS build {run['faiss_build_s']} s, {run['faiss_bytes'] / 1e6:.0f} MB; "
                f"hybrid search p95 {run['search']['p95_ms']} ms, dense only p95 {run['dense_only_search']['p95_ms']} ms",
            )
        )
    for name, value in rows:
        table.add_row(name, value)
    Console().print(table)
    print(f"Saved {out}")
    return 0
