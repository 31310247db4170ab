"""Shared fixtures: the real bundled model, real FAISS, one index per session in a temp dir.

An autouse fixture points ASSISTANT_INDEX and ASSISTANT_MODEL_CACHE at temp dirs so no test touches the repo's
index/ or the user's model cache.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus"


def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's model cache (the ONNX export is made once per test session, never in ~/.cache)."""
    return tmp_path_factory.getbasetemp() / "model-cache"


@pytest.fixture(autouse=True)
def _isolated_state(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_INDEX", str(tmp_path_factory.getbasetemp() / "default-index"))
    monkeypatch.setenv("ASSISTANT_MODEL_CACHE", str(model_cache(tmp_path_factory)))
    for name in ("ASSISTANT_LLM_URL", "ASSISTANT_LLM_MODEL", "ASSISTANT_LLM_API_KEY", "ASSISTANT_CORPUS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def embedder():  # type: ignore[no-untyped-def]
    from assistant.index.embedder import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from assistant.config import Settings

    return Settings(corpus_dir=CORPUS, index_dir=tmp_path_factory.mktemp("index"))


@pytest.fixture(scope="session")
def assistant(settings, embedder):  # type: ignore[no-untyped-def]
    from assistant import Assistant

    return Assistant.load(settings, embedder=embedder, notify=lambda _m: None)


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target
