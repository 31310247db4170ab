"""``python -m assistant.index.onnx_check``: the ONNX encoder (fp32 and int8) measured against the torch path.

On every passage and sentence text of the corpus: cosine between the two paths' vectors, throughput
(same texts, batches of 32, one thread per core), one-query latency, the top-10 passages a query gets,
the time a fresh process takes to import and open each encoder, and the model file sizes. With
``--retrieval``, the project's retrieval evaluation on an index built by each encoder. Also, as a
separate experiment that nothing else uses, "late chunking": sentence vectors pooled from their
passage's token states against sentence vectors embedded on their own.

Nothing permanent is built: the export goes to a temporary model cache unless ``--cache`` names one,
and the indexes to a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from assistant.chunks import chunk_documents, mark_duplicates
from assistant.chunks.sentences import Sentence, split_passages
from assistant.config import ChunkSettings, Settings
from assistant.corpus import load_documents
from assistant.evaluation.questions import DEFAULT_QUESTIONS, load_questions
from assistant.index.build import expected_settings, sentence_embed_text
from assistant.index.embedder import Embedder, SentenceTransformerEmbedder, bundled_model_path
from assistant.index.onnx_encoder import VARIANTS, OnnxEmbedder, available_cores, cached_export, normalize
from assistant.passage import Passage

PACKAGE_ROOT = Path(__file__).resolve().parents[2]
QUERIES = 50
RETRIEVAL_METRICS = ("hit_rate@1", "mrr@10", "recall@10", "ndcg@10")
OPEN_SNIPPETS = {
    "torch": "from assistant.index.embedder import SentenceTransformerEmbedder as E; e = E()",
    "fp32": "from assistant.index.onnx_encoder import OnnxEmbedder as E; e = E(variant='fp32')",
    "int8": "from assistant.index.onnx_encoder import OnnxEmbedder as E; e = E(variant='int8')",
}


@dataclass
class Corpus:
    passages: list[Passage]
    sentences: list[Sentence]

    @property
    def passage_texts(self) -> list[str]:
        return [p.embed_text for p in self.passages]

    @property
    def sentence_texts(self) -> list[str]:
        return [sentence_embed_text(self.passages[s.passage], s) for s in self.sentences]


def load_corpus(settings: Settings, embedder: Embedder) -> Corpus:
    """Passages and sentences exactly as an index build cuts them (same chunking, same token counter)."""
    docs = load_documents(settings.corpus_dir).documents
    chunking = ChunkSettings(**expected_settings(settings, embedder)["chunking"])
    passages = mark_duplicates(chunk_documents(docs, chunking, embedder.count_tokens), docs)
    return Corpus(passages, split_passages(passages))


def cosine_summary(values: np.ndarray) -> dict[str, float]:
    """min / p1 / median / mean of a vector of cosines."""
    return {
        "min": round(float(values.min()), 6),
        "p1": round(float(np.percentile(values, 1)), 6),
        "median": round(float(np.median(values)), 6),
        "mean": round(float(values.mean()), 6),
    }


def timed_embed(embedder: Embedder, texts: list[str]) -> tuple[np.ndarray, float, float]:
    """Vectors, texts per second and texts per CPU-second, after a small warm-up batch.

    CPU time barely moves when another process takes a core; wall time can double. With one thread,
    texts per CPU-second is what a quiet machine would show.
    """
    embedder.embed(texts[:8])
    wall, cpu = time.perf_counter(), time.process_time()
    vectors = embedder.embed(texts)
    return vectors, len(texts) / (time.perf_counter() - wall), len(texts) / (time.process_time() - cpu)


def query_latency_ms(embedder: Embedder, queries: list[str]) -> tuple[float, float]:
    """Median milliseconds to embed one query, queries one at a time: wall and CPU."""
    embedder.embed(queries[:3])
    walls, cpus = [], []
    for query in queries:
        wall, cpu = time.perf_counter(), time.process_time()
        embedder.embed([query])
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return statistics.median(walls), statistics.median(cpus)


def dense_agreement(reference: dict[str, np.ndarray], other: dict[str, np.ndarray], k: int = 10) -> dict[str, float]:
    """How far dense search over passages agrees between two encoders, each searching its own vectors."""
    ranked = [np.argsort(-(v["queries"] @ v["passages"].T), axis=1)[:, :k] for v in (reference, other)]
    overlap = [len(set(a) & set(b)) / k for a, b in zip(*ranked, strict=True)]
    return {
        f"overlap@{k}": round(float(np.mean(overlap)), 3),
        "same_top1": round(float(np.mean(ranked[0][:, 0] == ranked[1][:, 0])), 3),
    }


def fresh_process_seconds(kind: str, cache: Path, repeats: int) -> dict[str, Any]:
    """A new interpreter importing and opening one encoder, then embedding one query: wall and in-process time."""
    code = (
        "import sys, time; t = time.perf_counter(); "
        f"{OPEN_SNIPPETS[kind]}; e.embed(['a short query']); "
        "print(time.perf_counter() - t, int('torch' in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": f"{PACKAGE_ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    env["ASSISTANT_MODEL_CACHE"] = str(cache)
    walls, inner, torch_loaded = [], [], False
    for _ in range(repeats):
        started = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        walls.append(time.perf_counter() - started)
        seconds, loaded = out.stdout.split()
        inner.append(float(seconds))
        torch_loaded = torch_loaded or loaded == "1"
    return {
        "wall_s": round(statistics.median(walls), 2),
        "import_open_embed_s": round(statistics.median(inner), 2),
        "imports_torch": torch_loaded,
    }


def late_chunking(embedder: OnnxEmbedder, corpus: Corpus) -> dict[str, Any]:
    """Sentence vectors mean-pooled from their passage's token states, against each sentence embedded alone.

    Compared with two stand-alone texts: the sentence as the index embeds it ("heading: sentence") and
    the bare sentence. Sentences cut off by the passage's truncation have no tokens and are counted apart.
    """
    by_passage: dict[int, list[int]] = {}
    for i, s in enumerate(corpus.sentences):
        by_passage.setdefault(s.passage, []).append(i)
    pooled = np.zeros((len(corpus.sentences), embedder.dimension), dtype=np.float32)
    has_tokens = np.zeros(len(corpus.sentences), dtype=bool)
    for position, members in by_passage.items():
        passage = corpus.passages[position]
        text = passage.embed_text
        shift = len(text) - len(passage.text)  # embed_text is "headings\ntext": the text is its tail
        encoding = embedder.tokenizer.encode(text)
        states = embedder.token_states([encoding])[0][0]
        spans = np.array(encoding.offsets)
        real = np.array(encoding.special_tokens_mask) == 0
        for i in members:
            s = corpus.sentences[i]
            start, end = s.start - passage.start + shift, s.end - passage.start + shift
            inside = real & (spans[:, 0] >= start) & (spans[:, 1] <= end)
            if inside.any():
                pooled[i] = states[inside].mean(axis=0)
                has_tokens[i] = True
    pooled = normalize(pooled)
    alone = embedder.embed([s.text for s in corpus.sentences])
    indexed = embedder.embed(corpus.sentence_texts)
    return {
        "sentences": len(corpus.sentences),
        "without_tokens": int((~has_tokens).sum()),
        "vs_heading_sentence": cosine_summary((pooled * indexed).sum(axis=1)[has_tokens]),
        "vs_bare_sentence": cosine_summary((pooled * alone).sum(axis=1)[has_tokens]),
    }


def file_sizes(folder: Path) -> dict[str, float]:
    """Megabytes of the source weights and of each ONNX variant."""
    mb = 1 << 20
    sizes = {"source model.safetensors": round((bundled_model_path() / "model.safetensors").stat().st_size / mb, 1)}
    sizes.update({f"{variant} {name}": round((folder / name).stat().st_size / mb, 1) for variant, name in VARIANTS.items()})
    return sizes


def run_once(embedder: Embedder, corpus: Corpus, queries: list[str]) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """One timed pass over every text: the vectors and the speeds."""
    passages, passages_per_s, passages_per_cpu_s = timed_embed(embedder, corpus.passage_texts)
    sentences, sentences_per_s, sentences_per_cpu_s = timed_embed(embedder, corpus.sentence_texts)
    vectors = {"passages": passages, "sentences": sentences, "queries": embedder.embed(queries)}
    query_ms, query_cpu_ms = query_latency_ms(embedder, queries)
    speeds = {
        "passages_per_s": passages_per_s,
        "sentences_per_s": sentences_per_s,
        "query_ms": query_ms,
        "passages_per_cpu_s": passages_per_cpu_s,
        "sentences_per_cpu_s": sentences_per_cpu_s,
        "query_cpu_ms": query_cpu_ms,
    }
    return vectors, speeds


@dataclass(frozen=True)
class Options:
    """What to measure and how; see ``main`` for each option's meaning."""

    workdir: Path  # temporary: the model cache unless ``cache`` is given, and the retrieval indexes
    cache: Path | None = None
    repeats: int = 3
    rounds: int = 1
    threads: int = 1
    late_chunking: bool = True
    retrieval: bool = False


def measure(options: Options) -> dict[str, Any]:
    """Every figure the module docstring lists, as one JSON-ready dict.

    Speeds are medians over ``rounds`` passes that take the encoders in turn, so a burst of load from
    another process does not land on one encoder only.
    """
    import torch

    torch.set_num_threads(options.threads)
    load_start = round(os.getloadavg()[0], 2)  # other processes' load skews wall times: report it
    cache = options.cache or options.workdir / "model-cache"
    started = time.perf_counter()
    folder = cached_export(bundled_model_path(), "fp32", cache, notify=lambda m: print(m, file=sys.stderr))
    results: dict[str, Any] = {"export_or_open_s": round(time.perf_counter() - started, 1), "threads": torch.get_num_threads()}
    onnx = {v: OnnxEmbedder(variant=v, cache_dir=cache, threads=options.threads) for v in VARIANTS}
    embedders: dict[str, Embedder] = {"torch": SentenceTransformerEmbedder(), **onnx}
    corpus = load_corpus(Settings.from_env(), embedders["torch"])
    queries = [q.question for q in load_questions(DEFAULT_QUESTIONS) if q.split == "dev"][:QUERIES]
    results["texts"] = {"passages": len(corpus.passages), "sentences": len(corpus.sentences), "queries": len(queries)}
    vectors: dict[str, dict[str, np.ndarray]] = {}
    speeds: dict[str, list[dict[str, float]]] = {kind: [] for kind in embedders}
    for round_ in range(options.rounds):
        for kind, embedder in embedders.items():
            print(f"Round {round_ + 1}/{options.rounds}: {kind}…", file=sys.stderr, flush=True)
            vectors[kind], speed = run_once(embedder, corpus, queries)
            speeds[kind].append(speed)
    for kind, embedder in embedders.items():
        results[kind] = {"name": embedder.name}
        results[kind].update({key: round(statistics.median(s[key] for s in speeds[kind]), 2) for key in speeds[kind][0]})
        results[kind]["fresh_process"] = fresh_process_seconds(kind, cache, options.repeats)
    for variant in VARIANTS:
        ref, got = vectors["torch"], vectors[variant]
        results[variant]["cosine_vs_torch"] = {part: cosine_summary((ref[part] * got[part]).sum(axis=1)) for part in ref}
        results[variant]["dense_search_vs_torch"] = dense_agreement(ref, got)
    results["file_mb"] = file_sizes(folder)
    results["load_average"] = {"start": load_start, "end": round(os.getloadavg()[0], 2)}
    if options.late_chunking:
        results["late_chunking_fp32"] = late_chunking(onnx["fp32"], corpus)
    if options.retrieval:
        results["retrieval"] = retrieval_quality(embedders, options.workdir)
    return results


def retrieval_quality(embedders: dict[str, Embedder], workdir: Path) -> dict[str, Any]:
    """The project's retrieval evaluation (``assistant eval`` without baselines) on an index built by each encoder."""
    from assistant.api import Assistant
    from assistant.evaluation.run import evaluate

    out: dict[str, Any] = {}
    for kind, embedder in embedders.items():
        print(f"Building an index with {kind} and evaluating it…", file=sys.stderr, flush=True)
        settings = replace(Settings.from_env(), index_dir=workdir / f"index-{kind}")
        assistant = Assistant.load(settings, embedder=embedder, notify=lambda _m: None)
        splits = evaluate(
            assistant, [DEFAULT_QUESTIONS], with_baselines=False, with_answers=False, with_unseen=False, progress=False
        )["systems"]["project"]["splits"]
        out[kind] = {split: {m: splits[split][m] for m in RETRIEVAL_METRICS} for split in ("dev", "test")}
        out[kind]["embed_s"] = assistant.index.manifest.get("embed_seconds")
    return out


def table(results: dict[str, Any]) -> str:
    """The figures as a plain-text table."""
    kinds = ["torch", *VARIANTS]
    rows = [
        ("passages / s", [results[k]["passages_per_s"] for k in kinds]),
        ("sentences / s", [results[k]["sentences_per_s"] for k in kinds]),
        ("one query, median ms", [results[k]["query_ms"] for k in kinds]),
        ("passages / CPU-s", [results[k]["passages_per_cpu_s"] for k in kinds]),
        ("sentences / CPU-s", [results[k]["sentences_per_cpu_s"] for k in kinds]),
        ("one query, median CPU ms", [results[k]["query_cpu_ms"] for k in kinds]),
        ("fresh process: import+open+1 query s", [results[k]["fresh_process"]["import_open_embed_s"] for k in kinds]),
        ("fresh process: wall s", [results[k]["fresh_process"]["wall_s"] for k in kinds]),
        ("fresh process imports torch", [results[k]["fresh_process"]["imports_torch"] for k in kinds]),
    ]
    for part in ("passages", "sentences", "queries"):
        for stat in ("min", "p1", "median"):
            rows.append((f"cosine vs torch, {part} {stat}", ["", *(results[v]["cosine_vs_torch"][part][stat] for v in VARIANTS)]))
    for stat in ("overlap@10", "same_top1"):
        rows.append((f"dense search vs torch, {stat}", ["", *(results[v]["dense_search_vs_torch"][stat] for v in VARIANTS)]))
    lines = [f"{'':40}" + "".join(f"{k:>12}" for k in kinds)]
    lines += [f"{label:40}" + "".join(f"{v!s:>12}" for v in values) for label, values in rows]
    lines.append(f"texts: {results['texts']}   threads: {results['threads']}   load average: {results['load_average']}")
    lines.append(f"files (MB): {results['file_mb']}   export (or open) s: {results['export_or_open_s']}")
    for kind, scores in results.get("retrieval", {}).items():
        lines.append(f"retrieval with an index built by {kind}: {json.dumps(scores)}")
    if "late_chunking_fp32" in results:
        lines.append(f"late chunking (fp32): {json.dumps(results['late_chunking_fp32'])}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assistant.index.onnx_check", description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="write the figures as JSON to stdout instead of a table")
    parser.add_argument("--cache", type=Path, help="model cache to export into and reuse (default: a temporary one)")
    parser.add_argument("--repeats", type=int, default=3, help="fresh processes started per encoder (median reported)")
    parser.add_argument("--rounds", type=int, default=1, help="timed passes over all texts per encoder (median reported)")
    parser.add_argument("--threads", type=int, default=available_cores(), help="threads per encoder (default: the usable cores)")
    parser.add_argument("--no-late-chunking", action="store_true", help="skip the late-chunking experiment")
    parser.add_argument("--retrieval", action="store_true", help="also build an index with each encoder and evaluate retrieval")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="assistant-onnx-check-") as tmp:
        options = Options(
            workdir=Path(tmp),
            cache=args.cache,
            repeats=max(1, args.repeats),
            rounds=max(1, args.rounds),
            threads=max(1, args.threads),
            late_chunking=not args.no_late_chunking,
            retrieval=args.retrieval,
        )
        results = measure(options)
    print(json.dumps(results, indent=2) if args.json else table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
