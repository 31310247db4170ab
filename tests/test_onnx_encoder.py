"""The ONNX encoder: same vectors and token counts as the torch path, no torch on import, a self-healing cache."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.config import Settings
from assistant.errors import ModelMissing
from assistant.index.embedder import bundled_model_path
from assistant.index.onnx_check import load_corpus
from assistant.index.onnx_encoder import OnnxEmbedder, export_problem, pooling_facts

from .conftest import CORPUS, REPO, model_cache


@pytest.fixture(scope="session")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return model_cache(tmp_path_factory)


@pytest.fixture(scope="session")
def fp32(cache: Path) -> OnnxEmbedder:
    return OnnxEmbedder(variant="fp32", cache_dir=cache, notify=lambda _m: None)


@pytest.fixture(scope="session")
def int8(cache: Path, fp32: OnnxEmbedder) -> OnnxEmbedder:
    return OnnxEmbedder(variant="int8", cache_dir=cache, notify=lambda _m: None)


@pytest.fixture(scope="session")
def passages(torch_embedder) -> list[str]:  # type: ignore[no-untyped-def]
    """Forty real passages spread over the corpus, as the index embeds them."""
    texts = load_corpus(Settings(corpus_dir=CORPUS), torch_embedder).passage_texts
    return texts[:: max(1, len(texts) // 40)][:40]


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1)


def test_fp32_vectors_agree_with_torch(torch_embedder, fp32: OnnxEmbedder, passages: list[str]) -> None:  # type: ignore[no-untyped-def]
    got = fp32.embed(passages)
    assert got.shape == (len(passages), 384) and got.dtype == np.float32
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert _cosines(got, torch_embedder.embed(passages)).min() >= 0.999


def test_int8_vectors_stay_close_to_torch(torch_embedder, int8: OnnxEmbedder, passages: list[str]) -> None:  # type: ignore[no-untyped-def]
    # Per-tensor quantisation fell to 0.88 on this corpus; per-channel keeps every passage above 0.97.
    cosines = _cosines(int8.embed(passages), torch_embedder.embed(passages))
    assert cosines.min() >= 0.97
    assert np.median(cosines) >= 0.985


def test_count_tokens_equals_the_sentence_transformers_tokenizer(torch_embedder, fp32: OnnxEmbedder, passages: list[str]) -> None:  # type: ignore[no-untyped-def]
    odd = ["", "  padded  ", "\t\n", "Café naïve 北京 😀 ﬁnance", "x " * 400, " ".join(passages)]
    for text in [*passages, *odd]:
        assert fp32.count_tokens(text) == torch_embedder.count_tokens(text), text[:40]


def test_long_text_is_truncated_like_sentence_transformers(torch_embedder, fp32: OnnxEmbedder, passages: list[str]) -> None:  # type: ignore[no-untyped-def]
    long = " ".join(passages)
    assert fp32.count_tokens(long) > 2 * fp32.max_tokens
    vectors = fp32.embed([long, long + " Words past the limit change nothing."])
    assert np.allclose(vectors[0], vectors[1], atol=1e-6)
    assert _cosines(vectors[:1], torch_embedder.embed([long]))[0] >= 0.999


def test_batching_by_length_keeps_the_callers_order(cache: Path, fp32: OnnxEmbedder, passages: list[str]) -> None:
    small_batches = OnnxEmbedder(variant="fp32", batch_size=3, cache_dir=cache, notify=lambda _m: None)
    texts = [*passages[:7], "mutuals", "How many staff?", passages[8][:90]]
    together = small_batches.embed(texts)
    alone = np.vstack([fp32.embed([t]) for t in texts])
    assert np.allclose(together, alone, atol=1e-5)


def test_batches_are_sorted_by_length_and_kept_under_the_token_budget(cache: Path) -> None:
    e = OnnxEmbedder(variant="fp32", batch_size=4, batch_tokens=100, cache_dir=cache, notify=lambda _m: None)
    lengths = [30, 5, 60, 5, 200, 10, 10, 10, 10, 10, 25]
    batches = e.batches(lengths)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    assert [lengths[i] for b in batches for i in b] == sorted(lengths), "shortest first, each batch padded little"
    for b in batches:
        assert len(b) <= 4
        assert len(b) == 1 or len(b) * max(lengths[i] for i in b) <= 100
    assert [4] in batches, "a text longer than the budget is a batch of its own"


def test_parallel_token_budget_batches_equal_one_text_at_a_time(cache: Path, fp32: OnnxEmbedder, passages: list[str]) -> None:
    texts = [*passages[:12], "mutuals", "How many staff?", passages[13][:90], passages[14]]
    parallel = OnnxEmbedder(variant="fp32", batch_tokens=300, threads=2, cache_dir=cache, notify=lambda _m: None)
    sequential = OnnxEmbedder(variant="fp32", batch_tokens=300, threads=1, cache_dir=cache, notify=lambda _m: None)
    assert len(parallel.batches([len(parallel.tokenizer.encode(t).ids) for t in texts])) > 2
    alone = np.vstack([fp32.embed([t]) for t in texts])
    assert np.allclose(parallel.embed(texts), alone, atol=1e-5)
    assert np.allclose(sequential.embed(texts), alone, atol=1e-5)


def test_empty_list_gives_an_empty_matrix(fp32: OnnxEmbedder) -> None:
    vectors = fp32.embed([])
    assert vectors.shape == (0, fp32.dimension) and vectors.dtype == np.float32


def test_fp32_shares_the_torch_name_and_int8_has_its_own(torch_embedder, fp32: OnnxEmbedder, int8: OnnxEmbedder) -> None:  # type: ignore[no-untyped-def]
    # fp32 gives torch's vectors, so an index built by either serves the other; int8's vectors differ
    assert fp32.name == torch_embedder.name == "sentence-transformers/all-MiniLM-L6-v2"
    assert int8.name == "sentence-transformers/all-MiniLM-L6-v2@onnx-int8"


@pytest.mark.parametrize("variant", ["fp32", "int8"])
def test_embedding_imports_no_torch(cache: Path, fp32: OnnxEmbedder, int8: OnnxEmbedder, variant: str) -> None:
    code = (
        "import json, sys\n"
        "from assistant.index.onnx_encoder import OnnxEmbedder\n"
        f"e = OnnxEmbedder(variant={variant!r})\n"
        "e.embed(['how many mutuals are there?', 'a second text']); e.count_tokens('tokens')\n"
        "heavy = ('torch', 'transformers', 'sentence_transformers')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in heavy)))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "ASSISTANT_MODEL_CACHE": str(cache)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(out.stdout) == []
    assert "Exporting" not in out.stderr, "the session's export was found, not made again"


def test_pooling_facts_come_from_the_model_files() -> None:
    assert pooling_facts(bundled_model_path()) == {
        "mode": "mean",
        "normalize": True,
        "max_seq_length": 256,
        "lowercase": False,
        "dimension": 384,
    }


def test_a_module_chain_the_encoder_cannot_run_is_refused(tmp_path: Path) -> None:
    shutil.copytree(bundled_model_path(), tmp_path / "model", ignore=shutil.ignore_patterns("*.safetensors"))
    modules = json.loads((tmp_path / "model" / "modules.json").read_text())
    modules.insert(2, {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"})
    (tmp_path / "model" / "modules.json").write_text(json.dumps(modules))
    with pytest.raises(ModelMissing):
        pooling_facts(tmp_path / "model")


@pytest.mark.slow
def test_a_damaged_cached_export_is_detected_and_exported_again(tmp_path: Path, cache: Path, int8: OnnxEmbedder) -> None:
    shutil.copytree(cache / "onnx", tmp_path / "onnx")
    (folder,) = [p for p in (tmp_path / "onnx").iterdir() if len(p.name) == 64]
    with (folder / "model-int8.onnx").open("r+b") as handle:
        handle.seek(1 << 20)
        handle.write(b"\0" * 64)
    assert export_problem(folder, "int8") == "model-int8.onnx does not match its manifest"
    notes: list[str] = []
    healed = OnnxEmbedder(variant="int8", cache_dir=tmp_path, notify=notes.append)
    assert len(notes) == 1 and "damaged (model-int8.onnx does not match its manifest)" in notes[0]
    assert export_problem(folder, "int8") == ""
    texts = ["How many mutuals are there?", "Community interest companies"]
    assert _cosines(healed.embed(texts), int8.embed(texts)).min() >= 0.999


def test_the_int8_check_groups_every_dense_layer_once_and_runs_a_partly_quantised_model(
    tmp_path: Path, cache: Path, fp32: OnnxEmbedder, passages: list[str]
) -> None:
    from assistant.index.int8_check import GROUPS, in_group, quantise, weight_matmuls
    from assistant.index.onnx_encoder import VARIANTS, cached_export

    source = cached_export(bundled_model_path(), "fp32", cache, notify=lambda _m: None) / VARIANTS["fp32"]
    nodes = weight_matmuls(source)
    assert len(nodes) == 36  # six layers × query, key, value, attention output, two feed-forward layers
    parts = ("query, key, value", "attention output", "feed-forward 1", "feed-forward 2")
    chosen = [[n for n in nodes if in_group(n, GROUPS[p])] for p in parts]
    assert [len(c) for c in chosen] == [18, 6, 6, 6] and sorted(n for c in chosen for n in c) == sorted(nodes)
    target = tmp_path / "model-part.onnx"
    quantise(source, target, chosen[0])
    partial = OnnxEmbedder(cache_dir=cache, model_file=target, notify=lambda _m: None)
    assert partial.name != fp32.name  # its vectors can never be mistaken for the model's own
    cosines = _cosines(partial.embed(passages), fp32.embed(passages))
    assert cosines.min() >= 0.99 and cosines.max() < 1.0 - 1e-7  # quantised (not the same file), and close
