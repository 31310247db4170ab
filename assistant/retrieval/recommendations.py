"""Recommendations, and questions that ask for them.

A question asking what ought to be done ("Should the government keep…?", "What does the report propose…?")
is best answered by what a report recommends. Which passages recommend is read from structure, not from one
report's wording: a line that opens with a recommendation's label ("Recommendation 4:", "R4."), a passage
under a heading about recommendations, and the rows of an action table in the same section as a labelled
recommendation.
"""

from __future__ import annotations

import re

from assistant.passage import Passage

# "propose"/"proposal" but not "the proposed legislation"; "advise" but not "the advisory panel".
_ASKS = re.compile(
    r"\b(?:should|ought|recommend\w*|propos(?:e|es|al|als)|suggest\w*|advis(?:e|es|ed|ing)|calls? for)\b", re.IGNORECASE
)
_LABEL = re.compile(r"^(?:Recommendation\s*\d+\b|R\d{1,2}\b[.:)]?\s)", re.MULTILINE)
_HEADING = re.compile(r"\brecommendations?\b", re.IGNORECASE)


def asks_for_recommendation(question: str) -> bool:
    return bool(_ASKS.search(question))


def labelled(text: str) -> bool:
    """A line of the text opens with a recommendation's label."""
    return bool(_LABEL.search(text))


def recommending(passages: list[Passage]) -> list[bool]:
    """Which passages hold recommendations (see the module docstring)."""
    sections_with_labels = {(p.doc_id, p.section) for p in passages if labelled(p.text)}
    flags = []
    for p in passages:
        under_heading = p.kind != "footnote" and bool(_HEADING.search(p.section))
        in_action_table = p.kind == "table" and (p.doc_id, p.section) in sections_with_labels
        flags.append(labelled(p.text) or under_heading or in_action_table)
    return flags
