"""Questions about the documents themselves — who wrote or commissioned one, when, for whom, why, how it is
organised — and the passages that answer them: a document's front matter (title page, foreword,
acknowledgements, objectives: its first pages) and short documents that describe another (a web summary, a
publication page). Read from wording and position, so it holds for any report.
"""

from __future__ import annotations

import re

from assistant.corpus import Document
from assistant.passage import Passage

_ABOUT = re.compile(
    r"\b(?:who\s+(?:wrote|authored|produced|prepared|published|commissioned|funded|paid\s+for|did\s+the\s+research)|"
    r"authors?|writers?|written\s+(?:by|for)|commission(?:ed|er|ers|ing)?|publish(?:ed|er)?|publication\s+date|"
    r"subtitle|titled?|headline|aims?|objectives?|purpose|audience|intended\s+for|designed\s+for|aimed\s+at|"
    r"chapters?|sections?|structure|contents|companion|acknowledg\w*|thank\w*|methodolog\w*|"
    r"how\s+was\s+(?:it|the\s+\w+)\s+(?:done|carried\s+out|researched|written)|what\s+is\s+(?:it|this)\s+for)\b",
    re.IGNORECASE,
)
_DOCUMENT = re.compile(
    r"\b(?:report|study|research|review|evaluation|paper|document|publication|page|summary|write-?up|listing|website|site|it|this)\b",
    re.IGNORECASE,
)
FRONT = 0.15  # the first share of a document that holds its front matter
SHORT = 12_000  # characters: a document this short is about another one as a whole


def asks_about_document(question: str) -> bool:
    return bool(_ABOUT.search(question) and _DOCUMENT.search(question))


def front_matter(passages: list[Passage], documents: dict[str, Document]) -> list[bool]:
    """Which passages belong to a document's front matter, or to a short document describing another."""
    lengths = {doc_id: max(1, len(d.text)) for doc_id, d in documents.items()}
    return [
        p.kind != "footnote" and (lengths.get(p.doc_id, 1) <= SHORT or p.start / lengths.get(p.doc_id, 1) <= FRONT)
        for p in passages
    ]
