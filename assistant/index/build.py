"""Building an index: library → documents (parsed once per file) → passages and sentences → vectors → a build.

``plan_build`` does everything but the embedding and reports how much there is to embed, so a caller can
ask before a large rebuild; ``run_build`` embeds only the texts no earlier build has a vector for and
publishes the result through the store. Unchanged text is never embedded twice.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assistant.chunks import chunk_documents, mark_duplicates
from assistant.chunks.sentences import Sentence, split_passages
from assistant.config import ChunkSettings, Settings
from assistant.corpus import Document
from assistant.corpus.load import PARSE_VERSION, ParseCache, load_documents
from assistant.corpus.manifest import corpus_fingerprint
from assistant.errors import CorpusError
from assistant.index import store
from assistant.index.embedder import Embedder
from assistant.passage import Passage, searchable

# Bump when chunking or what is embedded changes: existing indexes then count as stale.
PIPELINE_VERSION = 10
Notify = Callable[[str], None]


def expected_settings(settings: Settings, embedder: Embedder) -> dict[str, Any]:
    """Everything that, when changed, makes an index stale."""
    return {
        "format_version": store.FORMAT_VERSION,
        "pipeline_version": PIPELINE_VERSION,
        "parse_version": PARSE_VERSION,
        "model": embedder.name,
        "dimension": embedder.dimension,
        "index_type": settings.index_type,
        "chunking": chunking(settings, embedder).as_dict(),
    }


def chunking(settings: Settings, embedder: Embedder) -> ChunkSettings:
    c = settings.chunking
    return ChunkSettings(c.target_words, c.min_words, c.max_words, min(c.max_tokens, embedder.max_tokens))


def sentence_embed_text(passage: Passage, sentence: Sentence) -> str:
    """A sentence as the embedder sees it: the nearest heading, then the sentence."""
    heading = passage.section.split(" › ")[-1] if passage.section else passage.title
    return f"{heading}: {searchable(sentence.text)}"


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class BuildPlan:
    """What a build would contain, and which of its texts still need a vector."""

    docs: list[Document]
    faults: list[str]  # listed documents left out: missing, unreadable, no text
    notices: list[str]  # files in the folder the library does not list
    passages: list[Passage]
    sentences: list[Sentence]
    texts: list[str]  # passages' embed texts, then sentences'
    keys: list[str]
    reuse: dict[str, np.ndarray] = field(repr=False)
    fingerprint: dict[str, str]
    started: float

    @property
    def missing(self) -> list[int]:
        """Rows no earlier build has a vector for, one per distinct text (a repeated text is embedded once)."""
        seen = set(self.reuse)
        rows = []
        for i, k in enumerate(self.keys):
            if k not in seen:
                seen.add(k)
                rows.append(i)
        return rows


def plan_build(settings: Settings, embedder: Embedder) -> BuildPlan:
    """Parse (or take from the parse cache), chunk and split; find which vectors an earlier build has."""
    started = time.perf_counter()
    fingerprint = corpus_fingerprint(settings.corpus_dir)
    loaded = load_documents(settings.corpus_dir, ParseCache(settings.index_dir / "parsed"))
    docs = loaded.documents
    if not docs:
        detail = f" ({loaded.faults[0]})" if loaded.faults else ""
        raise CorpusError(f"The library has no readable documents{detail}.")
    passages = mark_duplicates(chunk_documents(docs, chunking(settings, embedder), embedder.count_tokens), docs)
    sentences = split_passages(passages)
    texts = [p.embed_text for p in passages] + [sentence_embed_text(passages[x.passage], x) for x in sentences]
    keys = [text_key(t) for t in texts]
    reuse = _reusable_vectors(settings, embedder)
    return BuildPlan(docs, loaded.faults, loaded.notices, passages, sentences, texts, keys, reuse, fingerprint, started)


def _reusable_vectors(settings: Settings, embedder: Embedder) -> dict[str, np.ndarray]:
    """Vectors of the current build keyed by the hash of their text, so a rebuild embeds only what changed."""
    try:
        import faiss

        build = store.current_build(settings.index_dir)
        manifest = store.read_manifest(build)
        if manifest.get("model") != embedder.name or manifest.get("dimension") != embedder.dimension:
            return {}
        hashes = manifest.get("artifacts", {})
        reuse: dict[str, np.ndarray] = {}
        for vectors_name, rows_name in (("vectors.faiss", "passages.jsonl"), ("sentences.faiss", "sentences.jsonl")):
            if any(store.sha256_file(build / n) != hashes.get(n) for n in (vectors_name, rows_name)):
                continue
            index = faiss.read_index(str(build / vectors_name))
            rows = store.read_jsonl(build / rows_name)
            if index.ntotal != len(rows):
                continue
            stored = index.reconstruct_n(0, index.ntotal)
            reuse.update({row["key"]: stored[i] for i, row in enumerate(rows) if "key" in row})
        return reuse
    except Exception:  # a missing or damaged previous build just means nothing to reuse
        return {}


def run_build(plan: BuildPlan, settings: Settings, embedder: Embedder, notify: Notify, progress: bool = False) -> store.IndexData:
    """Embed what is missing, write the build and publish it (the caller holds the build lock)."""
    passages, sentences = plan.passages, plan.sentences
    notify(f"Cleaned {len(plan.docs)} documents into {len(passages)} passages.")
    for fault in plan.faults:
        notify(f"Left out: {fault}")
    missing = plan.missing
    found = dict(plan.reuse)
    embed_started = time.perf_counter()
    if missing:
        notify(f"Embedding {len(missing)} passages and sentences with {embedder.name}…")
        embedded = embedder.embed([plan.texts[i] for i in missing], progress=progress)
        found.update((plan.keys[i], embedded[row]) for row, i in enumerate(missing))
    embed_seconds = time.perf_counter() - embed_started
    vectors = np.zeros((len(plan.texts), embedder.dimension), dtype=np.float32)
    for i, k in enumerate(plan.keys):
        vectors[i] = found[k]
    passage_index = store.make_faiss(vectors[: len(passages)], settings.index_type)
    sentence_index = store.make_faiss(vectors[len(passages) :], settings.index_type)
    manifest: dict[str, Any] = {
        **expected_settings(settings, embedder),
        "corpus": plan.fingerprint,
        "left_out": plan.faults,
        "counts": {
            "documents": len(plan.docs),
            "passages": len(passages),
            "sentences": len(sentences),
            "embedded": len(missing),
        },
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "build_seconds": round(time.perf_counter() - plan.started, 2),
        "embed_seconds": round(embed_seconds, 2),
    }
    keys = plan.keys
    path = store.write_build(
        settings.index_dir,
        manifest,
        passages,
        keys[: len(passages)],
        sentences,
        keys[len(passages) :],
        plan.docs,
        passage_index,
        sentence_index,
    )
    manifest = store.read_manifest(path)
    return store.IndexData(path, manifest, passages, {d.id: d for d in plan.docs}, passage_index, sentences, sentence_index)


def build_index(settings: Settings, embedder: Embedder, notify: Notify, progress: bool = False) -> store.IndexData:
    """Plan and run a build under the build lock."""
    with store.build_lock(settings.index_dir, wait_seconds=settings.lock_wait_seconds):
        return run_build(plan_build(settings, embedder), settings, embedder, notify, progress)
