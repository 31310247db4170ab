"""All configuration in one place: a dataclass with offline defaults, overridable by environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_MODEL = "bundled:all-MiniLM-L6-v2"
# Per-user, outside the package: an installed package's folder may be read-only.
DEFAULT_MODEL_CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "assistant"


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


@dataclass(frozen=True)
class ChunkSettings:
    """How documents are cut into passages. Changing any of these makes an index stale."""

    target_words: int = 70
    min_words: int = 35
    max_words: int = 130
    max_tokens: int = 256

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class Settings:
    """Runtime settings. ``Settings.from_env()`` reads ``ASSISTANT_*`` variables over these defaults."""

    corpus_dir: Path = REPO_ROOT / "corpus"
    index_dir: Path = REPO_ROOT / "index"
    model: str = BUNDLED_MODEL
    model_cache: Path = DEFAULT_MODEL_CACHE  # derived model files (the ONNX export), rebuilt when missing
    index_type: str = "flat"  # "flat" (exact inner product) or "hnsw"
    batch_size: int = 32
    chunking: ChunkSettings = field(default_factory=ChunkSettings)
    # retrieval
    candidates: int = 40
    rrf_k: int = 60
    max_query_chars: int = 2000
    # answers
    max_history_turns: int = 6
    refusal_min_cosine: float = 0.50  # calibrated with `assistant eval` (see the refusal trade-off table)
    llm_url: str = ""
    llm_model: str = ""
    llm_api_key: str = ""
    llm_timeout: float = 30.0

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        base = cls(
            corpus_dir=Path(_env("ASSISTANT_CORPUS", str(cls.corpus_dir))),
            index_dir=Path(_env("ASSISTANT_INDEX", str(cls.index_dir))),
            model=_env("ASSISTANT_MODEL", BUNDLED_MODEL),
            model_cache=Path(_env("ASSISTANT_MODEL_CACHE", str(DEFAULT_MODEL_CACHE))).expanduser(),
            index_type=_env("ASSISTANT_INDEX_TYPE", "flat"),
            llm_url=_env("ASSISTANT_LLM_URL", ""),
            llm_model=_env("ASSISTANT_LLM_MODEL", ""),
            llm_api_key=_env("ASSISTANT_LLM_API_KEY", ""),
            llm_timeout=float(_env("ASSISTANT_LLM_TIMEOUT", "30")),
        )
        return replace(base, **overrides) if overrides else base  # type: ignore[arg-type]
