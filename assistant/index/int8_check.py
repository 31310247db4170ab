"""``python -m assistant.index.int8_check``: what the cold build's arithmetic costs, and what int8 would save.

The build embeds every distinct text of the library once. This measures, on exactly those texts (the build
plan of the shipped library), with the build's own batching:

* fp32: the time, the word pieces, and the rate of arithmetic it implies (multiply-adds of the model's dense
  layers and attention per word piece, over seconds) — set it against the CPU's peak to see how much a faster
  fp32 path could still win;
* int8, dynamic quantisation (per-channel weights) of each group of dense layers in turn — all of them, the
  attention projections (query, key, value), the attention output, the first and the second feed-forward
  layer — and of all layers with 7-bit weights or unsigned weights: the time against fp32, and the cosine of
  every text's vector to its fp32 vector (issue 13 asks for ≥ 0.99 on every text).

Nothing permanent is written: the quantised files go to a temporary folder; the fp32 export is the model cache's.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from assistant.config import Settings
from assistant.index.build import plan_build
from assistant.index.embedder import bundled_model_path
from assistant.index.onnx_check import timed_embed
from assistant.index.onnx_encoder import VARIANTS, OnnxEmbedder, cached_export

_LAYERS = {
    "query, key, value": ("/query/", "/key/", "/value/"),
    "attention output": ("attention/output/dense",),
    "feed-forward 1": ("intermediate/dense",),
    "feed-forward 2": ("/output/dense",),
}
GROUPS = {
    "all dense layers": tuple(part for parts in _LAYERS.values() for part in parts),
    **_LAYERS,
    "query, key, value + feed-forward 1": _LAYERS["query, key, value"] + _LAYERS["feed-forward 1"],
}
VARIANT_OPTIONS: dict[str, dict[str, Any]] = {
    "7-bit weights": {"reduce_range": True},
    "unsigned weights": {"weight_type": "QUInt8"},
}


def weight_matmuls(model_path: Path) -> list[str]:
    """Names of the MatMul nodes that multiply by a weight matrix (not attention's score and context products)."""
    import onnx

    model = onnx.load(str(model_path), load_external_data=False)
    weights = {i.name for i in model.graph.initializer}
    return [n.name for n in model.graph.node if n.op_type == "MatMul" and n.input[1] in weights]


def in_group(node: str, parts: tuple[str, ...]) -> bool:
    second_ffn = node.endswith("/output/dense/MatMul") and "/attention/" not in node
    return any((second_ffn if part == "/output/dense" else part in node) for part in parts)


def quantise(source: Path, target: Path, nodes: list[str], **options: Any) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    weight_type = getattr(QuantType, str(options.pop("weight_type", "QInt8")))
    quantize_dynamic(str(source), str(target), weight_type=weight_type, per_channel=True, nodes_to_quantize=nodes, **options)


def timed(embedder: OnnxEmbedder, texts: list[str], rounds: int) -> tuple[np.ndarray, float]:
    """Vectors and the fastest of ``rounds`` timed passes (``onnx_check.timed_embed``: a warm-up batch first)."""
    passes = [timed_embed(embedder, texts) for _ in range(rounds)]
    return passes[-1][0], len(texts) / max(rate for _, rate, _ in passes)


def flops_per_piece(dimension: int, layers: int, inner: int, mean_length: float) -> float:
    """Floating-point operations per word piece: dense layers (4·d² attention + 2·d·inner feed-forward
    multiply-adds) and the attention products (2·n·d multiply-adds for a sequence of n), two FLOP each."""
    dense = 4 * dimension * dimension + 2 * dimension * inner
    attention = 2 * mean_length * dimension
    return 2.0 * layers * (dense + attention)


def measure(rounds: int = 1, groups: list[str] | None = None) -> dict[str, Any]:
    folder = cached_export(bundled_model_path(), "fp32", None, notify=lambda m: print(m, file=sys.stderr))
    source = folder / VARIANTS["fp32"]
    fp32 = OnnxEmbedder()
    plan = plan_build(Settings.from_env(), fp32)
    texts = list(dict.fromkeys(plan.texts))
    lengths = [min(fp32.count_tokens(t), fp32.max_tokens) for t in texts]
    pieces = sum(lengths)
    mean_length = sum(n * n for n in lengths) / pieces  # the sequence length an average word piece sits in
    config = json.loads((bundled_model_path() / "config.json").read_text())
    per_piece = flops_per_piece(config["hidden_size"], config["num_hidden_layers"], config["intermediate_size"], mean_length)
    print(f"fp32: {len(texts)} texts, {pieces} word pieces…", file=sys.stderr, flush=True)
    reference, seconds = timed(fp32, texts, rounds)
    results: dict[str, Any] = {
        "texts": len(texts),
        "word_pieces": pieces,
        "threads": fp32.threads,
        "fp32_seconds": round(seconds, 2),
        "gflop": round(per_piece * pieces / 1e9, 1),
        "gflop_per_s": round(per_piece * pieces / 1e9 / seconds, 1),
        "int8": {},
    }
    nodes = weight_matmuls(source)
    runs: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {name: (parts, {}) for name, parts in GROUPS.items()}
    runs.update({f"all dense layers, {name}": (GROUPS["all dense layers"], options) for name, options in VARIANT_OPTIONS.items()})
    with tempfile.TemporaryDirectory(prefix="assistant-int8-check-") as tmp:
        for name, (parts, options) in runs.items():
            if groups and name not in groups:
                continue
            print(f"int8: {name}…", file=sys.stderr, flush=True)
            target = Path(tmp) / "model-int8-part.onnx"
            quantise(source, target, [n for n in nodes if in_group(n, parts)], **dict(options))
            vectors, took = timed(OnnxEmbedder(model_file=target), texts, rounds)
            cosine = (reference * vectors).sum(axis=1)
            results["int8"][name] = {
                "seconds": round(took, 2),
                "speed-up": round(seconds / took, 2),
                "cosine_min": round(float(cosine.min()), 4),
                "cosine_p1": round(float(np.percentile(cosine, 1)), 4),
                "cosine_mean": round(float(cosine.mean()), 4),
                "texts_below_0.99": int((cosine < 0.99).sum()),
            }
    return results


def table(results: dict[str, Any]) -> str:
    lines = [
        f"{results['texts']} distinct texts, {results['word_pieces']} word pieces, {results['threads']} threads",
        f"fp32: {results['fp32_seconds']} s — {results['gflop']} GFLOP, {results['gflop_per_s']} GFLOP/s",
        f"{'int8 on':42}{'s':>8}{'speed-up':>10}{'cos min':>10}{'cos p1':>9}{'mean':>8}{'< 0.99':>8}",
    ]
    for name, r in results["int8"].items():
        lines.append(
            f"{name:42}{r['seconds']:>8}{r['speed-up']:>10}{r['cosine_min']:>10}{r['cosine_p1']:>9}"
            f"{r['cosine_mean']:>8}{r['texts_below_0.99']:>8}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assistant.index.int8_check", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=1, help="timed passes per model (the fastest is reported)")
    parser.add_argument("--group", action="append", choices=[*GROUPS, *(f"all dense layers, {v}" for v in VARIANT_OPTIONS)])
    parser.add_argument("--json", action="store_true", help="the figures as JSON instead of a table")
    args = parser.parse_args(argv)
    results = measure(max(1, args.rounds), args.group)
    print(json.dumps(results, indent=2) if args.json else table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
