"""The index on disk: verified on load, rebuilt when stale or damaged, published atomically, no pickle."""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.config import Settings
from assistant.errors import CorpusError, ModelMissing

from .conftest import REPO


class CountingEmbedder:
    """The real embedder, counting how many texts it is asked to embed."""

    def __init__(self, inner):  # type: ignore[no-untyped-def]
        self.inner = inner
        self.name, self.dimension, self.max_tokens = inner.name, inner.dimension, inner.max_tokens
        self.embedded = 0

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def embed(self, texts, progress=False):  # type: ignore[no-untyped-def]
        self.embedded += len(texts)
        return self.inner.embed(texts, progress)


@pytest.fixture
def fresh(tmp_path: Path, corpus_copy: Path, assistant, embedder):  # type: ignore[no-untyped-def]
    """A private index (a copy of the session's build) over a private corpus copy, loaded once."""
    settings = Settings(corpus_dir=corpus_copy, index_dir=tmp_path / "index")
    shutil.copytree(assistant.settings.index_dir, settings.index_dir)
    notes: list[str] = []
    first = Assistant.load(settings, embedder=embedder, notify=notes.append)
    assert notes == [], "a copied, unchanged index loads without rebuilding"
    return settings, first, notes


def _load(settings, embedder, notes=None):  # type: ignore[no-untyped-def]
    return Assistant.load(settings, embedder=embedder, notify=(notes if notes is not None else []).append)


def test_build_then_load_gives_the_same_results(assistant, embedder) -> None:  # type: ignore[no-untyped-def]
    notes: list[str] = []
    again = _load(assistant.settings, embedder, notes)
    assert notes == []
    query = "how are PCNs contracted by CCGs?"
    assert [(p.id, p.score) for p in assistant.search(query)] == [(p.id, p.score) for p in again.search(query)]
    assert again.index.path == assistant.index.path


def test_missing_index_is_built_with_a_message(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    notes: list[str] = []
    counting = CountingEmbedder(embedder)
    built = Assistant.load(Settings(index_dir=tmp_path / "index"), embedder=counting, notify=notes.append)
    assert notes[0].startswith("No index yet")
    assert counting.embedded == len(built.passages) + len(built.index.sentences)
    assert len(built.passages) > 200


def test_unchanged_corpus_is_never_reembedded(fresh, embedder) -> None:  # type: ignore[no-untyped-def]
    settings, _first, _ = fresh
    counting = CountingEmbedder(embedder)
    _load(settings, counting)
    assert counting.embedded == 0
    rebuilt = Assistant.load(settings, embedder=counting, rebuild=True, notify=lambda _m: None)
    assert counting.embedded == 0 and rebuilt.index.manifest["counts"]["embedded"] == 0


def test_changed_corpus_is_detected_as_stale_and_rebuilt(fresh, embedder) -> None:  # type: ignore[no-untyped-def]
    settings, first, _ = fresh
    page = settings.corpus_dir / "govuk-publication-page.txt"
    page.write_text(page.read_text() + "\nThe page was updated to mention Zanzibar cooperatives.\n")
    notes: list[str] = []
    counting = CountingEmbedder(embedder)
    second = _load(settings, counting, notes)
    assert any("out of date (the corpus changed)" in n for n in notes)
    assert second.index.path != first.index.path
    assert 0 < counting.embedded < 10, "only the changed passages are embedded again"
    assert "Zanzibar" in second.search("Zanzibar cooperatives", k=1)[0].text


def test_changed_settings_are_detected_as_stale(fresh, embedder) -> None:  # type: ignore[no-untyped-def]
    settings, _first, _ = fresh
    notes: list[str] = []
    _load(dataclasses.replace(settings, index_type="hnsw"), embedder, notes)
    assert any("index type changed" in n for n in notes)


@pytest.mark.parametrize("artifact", ["vectors.faiss", "passages.jsonl", "documents.json", "manifest.json"])
def test_corrupt_artifact_is_detected_and_rebuilt(fresh, embedder, artifact: str) -> None:  # type: ignore[no-untyped-def]
    settings, first, _ = fresh
    path = first.index.path / artifact
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    notes: list[str] = []
    repaired = _load(settings, embedder, notes)
    assert any("damaged" in n for n in notes), notes
    assert [p.id for p in repaired.search("Granta Medical Practices")] == [p.id for p in first.search("Granta Medical Practices")]


def test_tampered_passage_text_is_detected(fresh, embedder) -> None:  # type: ignore[no-untyped-def]
    settings, first, _ = fresh
    path = first.index.path / "passages.jsonl"
    path.write_text(path.read_text().replace("96% of mutuals", "16% of mutuals"))
    notes: list[str] = []
    repaired = _load(settings, embedder, notes)
    assert any("passages.jsonl does not match" in n for n in notes)
    assert all("16% of mutuals" not in p.text for p in repaired.passages)


def test_no_pickle_anywhere_in_the_index(fresh) -> None:  # type: ignore[no-untyped-def]
    settings, _first, _ = fresh
    files = [p for p in settings.index_dir.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"CURRENT", "manifest.json", "vectors.faiss", "passages.jsonl", "documents.json"}
    for path in files:
        assert path.suffix not in (".pkl", ".pickle")
        assert not path.read_bytes()[:2].startswith(b"\x80"), f"{path.name} looks like a pickle"


def test_a_build_killed_midway_leaves_the_previous_index_serving(fresh) -> None:  # type: ignore[no-untyped-def]
    settings, first, _ = fresh
    env = {**os.environ, "ASSISTANT_CORPUS": str(settings.corpus_dir), "ASSISTANT_INDEX": str(settings.index_dir)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "index", "--rebuild"],
        cwd=REPO,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    deadline = time.time() + 120
    for line in proc.stderr:
        if "Embedding" in line or "Cleaned" in line or time.time() > deadline:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    pointer = (settings.index_dir / "CURRENT").read_text().strip()
    assert pointer == first.index.path.name
    notes: list[str] = []
    from assistant.index.embedder import SentenceTransformerEmbedder

    again = Assistant.load(settings, embedder=SentenceTransformerEmbedder(), notify=notes.append)
    assert notes == [] and again.index.path == first.index.path


def test_bad_corpus_file_fails_the_build_and_leaves_the_index_untouched(fresh, embedder) -> None:  # type: ignore[no-untyped-def]
    settings, _first, _ = fresh
    before = {p: p.stat().st_mtime_ns for p in settings.index_dir.rglob("*") if p.is_file()}
    (settings.corpus_dir / "web-summary.txt").write_bytes(b"caf\xe9 \xff")
    with pytest.raises(CorpusError, match="not UTF-8"):
        _load(settings, embedder)
    after = {p: p.stat().st_mtime_ns for p in settings.index_dir.rglob("*") if p.is_file()}
    assert before == after


def test_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path / "index", model=str(tmp_path / "no-such-model"))
    with pytest.raises(ModelMissing, match="cannot be loaded offline"):
        Assistant.load(settings)
    assert not (tmp_path / "index").exists()
