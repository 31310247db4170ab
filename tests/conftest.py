"""Shared fixtures: the real bundled model, real FAISS, one index per session in a temp dir.

* ``assistant``: the shipped library (corpus/), indexed once per session — for tests of what the reports say;
* ``small_assistant``: a small real library (the three web pages of the shipped corpus), for the fast tier
  (``pytest -m "not slow"``) and for tests that change a library.

An autouse fixture points ASSISTANT_HOME, ASSISTANT_INDEX and ASSISTANT_DATA at temp dirs, so no test touches
the repository's index, data or eval reports; ASSISTANT_MODEL_CACHE points at the checkout's .cache/ (made
once, reused by later runs, never the user's ~/.cache).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parent.parent
# Before any fixture builds Settings: the tests' model cache is the checkout's, never the user's ~/.cache
os.environ["ASSISTANT_MODEL_CACHE"] = str(REPO / ".cache" / "models")
CORPUS = REPO / "corpus"
SMALL = ("web-summary", "web-summary-short", "govuk")


def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tests' model cache: the checkout's .cache/models (the ONNX export is made once and verified by its
    hashes at each open), never the user's ~/.cache."""
    return REPO / ".cache" / "models"


@pytest.fixture(autouse=True)
def _isolated_state(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    base = tmp_path_factory.getbasetemp()
    monkeypatch.setenv("ASSISTANT_INDEX", str(base / "default-index"))
    monkeypatch.setenv("ASSISTANT_DATA", str(base / "default-data"))
    monkeypatch.setenv("ASSISTANT_MODEL_CACHE", str(model_cache(tmp_path_factory)))
    for name in (
        "ASSISTANT_LLM_URL",
        "ASSISTANT_LLM_MODEL",
        "ASSISTANT_LLM_API_KEY",
        "ASSISTANT_CORPUS",
        "ASSISTANT_APP_AUTH",
        "ASSISTANT_APP_USERS",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def embedder():  # type: ignore[no-untyped-def]
    """The default embedder: the bundled model on onnxruntime."""
    from assistant.config import Settings
    from assistant.index.embedder import default_embedder

    return default_embedder(Settings.from_env())


@pytest.fixture(scope="session")
def torch_embedder():  # type: ignore[no-untyped-def]
    """The same model on sentence-transformers (torch): what the ONNX path must agree with."""
    from assistant.index.embedder import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from assistant.config import Settings

    return Settings(corpus_dir=CORPUS, index_dir=tmp_path_factory.mktemp("index"), data_dir=tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="session")
def assistant(settings, embedder):  # type: ignore[no-untyped-def]
    from assistant import Assistant

    return Assistant.load(settings, embedder=embedder, notify=lambda _m: None)


def copy_library(target: Path, ids: tuple[str, ...] | None = None) -> Path:
    """A copy of the shipped library (or of some of its documents) in ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    manifest = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
    kept = [d for d in manifest["documents"] if ids is None or d["id"] in ids]
    for entry in kept:
        shutil.copy(CORPUS / entry["file"], target / entry["file"])
    (target / "manifest.json").write_text(json.dumps({**manifest, "documents": kept}, indent=2), encoding="utf-8")
    return target


@pytest.fixture(scope="session")
def small_settings(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from assistant.config import Settings

    root = tmp_path_factory.mktemp("small")
    return Settings(corpus_dir=copy_library(root / "corpus", SMALL), index_dir=root / "index", data_dir=root / "data")


@pytest.fixture(scope="session")
def small_assistant(small_settings, embedder):  # type: ignore[no-untyped-def]
    from assistant import Assistant

    return Assistant.load(small_settings, embedder=embedder, notify=lambda _m: None)


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    return copy_library(tmp_path / "corpus")


@pytest.fixture
def small_copy(tmp_path: Path, small_assistant):  # type: ignore[no-untyped-def]
    """A private copy of the small library and of its built index (nothing embedded again)."""
    from dataclasses import replace

    settings = replace(
        small_assistant.settings, corpus_dir=copy_library(tmp_path / "corpus", SMALL), index_dir=tmp_path / "index"
    )
    shutil.copytree(small_assistant.settings.index_dir, settings.index_dir, ignore=shutil.ignore_patterns(".lock"))
    return settings


def retrieval_split(hit: float) -> dict[str, float]:
    """Retrieval figures of one split for a made-up evaluation report (the app's views are tested on it)."""
    return {
        "hit_rate@1": hit - 0.2,
        "hit_rate@5": hit,
        "hit_rate@10": hit + 0.05,
        "mrr@10": hit - 0.1,
        "hit_in_2000_chars": hit,
    }
