"""Plain words people ask with → the words the reports use (a commissioner says "making money", the
report says "profitable"). Added to the query like glossary expansions; deliberately short and generic."""

from __future__ import annotations

import re

PLAIN_TO_REPORT: dict[str, str] = {
    r"making money|make money|earn(?:ing)? money|in profit": "profitable profit surplus",
    r"money|cash|funds": "funding finance",
    r"hold(?:s|ing)? back|obstacles?|problems?|hurdles?": "barriers risks",
    r"downsides?|dangers?": "risks",
    r"upsides?|advantages?|good things": "benefits",
    r"staff(?:ing)?|employees|workers": "workforce staff",
    r"keep(?:ing)? staff|hold on to staff": "retention",
    r"how many|number of": "number",
    r"set up|start(?:ing)? up|create|creating": "establish spin out",
    r"council|councils": "local authority",
    r"gp practices?|gp surgeries|family doctors?": "primary care GP",
    r"back[- ]office": "enabling services",
    r"owned by (?:the )?staff|staff[- ]owned|employee[- ]owned": "employee ownership",
}
_COMPILED = [(re.compile(rf"\b(?:{pattern})\b", re.IGNORECASE), words) for pattern, words in PLAIN_TO_REPORT.items()]


def report_words(query: str) -> list[str]:
    """Report vocabulary for the plain phrasings the query uses (none if it already speaks the report's words)."""
    lowered = query.casefold()
    additions: list[str] = []
    for pattern, words in _COMPILED:
        if pattern.search(query):
            additions.extend(w for w in words.split() if w not in lowered and w not in additions)
    return additions
