"""Relations between documents, detected from their text: one contains, repeats or summarises another.

A document most of whose five-word runs occur in a longer one is *part of* it (a chapter extract); when the
two are of similar length it *duplicates* it (a shorter copy of a web page). Their shared passages are then
returned once, from the other document. A much shorter document sharing some runs with a longer one
*summarises* it (a web summary, a publication page): recorded, but its passages stay its own.
"""

from __future__ import annotations

import re

SHINGLE = 5
CONTAINED = 0.6  # share of a document's runs found in another: it is part of it
SAME_SIZE = 0.75  # ... and when it is at least this long relative to the other, a duplicate
SUMMARY = 0.05  # a shorter document sharing at least this share of its runs summarises the other
SUMMARY_SIZE = 0.3
_WORD = re.compile(r"[a-z0-9£%]+")


def shingles(text: str, size: int = SHINGLE) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.casefold())
    if len(words) < size:
        return {tuple(words)} if words else set()
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


def containment(inner: set[tuple[str, ...]], outer: set[tuple[str, ...]]) -> float:
    return len(inner & outer) / len(inner) if inner else 0.0


def detect_relations(texts: dict[str, str]) -> dict[str, tuple[tuple[str, str], ...]]:
    """doc id → ((relation, other doc id), …). Documents are compared pairwise; the longer one of a pair is
    the primary. Chains (a short copy of a summary) are kept as found."""
    grams = {doc_id: shingles(text) for doc_id, text in texts.items()}
    sizes = {doc_id: len(g) for doc_id, g in grams.items()}
    found: dict[str, list[tuple[str, str]]] = {doc_id: [] for doc_id in texts}
    order = sorted(texts, key=lambda d: (-sizes[d], d))
    for i, outer in enumerate(order):
        for inner in order[i + 1 :]:
            if not sizes[inner] or not sizes[outer]:
                continue
            share = containment(grams[inner], grams[outer])
            ratio = sizes[inner] / sizes[outer]
            if share >= CONTAINED:
                found[inner].append(("duplicates" if ratio >= SAME_SIZE else "part_of", outer))
            elif share >= SUMMARY and ratio <= SUMMARY_SIZE:
                found[inner].append(("summarises", outer))
    return {doc_id: tuple(rels) for doc_id, rels in found.items()}
