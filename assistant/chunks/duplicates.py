"""Near-duplicate passages across documents that the manifest says repeat each other.

The chapter extract is part of the full report and the short web summary duplicates the long one:
their passages are tied to the passage of the primary document that holds the same words, so
search returns the text once, from the primary document, noting where else it appears.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import replace

from assistant.corpus.document import Document
from assistant.passage import Passage

SHINGLE = 5
MIN_CONTAINMENT = 0.5
WHOLE_CONTAINMENT = 0.8
_WORD = re.compile(r"[a-z0-9£%]+")


def shingles(text: str, size: int = SHINGLE) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.casefold())
    if len(words) < size:
        return {tuple(words)} if words else set()
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


def containment(inner: set[tuple[str, ...]], outer: set[tuple[str, ...]]) -> float:
    return len(inner & outer) / len(inner) if inner else 0.0


def secondary_targets(docs: list[Document]) -> dict[str, list[str]]:
    """doc id → the documents it repeats (from the manifest's part_of / duplicates relations)."""
    return {
        d.id: [target for rel, target in d.relations if rel in ("part_of", "duplicates")]
        for d in docs
        if any(rel in ("part_of", "duplicates") for rel, _ in d.relations)
    }


def mark_duplicates(passages: list[Passage], docs: list[Document]) -> list[Passage]:
    """Set ``duplicate_of`` on repeated passages and ``also_in`` on the passages they repeat."""
    targets = secondary_targets(docs)
    titles = {d.id: d.title for d in docs}
    by_doc: dict[str, list[Passage]] = defaultdict(list)
    for p in passages:
        by_doc[p.doc_id].append(p)
    grams = {p.id: shingles(p.text) for p in passages}
    duplicate_of: dict[str, str] = {}
    also_in: dict[str, set[str]] = defaultdict(set)
    doc_grams = {d.id: shingles(d.text) for d in docs if d.id in {t for ts in targets.values() for t in ts}}
    for doc_id, target_ids in targets.items():
        for p in by_doc[doc_id]:
            best, best_score = None, 0.0
            for target in target_ids:
                for q in by_doc[target]:
                    score = containment(grams[p.id], grams[q.id])
                    if score > best_score:
                        best, best_score = q, score
            # text split differently across the two documents still repeats the target as a whole
            whole = max((containment(grams[p.id], doc_grams[t]) for t in target_ids), default=0.0)
            if best is not None and (best_score >= MIN_CONTAINMENT or whole >= WHOLE_CONTAINMENT):
                duplicate_of[p.id] = best.id
                also_in[best.id].add(titles[doc_id])
    # follow chains (short summary → long summary → …) to the primary passage
    for pid in list(duplicate_of):
        seen = {pid}
        while duplicate_of[pid] in duplicate_of and duplicate_of[pid] not in seen:
            seen.add(duplicate_of[pid])
            duplicate_of[pid] = duplicate_of[duplicate_of[pid]]
    return [replace(p, duplicate_of=duplicate_of.get(p.id, ""), also_in=tuple(sorted(also_in.get(p.id, ())))) for p in passages]
