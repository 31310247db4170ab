"""The on-disk index: storage, publication, verification and the build lock. No pickle anywhere.

Layout::

    index/CURRENT               name of the build being served (replaced atomically)
    index/builds/<name>/        manifest.json, vectors.faiss, sentences.faiss, passages.jsonl,
                                sentences.jsonl, documents.json
    index/parsed/               cleaned documents by file hash (so an unchanged file is never parsed twice)
    index/.lock                 held while a build runs (the holder's pid inside)

A build is written into a temporary folder, renamed into ``builds/`` and only then published by replacing
``CURRENT``; a build killed at any point leaves the previous one serving.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.chunks.sentences import Sentence
from assistant.corpus import Document
from assistant.corpus.load import document_from_json, document_to_json
from assistant.corpus.manifest import corpus_fingerprint, sha256_file
from assistant.errors import IndexBusy, IndexCorrupt, IndexMissing, IndexStale, IndexUnwritable
from assistant.passage import Passage

FORMAT_VERSION = 2
ARTIFACTS = ("vectors.faiss", "passages.jsonl", "documents.json", "sentences.faiss", "sentences.jsonl")
STALE_LOCK_SECONDS = 6 * 3600


@dataclass
class IndexData:
    """A loaded (or freshly built) index."""

    path: Path
    manifest: dict[str, Any]
    passages: list[Passage]
    documents: dict[str, Document]
    vectors: Any  # faiss.Index over passages
    sentences: list[Sentence]
    sentence_vectors: Any  # faiss.Index over sentences

    @property
    def name(self) -> str:
        return self.path.name


def current_name(index_dir: Path) -> str:
    """The name of the build ``CURRENT`` points at ("" when there is none)."""
    try:
        return (index_dir / "CURRENT").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return ""


def current_build(index_dir: Path) -> Path:
    pointer = index_dir / "CURRENT"
    if not pointer.is_file():
        raise IndexMissing(f"There is no index in {index_dir} yet.")
    name = current_name(index_dir)
    build = index_dir / "builds" / name
    if not name or "/" in name or "\\" in name or name.startswith(".") or not build.is_dir():
        raise IndexCorrupt("The index pointer names a build that does not exist.")
    return build


def read_manifest(build: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexCorrupt("The index manifest is missing or unreadable.") from exc
    if not isinstance(manifest, dict):
        raise IndexCorrupt("The index manifest is not a JSON object.")
    return manifest


def check_fresh(manifest: dict[str, Any], wanted: dict[str, Any], corpus_dir: Path) -> None:
    """Raise IndexStale when the corpus or a setting that shapes the index has changed."""
    for key, value in wanted.items():
        if manifest.get(key) != value:
            raise IndexStale(f"{key.replace('_', ' ')} changed")
    if manifest.get("corpus") != corpus_fingerprint(corpus_dir):
        raise IndexStale("the library changed")


def check_artifacts(build: Path, manifest: dict[str, Any]) -> None:
    """Raise IndexCorrupt when an artifact is missing or does not match its recorded hash."""
    hashes = manifest.get("artifacts")
    if not isinstance(hashes, dict):
        raise IndexCorrupt("The index manifest lists no artifact hashes.")
    for name in ARTIFACTS:
        path = build / name
        if not path.is_file():
            raise IndexCorrupt(f"The index file {name} is missing.")
        if sha256_file(path) != hashes.get(name):
            raise IndexCorrupt(f"The index file {name} does not match its manifest.")


def read_build(build: Path, manifest: dict[str, Any], dimension: int) -> IndexData:
    """Load a verified build's artifacts and check that they agree with each other."""
    import faiss

    try:
        passages = [Passage.from_json(row) for row in read_jsonl(build / "passages.jsonl")]
        documents = {
            d.id: d for d in (document_from_json(x) for x in json.loads((build / "documents.json").read_text(encoding="utf-8")))
        }
        rows = read_jsonl(build / "sentences.jsonl")
        vectors = faiss.read_index(str(build / "vectors.faiss"))
        sentence_vectors = faiss.read_index(str(build / "sentences.faiss"))
    except (OSError, ValueError, KeyError, TypeError, RuntimeError, IndexError) as exc:
        raise IndexCorrupt("An index file could not be read.") from exc
    if vectors.ntotal != len(passages) or vectors.d != dimension or sentence_vectors.ntotal != len(rows):
        raise IndexCorrupt("The vector index does not match the passages.")
    for p in passages:
        doc = documents.get(p.doc_id)
        if doc is None or doc.text[p.start : p.end] != p.text:
            raise IndexCorrupt("A passage does not match its document.")
    try:
        sentences = []
        for r in rows:
            position, start, end = int(r["passage"]), int(r["start"]), int(r["end"])
            passage = passages[position]
            if not passage.start <= start < end <= passage.end:
                raise IndexCorrupt("A sentence lies outside its passage.")
            sentences.append(Sentence(position, start, end, documents[passage.doc_id].text[start:end]))
    except (IndexError, KeyError, TypeError, ValueError) as exc:
        raise IndexCorrupt("A sentence does not match its passage.") from exc
    return IndexData(build, manifest, passages, documents, vectors, sentences, sentence_vectors)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def make_faiss(vectors: np.ndarray, index_type: str) -> Any:
    import faiss

    dim = vectors.shape[1]
    index: Any
    if index_type == "hnsw":
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 64
    elif index_type == "flat":
        index = faiss.IndexFlatIP(dim)
    else:
        raise IndexStale(f"unknown index type '{index_type}' (use flat or hnsw)")
    index.add(vectors)
    return index


def write_build(
    index_dir: Path,
    manifest: dict[str, Any],
    passages: list[Passage],
    passage_keys: list[str],
    sentences: list[Sentence],
    sentence_keys: list[str],
    docs: list[Document],
    passage_index: Any,
    sentence_index: Any,
) -> Path:
    """Write a complete build into a temporary folder, rename it into builds/ and publish it. Returns its path.

    Raises IndexUnwritable when the storage cannot take it (read-only, full); nothing is published then.
    """
    import faiss

    builds = index_dir / "builds"
    tmp: Path | None = None
    try:
        builds.mkdir(parents=True, exist_ok=True)
        clean_leftovers(builds)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=builds))
        faiss.write_index(passage_index, str(tmp / "vectors.faiss"))
        faiss.write_index(sentence_index, str(tmp / "sentences.faiss"))
        with (tmp / "passages.jsonl").open("w", encoding="utf-8") as handle:
            for p, key in zip(passages, passage_keys, strict=True):
                handle.write(json.dumps({**p.to_json(), "key": key}, ensure_ascii=False) + "\n")
        with (tmp / "sentences.jsonl").open("w", encoding="utf-8") as handle:
            for x, key in zip(sentences, sentence_keys, strict=True):
                handle.write(json.dumps({"passage": x.passage, "start": x.start, "end": x.end, "key": key}) + "\n")
        (tmp / "documents.json").write_text(json.dumps([document_to_json(d) for d in docs], ensure_ascii=False), encoding="utf-8")
        manifest = {**manifest, "artifacts": {name: sha256_file(tmp / name) for name in ARTIFACTS}}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        name = time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + f"-{os.getpid()}-{tmp.name[-6:]}"
        final = builds / name
        os.replace(tmp, final)
        tmp = None
        publish(index_dir, name)
        remove_old_builds(index_dir, keep={name})
        return final
    except (OSError, RuntimeError) as exc:  # faiss reports write failures as RuntimeError
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        raise IndexUnwritable(_unwritable(index_dir, exc)) from exc


def _unwritable(index_dir: Path, exc: BaseException) -> str:
    number = getattr(exc, "errno", None)
    if number == errno.EROFS:
        why = "the file system is read-only"
    elif number == errno.ENOSPC:
        why = "the disk is full"
    elif number in (errno.EACCES, errno.EPERM):
        why = "permission denied"
    else:
        why = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return f"The index folder {index_dir} cannot be written ({why})."


def publish(index_dir: Path, name: str) -> None:
    pointer_tmp = index_dir / f".CURRENT.{os.getpid()}.tmp"
    pointer_tmp.write_text(name + "\n", encoding="utf-8")
    with pointer_tmp.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(pointer_tmp, index_dir / "CURRENT")


def clean_leftovers(builds: Path) -> None:
    """Remove temporary folders of builds that were killed before publishing (older than a minute)."""
    for path in builds.glob(".tmp-*"):
        with contextlib.suppress(OSError):
            if time.time() - path.stat().st_mtime > 60:
                shutil.rmtree(path, ignore_errors=True)


def remove_old_builds(index_dir: Path, keep: set[str]) -> None:
    """Remove builds other than ``keep`` — never the one CURRENT names, even if another process published it."""
    keep = keep | {current_name(index_dir)}
    for path in (index_dir / "builds").iterdir():
        if path.is_dir() and path.name not in keep and not path.name.startswith(".tmp-"):
            shutil.rmtree(path, ignore_errors=True)


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def build_lock(index_dir: Path, wait_seconds: float = 0.0) -> Iterator[None]:
    """Hold ``index/.lock`` for the duration of a build. A lock whose holder is gone (or that is very old) is
    broken; a live holder makes this raise IndexBusy (after waiting up to ``wait_seconds``)."""
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise IndexUnwritable(_unwritable(index_dir, exc)) from exc
    path = index_dir / ".lock"
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            handle = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            if _stale_lock(path):
                with contextlib.suppress(OSError):
                    os.unlink(path)
                continue
            if time.monotonic() >= deadline:
                raise IndexBusy("Another build of the index is running; try again when it has finished.") from None
            time.sleep(0.2)
            continue
        except OSError as exc:
            raise IndexUnwritable(_unwritable(index_dir, exc)) from exc
        try:
            with os.fdopen(handle, "w") as out:
                out.write(f"{os.getpid()}\n")
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(path)
            raise IndexUnwritable(_unwritable(index_dir, exc)) from exc
        break
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            if path.read_text(encoding="utf-8").strip() == str(os.getpid()):
                os.unlink(path)


def _stale_lock(path: Path) -> bool:
    try:
        text = path.read_text(encoding="utf-8").strip()
        age = time.time() - path.stat().st_mtime
    except (OSError, UnicodeDecodeError):
        return False
    if age > STALE_LOCK_SECONDS:
        return True
    if not text.isdigit():
        return age > 5  # a lock being written right now has no pid for a moment
    return not _pid_alive(int(text))
