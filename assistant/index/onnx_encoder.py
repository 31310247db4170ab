"""Sentence embeddings without torch: the model exported once to ONNX, then run with onnxruntime and tokenizers.

The export is the only step that needs torch. It runs once per model and writes a folder named by the hash
of the source model files::

    <model cache>/onnx/<sha256 of the model files>/
        model.onnx        fp32 token embeddings (inputs: input_ids, attention_mask, token_type_ids)
        model-int8.onnx   the same with int8 weights (dynamic quantisation)
        tokenizer.json    the model's tokenizer
        pooling.json      pooling mode, normalisation, max_seq_length, dimension
        manifest.json     sha256 of each file above, the source hash, the variants

``OnnxEmbedder`` opens that folder (exporting first when it is missing or damaged) and embeds with numpy,
onnxruntime and tokenizers only, truncating and pooling as sentence-transformers does.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from assistant.config import BUNDLED_MODEL, Settings
from assistant.corpus.manifest import sha256_file
from assistant.errors import ModelMissing
from assistant.index.embedder import resolve_model

# Bump when the export recipe changes: it is part of the folder's hash, so older exports are then ignored.
EXPORT_VERSION = 1
VARIANTS = {"fp32": "model.onnx", "int8": "model-int8.onnx"}
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
POOLING_MODES = ("mean", "cls", "max")
Notify = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def source_hash(model_dir: Path) -> str:
    """One hash over every file of the model folder (names and contents) and the export recipe version."""
    digest = hashlib.sha256(f"export-v{EXPORT_VERSION}".encode())
    for path in sorted(p for p in model_dir.rglob("*") if p.is_file()):
        digest.update(path.relative_to(model_dir).as_posix().encode("utf-8") + b"\0")
        digest.update(sha256_file(path).encode("ascii"))
    return digest.hexdigest()


def remembered_source_hash(model_dir: Path, root: Path) -> str:
    """``source_hash``, remembered in ``root/sources/`` under the files' names, sizes and mtimes.

    Hashing the 90 MB of weights costs about 0.15 s, a third of opening the encoder; a reinstall replaces
    the files (new mtimes), so a changed model still gets a new hash.
    """
    memo = _memo_path(model_dir, root)
    with contextlib.suppress(OSError, UnicodeDecodeError):
        remembered = memo.read_text(encoding="ascii").strip()
        if len(remembered) == 64:
            return remembered
    digest = source_hash(model_dir)
    _remember(memo, digest)
    return digest


def _memo_path(model_dir: Path, root: Path) -> Path:
    files = sorted(p for p in model_dir.rglob("*") if p.is_file())
    stats = [(p.relative_to(model_dir).as_posix(), st.st_size, st.st_mtime_ns) for p in files for st in [p.stat()]]
    key = hashlib.sha256(json.dumps([EXPORT_VERSION, str(model_dir.resolve()), stats]).encode("utf-8")).hexdigest()
    return root / "sources" / key


def _remember(memo: Path, digest: str) -> None:
    with contextlib.suppress(OSError):  # a read-only cache only costs the hashing next time
        memo.parent.mkdir(parents=True, exist_ok=True)
        tmp = memo.with_name(f".{memo.name}.{os.getpid()}.tmp")
        tmp.write_text(digest, encoding="ascii")
        os.replace(tmp, memo)


def _read_json(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path.name} is not a JSON object")
    return data


def pooling_facts(model_dir: Path) -> dict[str, Any]:
    """How sentence-transformers turns token states into a sentence vector, read from its config files.

    Only the module chains this encoder reproduces (Transformer → Pooling → optional Normalize) are
    accepted; anything else (a Dense layer, weighted pooling) raises ModelMissing.
    """
    try:
        modules = json.loads((model_dir / "modules.json").read_text(encoding="utf-8"))
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
            raise ValueError(f"unsupported modules {kinds}")
        transformer = _read_json(model_dir / modules[0]["path"] / "sentence_bert_config.json")
        pooling = _read_json(model_dir / modules[1]["path"] / "config.json")
        max_length = transformer.get("max_seq_length") or _read_json(model_dir / "config.json")["max_position_embeddings"]
        facts = {
            "mode": _pooling_mode(pooling),
            "normalize": kinds[-1] == "Normalize",
            "max_seq_length": int(max_length),
            "lowercase": bool(transformer.get("do_lower_case", False)),
            "dimension": int(pooling.get("embedding_dimension") or pooling["word_embedding_dimension"]),
        }
    except (OSError, KeyError, TypeError, ValueError, IndexError) as exc:
        raise ModelMissing(f"The model in {model_dir.name} is not a sentence-transformers model this encoder can run.") from exc
    return facts


def _pooling_mode(config: dict[str, Any]) -> str:
    # sentence-transformers 6 writes "pooling_mode"; older models set one pooling_mode_<x>_token(s) flag.
    mode = config.get("pooling_mode")
    if mode is None:
        legacy = {"pooling_mode_mean_tokens": "mean", "pooling_mode_cls_token": "cls", "pooling_mode_max_tokens": "max"}
        active = [name for flag, name in legacy.items() if config.get(flag)]
        others = [k for k, v in config.items() if k.startswith("pooling_mode_") and v and k not in legacy]
        mode = active[0] if len(active) == 1 and not others else None
    if isinstance(mode, list) and len(mode) == 1:
        mode = mode[0]
    if mode not in POOLING_MODES:
        raise ValueError(f"unsupported pooling {mode!r}")
    return str(mode)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence the exporters' deprecation notes and tracer warnings: they are about their internals, not ours."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.disable(logging.WARNING)
        try:
            yield
        finally:
            logging.disable(logging.NOTSET)
            root.handlers[:], root.level = handlers, level  # an exporter may have configured logging for us


def _export_fp32(model_dir: Path, target: Path, max_length: int) -> None:
    """Trace the Hugging Face model to ONNX and check it against torch. The only place torch is imported."""
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    # Eager attention traces to plain MatMul/Softmax; the SDPA path adds NaN guards and runs slower.
    model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()

    class TokenEmbeddings(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor) -> torch.Tensor:
            out = self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state

    wrapper = TokenEmbeddings(model).eval()
    traced = tuple(torch.from_numpy(_sample_inputs(2, 16)[name]) for name in INPUT_NAMES)
    axes = {name: {0: "batch", 1: "sequence"} for name in (*INPUT_NAMES, "token_embeddings")}
    # Checked on another batch size and length than the trace, with padding, so the dynamic axes are tested too.
    sample = _sample_inputs(3, min(40, max_length))
    with _quiet(), torch.no_grad():
        # The TorchScript exporter: the dynamo one needs onnxscript, which is not a dependency.
        torch.onnx.export(
            wrapper,
            traced,
            str(target),
            dynamo=False,
            opset_version=17,
            input_names=list(INPUT_NAMES),
            output_names=["token_embeddings"],
            dynamic_axes=axes,
        )
        expected = wrapper(*(torch.from_numpy(sample[name]) for name in INPUT_NAMES)).numpy()
    _check_against(target, sample, expected)


def _sample_inputs(rows: int, length: int) -> dict[str, np.ndarray]:
    """Random word pieces; the last row is padded after its first half."""
    ids = np.random.default_rng(0).integers(1000, 20000, size=(rows, length), dtype=np.int64)
    mask = np.ones_like(ids)
    mask[-1, length // 2 :] = 0
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}


def _check_against(model_path: Path, sample: dict[str, np.ndarray], expected: np.ndarray) -> None:
    import onnxruntime as ort

    session = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    got = session.run(None, {k: v for k, v in sample.items() if k in {i.name for i in session.get_inputs()}})[0]
    mask = sample["attention_mask"][..., None]
    if got.shape != expected.shape or float(np.abs((got - expected) * mask).max()) > 1e-3:
        raise ModelMissing("The ONNX export does not reproduce the model's outputs.")


def _quantize(source: Path, target: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # Per-channel scales: with one scale per tensor, cosine to the fp32 vectors fell to 0.88 on this corpus.
    with _quiet():
        quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=True)


def export_onnx(model_dir: Path, cache_dir: Path) -> Path:
    """Export the sentence-transformers model in ``model_dir`` to ``cache_dir/<source hash>/`` (fp32 and int8).

    Imports torch and transformers (the only function that does). The folder is written under a temporary
    name and renamed into place, so a killed export leaves nothing that looks complete.
    """
    facts = pooling_facts(model_dir)
    digest = source_hash(model_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    _clean_leftovers(cache_dir)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=cache_dir))
    try:
        _write_models(model_dir, tmp, facts["max_seq_length"])
        shutil.copyfile(model_dir / "tokenizer.json", tmp / "tokenizer.json")
        (tmp / "pooling.json").write_text(json.dumps(facts, indent=2), encoding="utf-8")
        files = [*VARIANTS.values(), "tokenizer.json", "pooling.json"]
        manifest = {
            "export_version": EXPORT_VERSION,
            "source": {"model_dir": str(model_dir), "sha256": digest},
            "variants": VARIANTS,
            "quantization": {"weight_type": "QInt8", "per_channel": True, "method": "dynamic"},
            "files": {name: sha256_file(tmp / name) for name in files},
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        folder = _move_into_place(tmp, cache_dir / digest)
        _remember(_memo_path(model_dir, cache_dir), digest)  # mends a memo that led to a wrong folder
        return folder
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _write_models(model_dir: Path, folder: Path, max_length: int) -> None:
    try:
        _export_fp32(model_dir, folder / VARIANTS["fp32"], max_length)
        _quantize(folder / VARIANTS["fp32"], folder / VARIANTS["int8"])
    except ImportError as exc:  # a torch-free install can still use an export copied into the cache
        raise ModelMissing("Exporting the model to ONNX (once) needs torch, transformers and onnx installed.") from exc


def _clean_leftovers(cache_dir: Path) -> None:
    """Remove folders of exports killed midway (an hour old: an export takes about a minute)."""
    for path in [*cache_dir.glob(".tmp-*"), *cache_dir.glob(".old-*")]:
        with contextlib.suppress(OSError):
            if time.time() - path.stat().st_mtime > 3600:
                shutil.rmtree(path, ignore_errors=True)


def _move_into_place(tmp: Path, final: Path) -> Path:
    if final.exists() and not any(export_problem(final, v) for v in VARIANTS):
        return final  # another process exported meanwhile: keep the folder it may already have open
    if final.exists():  # a damaged earlier export: set it aside first, a folder cannot replace a full one
        stale = Path(tempfile.mkdtemp(prefix=".old-", dir=final.parent))
        os.replace(final, stale / final.name)
        shutil.rmtree(stale, ignore_errors=True)
    with contextlib.suppress(OSError):  # another process published the same export first: use theirs
        os.replace(tmp, final)
    return final


def export_problem(folder: Path, variant: str) -> str:
    """Why the export in ``folder`` cannot be used for ``variant`` ("" when it can): missing or altered files."""
    try:
        manifest = _read_json(folder / "manifest.json")
        hashes = manifest["files"]
        needed = [manifest["variants"][variant], "tokenizer.json", "pooling.json"]
    except (OSError, ValueError, KeyError, TypeError):
        return "its manifest is missing or unreadable"
    for name in needed:
        if not (folder / name).is_file():
            return f"{name} is missing"
    # Hashing the 90 MB model costs 0.08 s a start: a check that passed is remembered under the files'
    # sizes and mtimes, so only files written since (a new export, a damaged or replaced file) are hashed.
    stats = [(name, st.st_size, st.st_mtime_ns) for name in ["manifest.json", *needed] for st in [(folder / name).stat()]]
    stamp = folder / f".verified-{hashlib.sha256(json.dumps(stats).encode('utf-8')).hexdigest()[:32]}"
    if stamp.is_file():
        return ""
    for name in needed:
        if sha256_file(folder / name) != hashes.get(name):
            return f"{name} does not match its manifest"
    with contextlib.suppress(OSError):  # a read-only cache only costs the hashing next time
        stamp.touch()
    return ""


def cached_export(model_dir: Path, variant: str, cache_dir: Path | None = None, notify: Notify = _stderr) -> Path:
    """The verified export folder of ``model_dir``, exporting it first when it is missing or damaged.

    ``cache_dir`` defaults to ``Settings.from_env().model_cache`` (``ASSISTANT_MODEL_CACHE``, else
    ``~/.cache/assistant``); exports live in its ``onnx/`` folder.
    """
    if variant not in VARIANTS:
        raise ModelMissing(f"There is no ONNX variant '{variant}' (use {' or '.join(VARIANTS)}).")
    root = (cache_dir or Settings.from_env().model_cache) / "onnx"
    folder = root / remembered_source_hash(model_dir, root)
    problem = export_problem(folder, variant)
    if not problem:
        return folder
    if folder.exists():
        notify(f"The cached ONNX export of the embedding model is damaged ({problem}): exporting it again…")
    else:
        notify(f"Exporting the embedding model to ONNX in {root}: a one-time step of under a minute…")
    folder = export_onnx(model_dir, root)
    problem = export_problem(folder, variant)
    if problem:
        raise ModelMissing(f"The ONNX export of the embedding model is unusable: {problem}.")
    return folder


def available_cores() -> int:
    """The cores this process may run on (not the machine's: containers often pin fewer)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else os.cpu_count() or 1


class OnnxEmbedder:
    """The Embedder protocol on onnxruntime + tokenizers + numpy: no torch, transformers or sentence-transformers.

    ``variant`` is "fp32" (the model's own weights) or "int8" (quantised weights). fp32 gives the torch
    path's vectors (cosine ≥ 0.999999 on the whole corpus, `python -m assistant.index.onnx_check`), so it
    shares the model's name and an index built by either serves the other; int8 has a name of its own, so an
    index is never filled with vectors of two kinds.

    Texts are sorted by token count and cut into batches of at most ``batch_size`` texts and ``batch_tokens``
    word pieces (padding included): small batches keep the activations in the CPU's cache (a build's
    embedding took 25–27 CPU-s with 512–1024 tokens a batch against 34–41 with 32 texts). ``threads`` batches
    run at once (default: the cores this process may use), each on one core: data parallel, which wasted
    less CPU than onnxruntime's threads inside one run (26 CPU-s against 31 without spinning, 41 with).
    """

    def __init__(
        self,
        model: str = BUNDLED_MODEL,
        variant: str = "fp32",
        batch_size: int = 32,
        cache_dir: Path | None = None,
        notify: Notify = _stderr,
        threads: int | None = None,
        batch_tokens: int = 1024,
        model_file: Path | None = None,  # another ONNX file of the same export (experiments: partial int8)
    ):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        location = resolve_model(model)
        if not isinstance(location, Path):
            raise ModelMissing(f"The embedding model '{model}' is not a local folder.")
        folder = cached_export(location, variant, cache_dir, notify)
        facts = _read_json(folder / "pooling.json")
        base = "sentence-transformers/all-MiniLM-L6-v2" if model == BUNDLED_MODEL else model
        self.name = (
            base if variant == "fp32" and model_file is None else f"{base}@onnx-{model_file.stem if model_file else variant}"
        )
        self.variant = variant
        self.dimension = int(facts["dimension"])
        self.max_tokens = int(facts["max_seq_length"])
        self.batch_size = batch_size
        self.batch_tokens = batch_tokens
        self.threads = threads or available_cores()
        self._pooling = str(facts["mode"])
        self._lowercase = bool(facts["lowercase"])
        # tokenizer.json may carry its own padding and truncation (this one pads and cuts at 128): clear both.
        self._tokenizer_file = folder / "tokenizer.json"
        self._counter: Any = None  # a second tokenizer that never cuts, opened when a build first counts
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._pad_id = int((self.tokenizer.padding or {}).get("pad_id", 0))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=self.max_tokens)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1  # parallel across batches instead (``threads`` runs at once)
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        # Opening the session takes 0.2–0.3 s, mostly in onnxruntime's C++ code: it runs in a thread while the
        # caller goes on (reading the index, building BM25) and the first embedding waits for it.
        path = str(model_file or folder / VARIANTS[variant])
        self._opening = ThreadPoolExecutor(1, thread_name_prefix="onnx-open").submit(
            ort.InferenceSession, path, options, providers=["CPUExecutionProvider"]
        )
        self._opened: Any = None

    @property
    def _session(self) -> Any:
        if self._opened is None:
            try:
                opened = self._opening.result()
            except Exception as exc:  # onnxruntime raises its own types for a model it cannot read
                raise ModelMissing(f"The ONNX export of the embedding model could not be opened: {exc}") from exc
            self._inputs = [i.name for i in opened.get_inputs()]
            self._opened = opened
        return self._opened

    def count_tokens(self, text: str) -> int:
        """Word pieces the model sees for ``text``, special tokens included, without truncation."""
        if self._counter is None:
            from tokenizers import Tokenizer

            counter = Tokenizer.from_file(str(self._tokenizer_file))
            counter.no_padding()
            counter.no_truncation()
            self._counter = counter
        return len(self._counter.encode(self._prepare(text)).ids)

    def _prepare(self, text: str) -> str:
        return text.lower() if self._lowercase else text

    def embed(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text, in the order given.

        Texts are batched by token count so a batch carries little padding; longer texts are cut at
        ``max_tokens`` word pieces, as sentence-transformers cuts them.
        """
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        encodings = self.tokenizer.encode_batch([self._prepare(t) for t in texts])
        batches = self.batches([len(e.ids) for e in encodings])

        def run(batch: list[int]) -> tuple[list[int], np.ndarray]:
            states, mask = self.token_states([encodings[i] for i in batch])
            return batch, self._pool(states, mask)

        if self.threads > 1 and len(batches) > 1:
            # one session, several runs at once: onnxruntime's run is thread-safe and releases the GIL
            with ThreadPoolExecutor(self.threads) as pool:
                for batch, found in _progress(pool.map(run, batches), progress, len(batches)):
                    vectors[batch] = found
        else:
            for batch, found in _progress(map(run, batches), progress, len(batches)):
                vectors[batch] = found
        return vectors

    def batches(self, lengths: list[int]) -> list[list[int]]:
        """Positions sorted by token count, cut into batches of ≤ ``batch_size`` texts and ≤ ``batch_tokens``
        word pieces once padded to the batch's longest (a longer text alone is a batch)."""
        order = sorted(range(len(lengths)), key=lambda i: lengths[i])
        batches: list[list[int]] = []
        current: list[int] = []
        for i in order:
            if current and (len(current) >= self.batch_size or (len(current) + 1) * lengths[i] > self.batch_tokens):
                batches.append(current)
                current = []
            current.append(i)
        if current:
            batches.append(current)
        return batches

    def token_states(self, encodings: list[Any]) -> tuple[np.ndarray, np.ndarray]:
        """The model's last hidden states for tokenizer encodings, padded to the longest: (states, mask).

        Public for experiments that pool tokens differently (late chunking in ``onnx_check``).
        """
        width = max(len(e.ids) for e in encodings)
        arrays = {name: np.zeros((len(encodings), width), dtype=np.int64) for name in INPUT_NAMES}
        arrays["input_ids"].fill(self._pad_id)
        for row, e in enumerate(encodings):
            n = len(e.ids)
            arrays["input_ids"][row, :n] = e.ids
            arrays["attention_mask"][row, :n] = e.attention_mask
            arrays["token_type_ids"][row, :n] = e.type_ids
        session = self._session
        states = session.run(None, {name: arrays[name] for name in self._inputs})[0]
        return states, arrays["attention_mask"]

    def _pool(self, states: np.ndarray, mask: np.ndarray) -> np.ndarray:
        weights = mask[..., None].astype(np.float32)
        if self._pooling == "cls":
            pooled = states[:, 0]
        elif self._pooling == "max":
            pooled = np.where(weights > 0, states, -1e9).max(axis=1)
        else:  # mean, with sentence-transformers' floor on the token count
            pooled = (states * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        # Always normalised, Normalize module or not: the protocol promises unit vectors (inner product = cosine).
        return normalize(pooled)


def normalize(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), as torch.nn.functional.normalize does."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


def _progress(results: Iterator[Any], show: bool, total: int) -> Iterator[Any]:
    if not show:
        return results
    from tqdm import tqdm

    return iter(tqdm(results, desc="Embedding", unit="batch", total=total))
