"""Near-duplicate passages across documents that repeat each other.

A document detected as part of another (a chapter extract of the full report) or as a duplicate of it (a
shorter copy of a web page) has its passages tied to the passage of the other document that holds the same
words, so search returns the text once, from the primary document, noting where else it appears.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import replace

from assistant.corpus.document import Document
from assistant.corpus.relations import containment, shingles
from assistant.passage import Passage

MIN_CONTAINMENT = 0.3  # the passage of the other document that holds most of this one is its primary
REPEATS = ("part_of", "duplicates")


_SENTENCE = re.compile(r"(?<=[.!?:;])\s+|\n+")
SENTENCE_CONTAINMENT = 0.8


def _fold(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9£%]+", text.casefold()))


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE.split(text) if re.search(r"[A-Za-z]", s)]


def _sentence_in(sentence: str, doc_grams: set[tuple[str, ...]], doc_fold: str) -> bool:
    """The sentence is in the document: its words in order (short ones), or most of its five-word runs."""
    grams = shingles(sentence)
    if len(sentence.split()) < 8:
        return _fold(sentence) in doc_fold
    return containment(grams, doc_grams) >= SENTENCE_CONTAINMENT


def secondary_targets(docs: list[Document]) -> dict[str, list[str]]:
    """doc id → the documents it repeats."""
    return {
        d.id: [target for rel, target in d.relations if rel in REPEATS]
        for d in docs
        if any(rel in REPEATS for rel, _ in d.relations)
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
    wanted = {t for ts in targets.values() for t in ts}
    doc_grams = {d.id: shingles(d.text) for d in docs if d.id in wanted}
    doc_folds = {d.id: _fold(d.text) for d in docs if d.id in wanted}
    for doc_id, target_ids in targets.items():
        for p in by_doc[doc_id]:
            best, best_score = None, 0.0
            for target in target_ids:
                for q in by_doc[target]:
                    score = containment(grams[p.id], grams[q.id])
                    if score > best_score:
                        best, best_score = q, score
            # every sentence must be in the other document (text split differently still counts): a passage
            # with a sentence of its own ("Published 4 November 2019") is kept
            repeated = any(all(_sentence_in(x, doc_grams[t], doc_folds[t]) for x in _sentences(p.text)) for t in target_ids)
            if best is not None and best_score >= MIN_CONTAINMENT and repeated:
                duplicate_of[p.id] = best.id
                also_in[best.id].add(titles[doc_id])
    # follow chains (short summary → long summary → …) to the primary passage
    for pid in list(duplicate_of):
        seen = {pid}
        while duplicate_of[pid] in duplicate_of and duplicate_of[pid] not in seen:
            seen.add(duplicate_of[pid])
            duplicate_of[pid] = duplicate_of[duplicate_of[pid]]
    return [replace(p, duplicate_of=duplicate_of.get(p.id, ""), also_in=tuple(sorted(also_in.get(p.id, ())))) for p in passages]
