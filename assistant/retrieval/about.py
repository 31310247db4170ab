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
_SELF = re.compile(
    r"\b(?:this|the|our)\s+(?:independent\s+|final\s+|full\s+)?(?:report|study|review|evaluation|research|paper|document|publication)\s+"
    r"(?:was|has\s+been|is|were|have\s+been)\s+(?:\w+\s+){0,2}?(?:produced|written|prepared|authored|commissioned|published|funded|undertaken|"
    r"carried\s+out|designed|conducted|developed|intended|aimed)\b|"
    r"^\s*(?:authors?|written\s+by|edited\s+by|prepared\s+by|produced\s+by|commissioned\s+by|published(?:\s+on|\s+by)?|"
    r"publication\s+date|date\s+of\s+publication|first\s+published|version)\b",
    re.IGNORECASE | re.MULTILINE,
)
FRONT = 0.15  # the first share of a document that holds its front matter
SHORT = 12_000  # characters: a document this short is about another one as a whole


def asks_about_document(question: str) -> bool:
    return bool(_ABOUT.search(question) and _DOCUMENT.search(question))


def describes_itself(text: str) -> bool:
    """A sentence in which a document says who made it, for whom, when or why ("This report was produced by…",
    "Authors: …", "Published 4 November 2019")."""
    return bool(_SELF.search(text))


def front_matter(passages: list[Passage], documents: dict[str, Document]) -> list[bool]:
    """Which passages belong to a document's front matter, or to a short document describing another."""
    lengths = {doc_id: max(1, len(d.text)) for doc_id, d in documents.items()}
    return [
        p.kind != "footnote" and (lengths.get(p.doc_id, 1) <= SHORT or p.start / lengths.get(p.doc_id, 1) <= FRONT)
        for p in passages
    ]
