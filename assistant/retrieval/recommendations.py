"""The report's recommendations, and questions that ask for them.

A question asking what ought to be done ("Should the government keep…?", "What does the report propose…?")
is answered by one of the report's fourteen recommendations: its heading ("Recommendation 2: Continue to
support mutuals…") or a row of its action table ("OCS | 2.1. Continue Mutuals Support Programme 2…").
Retrieval prefers such passages for such questions, and the extractive answer such sentences.
"""

from __future__ import annotations

import re

# "propose"/"proposal" but not "the proposed NHS legislation"; "advise" but not "the advisory panel".
_ASKS = re.compile(
    r"\b(?:should|ought|recommend\w*|propos(?:e|es|al|als)|suggest\w*|advis(?:e|es|ed|ing)|calls? for)\b", re.IGNORECASE
)
_RECOMMENDATION = re.compile(r"^(?:Recommendation \d+:|[^|\n]*\|\s*\d+\.\d+\.)", re.MULTILINE)


def asks_for_recommendation(question: str) -> bool:
    return bool(_ASKS.search(question))


def is_recommendation(text: str) -> bool:
    """Holds a recommendation's heading or a row of its action table (at the start of a line)."""
    return bool(_RECOMMENDATION.search(text))
