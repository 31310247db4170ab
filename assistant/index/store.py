"""The on-disk index: FAISS vectors, passages and documents as JSON, and a manifest of hashes. No pickle.

Layout::

    index/CURRENT               name of the build being served (replaced atomically)
    index/builds/<name>/        manifest.json, vectors.faiss, passages.jsonl, documents.json

A build is written into a temporary folder, renamed into ``builds/`` and only then published by
replacing ``CURRENT``; a build killed at any point leaves the previous one serving.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.chunks import chunk_documents, mark_duplicates
from assistant.chunks.sentences import Sentence, split_passages
from assistant.config import ChunkSettings, Settings
from assistant.corpus import Document, load_documents
from assistant.corpus.document import Block
from assistant.corpus.manifest import corpus_fingerprint
from assistant.errors import IndexCorrupt, IndexMissing, IndexStale
from assistant.index.embedder import Embedder
from assistant.passage import Passage

FORMAT_VERSION = 1
# Bump when cleaning, chunking or what is embedded changes: existing indexes then count as stale.
PIPELINE_VERSION = 7
ARTIFACTS = ("vectors.faiss", "passages.jsonl", "documents.json", "sentences.faiss", "sentences.jsonl")
Notify = Callable[[str], None]


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


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def expected_settings(settings: Settings, embedder: Embedder) -> dict[str, Any]:
    """Everything that, when changed, makes an index stale."""
    return {
        "format_version": FORMAT_VERSION,
        "pipeline_version": PIPELINE_VERSION,
        "model": embedder.name,
        "dimension": embedder.dimension,
        "index_type": settings.index_type,
        "chunking": _chunking(settings, embedder).as_dict(),
    }


def _chunking(settings: Settings, embedder: Embedder) -> ChunkSettings:
    c = settings.chunking
    return ChunkSettings(c.target_words, c.min_words, c.max_words, min(c.max_tokens, embedder.max_tokens))


def current_build(index_dir: Path) -> Path:
    pointer = index_dir / "CURRENT"
    if not pointer.is_file():
        raise IndexMissing(f"There is no index in {index_dir} yet.")
    name = pointer.read_text(encoding="utf-8").strip()
    build = index_dir / "builds" / name
    if not name or "/" in name or not build.is_dir():
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


def verify(build: Path, manifest: dict[str, Any], settings: Settings, embedder: Embedder) -> None:
    """Raise IndexStale when corpus or settings changed, IndexCorrupt when an artifact was altered."""
    wanted = expected_settings(settings, embedder)
    for key, value in wanted.items():
        if manifest.get(key) != value:
            raise IndexStale(f"{key.replace('_', ' ')} changed")
    if manifest.get("corpus") != corpus_fingerprint(settings.corpus_dir):
        raise IndexStale("the corpus changed")
    hashes = manifest.get("artifacts")
    if not isinstance(hashes, dict):
        raise IndexCorrupt("The index manifest lists no artifact hashes.")
    for name in ARTIFACTS:
        path = build / name
        if not path.is_file():
            raise IndexCorrupt(f"The index file {name} is missing.")
        if sha256_file(path) != hashes.get(name):
            raise IndexCorrupt(f"The index file {name} does not match its manifest.")


def open_index(settings: Settings, embedder: Embedder) -> IndexData:
    """Load the current build after verifying it; never returns a stale or damaged index."""
    import faiss

    build = current_build(settings.index_dir)
    manifest = read_manifest(build)
    verify(build, manifest, settings, embedder)
    try:
        passages = [Passage.from_json(row) for row in _read_jsonl(build / "passages.jsonl")]
        documents = {
            d.id: d for d in (_document_from_json(x) for x in json.loads((build / "documents.json").read_text(encoding="utf-8")))
        }
        sentences = [
            Sentence(int(r["passage"]), int(r["start"]), int(r["end"]), "") for r in _read_jsonl(build / "sentences.jsonl")
        ]
        vectors = faiss.read_index(str(build / "vectors.faiss"))
        sentence_vectors = faiss.read_index(str(build / "sentences.faiss"))
    except (ValueError, KeyError, TypeError, RuntimeError, IndexError) as exc:
        raise IndexCorrupt("An index file could not be read.") from exc
    if vectors.ntotal != len(passages) or vectors.d != embedder.dimension or sentence_vectors.ntotal != len(sentences):
        raise IndexCorrupt("The vector index does not match the passages.")
    for p in passages:
        doc = documents.get(p.doc_id)
        if doc is None or doc.text[p.start : p.end] != p.text:
            raise IndexCorrupt("A passage does not match its document.")
    try:
        sentences = [
            Sentence(s.passage, s.start, s.end, documents[passages[s.passage].doc_id].text[s.start : s.end]) for s in sentences
        ]
    except (IndexError, KeyError) as exc:
        raise IndexCorrupt("A sentence does not match its passage.") from exc
    return IndexData(build, manifest, passages, documents, vectors, sentences, sentence_vectors)


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def sentence_embed_text(passage: Passage, sentence: Sentence) -> str:
    """A sentence as the embedder sees it: the nearest heading, then the sentence."""
    heading = passage.section.split(" › ")[-1] if passage.section else passage.title
    return f"{heading}: {sentence.text}"


def _document_to_json(doc: Document) -> dict[str, Any]:
    return {
        "id": doc.id,
        "title": doc.title,
        "kind": doc.kind,
        "publisher": doc.publisher,
        "date": doc.date,
        "file": doc.file,
        "sha256": doc.sha256,
        "relations": [list(r) for r in doc.relations],
        "text": doc.text,
        "footnotes": {str(k): v for k, v in doc.footnotes.items()},
    }


def _document_from_json(data: dict[str, Any]) -> Document:
    return Document(
        id=data["id"],
        title=data["title"],
        kind=data["kind"],
        publisher=data.get("publisher", ""),
        date=data.get("date", ""),
        file=data.get("file", ""),
        sha256=data.get("sha256", ""),
        relations=tuple((r[0], r[1]) for r in data.get("relations", [])),
        text=data["text"],
        blocks=tuple[Block, ...](),
        footnotes={int(k): v for k, v in data.get("footnotes", {}).items()},
    )


def _make_faiss(vectors: np.ndarray, index_type: str) -> Any:
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


def _reusable_vectors(settings: Settings, embedder: Embedder) -> dict[str, np.ndarray]:
    """Vectors of the current build keyed by the hash of their text, so a rebuild embeds only what changed."""
    try:
        import faiss

        build = current_build(settings.index_dir)
        manifest = read_manifest(build)
        if manifest.get("model") != embedder.name or manifest.get("dimension") != embedder.dimension:
            return {}
        hashes = manifest.get("artifacts", {})
        reuse: dict[str, np.ndarray] = {}
        for vectors_name, rows_name in (("vectors.faiss", "passages.jsonl"), ("sentences.faiss", "sentences.jsonl")):
            if any(sha256_file(build / n) != hashes.get(n) for n in (vectors_name, rows_name)):
                continue
            index = faiss.read_index(str(build / vectors_name))
            rows = _read_jsonl(build / rows_name)
            if index.ntotal != len(rows):
                continue
            stored = index.reconstruct_n(0, index.ntotal)
            reuse.update({row["key"]: stored[i] for i, row in enumerate(rows) if "key" in row})
        return reuse
    except Exception:  # a missing or damaged previous build just means nothing to reuse
        return {}


def _text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def build_index(settings: Settings, embedder: Embedder, notify: Notify, progress: bool = False) -> IndexData:
    """Clean, chunk, embed and write a new build, then publish it atomically."""
    started = time.perf_counter()
    fingerprint = corpus_fingerprint(settings.corpus_dir)
    docs = load_documents(settings.corpus_dir)
    chunking = _chunking(settings, embedder)
    passages = mark_duplicates(chunk_documents(docs, chunking, embedder.count_tokens), docs)
    notify(f"Cleaned {len(docs)} documents into {len(passages)} passages.")

    sentences = split_passages(passages)
    texts = [p.embed_text for p in passages] + [sentence_embed_text(passages[x.passage], x) for x in sentences]
    keys = [_text_key(t) for t in texts]
    reuse = _reusable_vectors(settings, embedder)
    missing = [i for i, k in enumerate(keys) if k not in reuse]
    vectors = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
    for i, k in enumerate(keys):
        if k in reuse:
            vectors[i] = reuse[k]
    if missing:
        notify(f"Embedding {len(missing)} passages and sentences with {embedder.name}…")
        vectors[missing] = embedder.embed([texts[i] for i in missing], progress=progress)
    embed_seconds = time.perf_counter() - started
    index = _make_faiss(vectors[: len(passages)], settings.index_type)
    sentence_index = _make_faiss(vectors[len(passages) :], settings.index_type)

    builds = settings.index_dir / "builds"
    builds.mkdir(parents=True, exist_ok=True)
    _clean_leftovers(builds)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=builds))
    import faiss

    faiss.write_index(index, str(tmp / "vectors.faiss"))
    faiss.write_index(sentence_index, str(tmp / "sentences.faiss"))
    with (tmp / "passages.jsonl").open("w", encoding="utf-8") as handle:
        for p, key in zip(passages, keys, strict=False):
            handle.write(json.dumps({**p.to_json(), "key": key}, ensure_ascii=False) + "\n")
    with (tmp / "sentences.jsonl").open("w", encoding="utf-8") as handle:
        for x, key in zip(sentences, keys[len(passages) :], strict=True):
            handle.write(json.dumps({"passage": x.passage, "start": x.start, "end": x.end, "key": key}) + "\n")
    (tmp / "documents.json").write_text(json.dumps([_document_to_json(d) for d in docs], ensure_ascii=False), encoding="utf-8")
    manifest: dict[str, Any] = {
        **expected_settings(settings, embedder),
        "corpus": fingerprint,
        "artifacts": {name: sha256_file(tmp / name) for name in ARTIFACTS},
        "counts": {
            "documents": len(docs),
            "passages": len(passages),
            "sentences": len(sentences),
            "embedded": len(missing),
        },
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "build_seconds": round(time.perf_counter() - started, 2),
        "embed_seconds": round(embed_seconds, 2),
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    name = time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + f"-{os.getpid()}-{tmp.name[-6:]}"
    final = builds / name
    os.replace(tmp, final)
    _publish(settings.index_dir, name)
    _remove_old_builds(builds, keep=name)
    return IndexData(final, manifest, passages, {d.id: d for d in docs}, index, sentences, sentence_index)


def _publish(index_dir: Path, name: str) -> None:
    pointer_tmp = index_dir / f".CURRENT.{os.getpid()}.tmp"
    pointer_tmp.write_text(name + "\n", encoding="utf-8")
    with pointer_tmp.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(pointer_tmp, index_dir / "CURRENT")


def _clean_leftovers(builds: Path) -> None:
    """Remove temporary folders of builds that were killed before publishing (older than a minute)."""
    for path in builds.glob(".tmp-*"):
        if time.time() - path.stat().st_mtime > 60:
            shutil.rmtree(path, ignore_errors=True)


def _remove_old_builds(builds: Path, keep: str) -> None:
    for path in builds.iterdir():
        if path.is_dir() and path.name != keep and not path.name.startswith(".tmp-"):
            shutil.rmtree(path, ignore_errors=True)
