"""The index on disk: verified on load, rebuilt when stale or damaged, published atomically, no pickle; a
fault in the library or the storage never takes the service down."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from assistant import Assistant
from assistant.config import Settings
from assistant.errors import IndexBusy, ModelMissing, RebuildTooLarge
from assistant.index import store

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


def _load(settings, embedder, notes=None, **kwargs):  # type: ignore[no-untyped-def]
    return Assistant.load(settings, embedder=embedder, notify=(notes if notes is not None else []).append, **kwargs)


def test_build_then_load_gives_the_same_results(small_copy, small_assistant, embedder) -> None:  # type: ignore[no-untyped-def]
    notes: list[str] = []
    again = _load(small_copy, embedder, notes)
    assert notes == [], "a copied, unchanged index loads without rebuilding"
    query = "what does the web summary say about primary care networks?"
    assert [(p.id, p.score) for p in small_assistant.search(query)] == [(p.id, p.score) for p in again.search(query)]


def test_missing_index_is_built_with_a_message(tmp_path: Path, small_settings, embedder) -> None:  # type: ignore[no-untyped-def]
    notes: list[str] = []
    counting = CountingEmbedder(embedder)
    built = _load(dataclasses.replace(small_settings, index_dir=tmp_path / "index"), counting, notes)
    assert notes[0] == "Building the index (there is none yet)…"
    rows = [*store.read_jsonl(built.index.path / "passages.jsonl"), *store.read_jsonl(built.index.path / "sentences.jsonl")]
    assert len(rows) == len(built.passages) + len(built.index.sentences)
    distinct = {row["key"] for row in rows}
    assert counting.embedded == len(distinct) == built.index.manifest["counts"]["embedded"], "each distinct text once"


def test_a_text_repeated_in_one_build_is_embedded_once_and_shares_its_vector(tmp_path: Path, small_settings, embedder) -> None:  # type: ignore[no-untyped-def]
    from assistant.index.build import plan_build

    settings = dataclasses.replace(small_settings, index_dir=tmp_path / "index")
    plan = plan_build(settings, embedder)
    repeated = [k for k in set(plan.keys) if plan.keys.count(k) > 1]
    assert repeated, "the web summaries repeat sentences of each other"
    assert len(plan.missing) == len(set(plan.keys))
    built = _load(settings, embedder)
    vectors = [
        *built.index.vectors.reconstruct_n(0, len(built.passages)),
        *built.index.sentence_vectors.reconstruct_n(0, len(built.index.sentences)),
    ]
    rows = [i for i, k in enumerate(plan.keys) if k == repeated[0]]
    assert all(np.array_equal(vectors[rows[0]], vectors[i]) for i in rows[1:])


def test_unchanged_text_is_never_embedded_again(small_copy, embedder) -> None:  # type: ignore[no-untyped-def]
    counting = CountingEmbedder(embedder)
    _load(small_copy, counting)
    assert counting.embedded == 0
    rebuilt = _load(small_copy, counting, rebuild=True)
    assert counting.embedded == 0 and rebuilt.index.manifest["counts"]["embedded"] == 0


def test_a_changed_document_is_rebuilt_embedding_only_what_changed(small_copy, embedder) -> None:  # type: ignore[no-untyped-def]
    first = _load(small_copy, embedder)
    page = small_copy.corpus_dir / "govuk-publication-page.txt"
    page.write_text(page.read_text() + "\nThe page was updated to mention Zanzibar cooperatives.\n")
    notes: list[str] = []
    counting = CountingEmbedder(embedder)
    second = _load(small_copy, counting, notes)
    assert any(n.startswith("Building the index (the library changed)") for n in notes)
    assert second.index.path != first.index.path
    assert 0 < counting.embedded < 10, "only the changed passages are embedded again"
    assert "Zanzibar" in second.search("Zanzibar cooperatives", k=1)[0].text


def test_changed_settings_are_detected_as_stale(small_copy, embedder) -> None:  # type: ignore[no-untyped-def]
    notes: list[str] = []
    _load(dataclasses.replace(small_copy, index_type="hnsw"), embedder, notes)
    assert any("index type changed" in n for n in notes)


@pytest.mark.parametrize("artifact", ["vectors.faiss", "passages.jsonl", "documents.json", "manifest.json"])
def test_a_corrupt_artifact_is_detected_and_rebuilt(small_copy, embedder, artifact: str) -> None:  # type: ignore[no-untyped-def]
    first = _load(small_copy, embedder)
    path = first.index.path / artifact
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    notes: list[str] = []
    repaired = _load(small_copy, embedder, notes)
    assert any("Building the index" in n for n in notes), notes
    query = "Published 4 November 2019"
    assert [p.id for p in repaired.search(query)] == [p.id for p in first.search(query)]


def test_tampered_passage_text_is_detected(small_copy, embedder) -> None:  # type: ignore[no-untyped-def]
    first = _load(small_copy, embedder)
    path = first.index.path / "passages.jsonl"
    path.write_text(path.read_text().replace("mutuals", "muffins"))
    notes: list[str] = []
    repaired = _load(small_copy, embedder, notes)
    assert any("passages.jsonl does not match" in n for n in notes)
    assert all("muffins" not in p.text for p in repaired.passages)


def test_no_pickle_anywhere_in_the_index(small_copy, embedder) -> None:  # type: ignore[no-untyped-def]
    _load(small_copy, embedder)
    files = [p for p in small_copy.index_dir.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"CURRENT", "manifest.json", "vectors.faiss", "passages.jsonl", "documents.json"}
    for path in files:
        assert path.suffix not in (".pkl", ".pickle")
        assert not path.read_bytes()[:2].startswith(b"\x80"), f"{path.name} looks like a pickle"


def test_a_pointer_outside_the_builds_folder_is_refused(small_copy, embedder) -> None:  # type: ignore[no-untyped-def]
    (small_copy.index_dir / "CURRENT").write_text("../../../etc\n")
    notes: list[str] = []
    repaired = _load(small_copy, embedder, notes)
    assert any("Building the index" in n for n in notes)
    assert (small_copy.index_dir / "CURRENT").read_text().strip() == repaired.index.name


def test_a_build_killed_midway_leaves_the_previous_index_serving(small_copy, embedder) -> None:  # type: ignore[no-untyped-def]
    first = _load(small_copy, embedder)
    env = {**os.environ, "ASSISTANT_CORPUS": str(small_copy.corpus_dir), "ASSISTANT_INDEX": str(small_copy.index_dir)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "index", "--rebuild"], cwd=REPO, env=env, stderr=subprocess.PIPE, text=True
    )
    assert proc.stderr is not None
    deadline = time.time() + 120
    for line in proc.stderr:
        if "Building" in line or "Cleaned" in line or time.time() > deadline:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert store.current_name(small_copy.index_dir) == first.index.name
    notes: list[str] = []
    again = _load(small_copy, embedder, notes)
    assert notes == [] and again.index.path == first.index.path, "the killed build's stale lock is broken and nothing rebuilt"


def test_an_unreadable_document_keeps_the_last_good_index_serving(small_copy, embedder) -> None:  # type: ignore[no-untyped-def]
    first = _load(small_copy, embedder)
    before = {p: p.stat().st_mtime_ns for p in (small_copy.index_dir / "builds").rglob("*") if p.is_file()}
    (small_copy.corpus_dir / "web-summary.txt").write_bytes(b"caf\xe9 \xff")
    served = _load(small_copy, embedder)
    assert served.index.path == first.index.path
    assert any("web-summary.txt is not UTF-8" in w for w in served.warnings)
    assert any("keeps serving" in w for w in served.warnings)
    assert served.search("Primary Care Networks")
    after = {p: p.stat().st_mtime_ns for p in (small_copy.index_dir / "builds").rglob("*") if p.is_file()}
    assert before == after


def test_a_stray_file_is_named_in_a_warning_and_ignored(small_copy, embedder) -> None:  # type: ignore[no-untyped-def]
    first = _load(small_copy, embedder)
    (small_copy.corpus_dir / "notes.txt").write_text("my notes")
    served = _load(small_copy, embedder)
    assert served.index.path == first.index.path
    assert any("notes.txt" in w and "not in the library" in w for w in served.warnings)


def test_a_large_rebuild_asks_first_and_the_old_index_serves_meanwhile(small_copy, embedder) -> None:  # type: ignore[no-untyped-def]
    first = _load(small_copy, embedder)
    page = small_copy.corpus_dir / "web-summary.txt"
    page.write_text(page.read_text() + "\n" + "\n\n".join(f"New paragraph {i} about transport." for i in range(40)))
    strict = dataclasses.replace(small_copy, confirm_embeds_over=5)
    served = _load(strict, embedder, confirm=lambda plan: False)
    assert served.index.path == first.index.path
    assert any("assistant index --yes" in w for w in served.warnings)
    counting = CountingEmbedder(embedder)
    rebuilt = _load(strict, counting, confirm=lambda plan: True)
    assert rebuilt.index.path != first.index.path and counting.embedded > 5


def test_a_large_first_build_without_consent_is_refused(tmp_path: Path, small_settings, embedder) -> None:  # type: ignore[no-untyped-def]
    settings = dataclasses.replace(small_settings, index_dir=tmp_path / "index", confirm_embeds_over=5)
    with pytest.raises(RebuildTooLarge, match="--yes"):
        _load(settings, embedder, confirm=lambda plan: False)


@contextlib.contextmanager
def _mounted(path: Path, *options: str) -> Iterator[None]:
    path.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(["mount", *options, str(path)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.skip(f"cannot mount here ({result.stderr.strip() or 'no permission'})")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


def test_read_only_storage_is_one_message_and_the_last_index_serves(tmp_path: Path, small_copy, embedder) -> None:  # type: ignore[no-untyped-def]
    first = _load(small_copy, embedder)
    page = small_copy.corpus_dir / "govuk-publication-page.txt"
    page.write_text(page.read_text() + "\nA new line that needs a rebuild.\n")
    with _mounted(small_copy.index_dir, "--bind", str(small_copy.index_dir)):
        subprocess.run(["mount", "-o", "remount,bind,ro", str(small_copy.index_dir)], check=True)
        served = _load(small_copy, embedder)
        assert served.index.name == first.index.name
        assert any("cannot be written (the file system is read-only)" in w for w in served.warnings), served.warnings
        assert served.search("mutuals")


def test_a_full_disk_is_one_message_and_the_last_index_serves(tmp_path: Path, small_copy, embedder) -> None:  # type: ignore[no-untyped-def]
    first = _load(small_copy, embedder)
    full = tmp_path / "full"
    with _mounted(full, "-t", "tmpfs", "-o", "size=2m", "tmpfs"):
        shutil.copytree(small_copy.index_dir, full / "index")
        settings = dataclasses.replace(small_copy, index_dir=full / "index")
        filler = full / "filler"
        with contextlib.suppress(OSError), filler.open("wb") as handle:
            while True:
                handle.write(b"\0" * 65536)
        page = small_copy.corpus_dir / "govuk-publication-page.txt"
        page.write_text(page.read_text() + "\nA new line that needs a rebuild.\n")
        served = _load(settings, embedder)
        assert served.index.name == first.index.name
        assert any("cannot be written" in w for w in served.warnings), served.warnings


def test_a_second_build_waits_for_the_lock_holder(small_copy) -> None:  # type: ignore[no-untyped-def]
    with store.build_lock(small_copy.index_dir), pytest.raises(IndexBusy, match="Another build"):
        with store.build_lock(small_copy.index_dir):
            pass
    (small_copy.index_dir / ".lock").write_text("999999\n")  # a holder that died
    with store.build_lock(small_copy.index_dir):
        assert (small_copy.index_dir / ".lock").read_text().strip() == str(os.getpid())


def test_publishing_never_deletes_the_build_current_names(small_copy, embedder) -> None:  # type: ignore[no-untyped-def]
    first = _load(small_copy, embedder)
    store.remove_old_builds(small_copy.index_dir, keep=set())
    assert first.index.path.is_dir(), "the build CURRENT names survives whoever cleans up"


def test_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path / "index", model=str(tmp_path / "no-such-model"))
    with pytest.raises(ModelMissing, match="cannot be loaded offline"):
        Assistant.load(settings)
    assert not (tmp_path / "index").exists()
