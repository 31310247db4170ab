"""Questions that ask about two things at once, split into one query per thing.

"Dissemination versus the wholly owned route: how do their results differ?", "What's the difference between
Right to Request and Right to Provide?", "Who commissioned the research and who wrote it?" — each part is
searched on its own as well as the whole, so that both halves of the answer are found. Only the wording of
the question is read.
"""

from __future__ import annotations

import re

_VERSUS = re.compile(
    r"^(?P<a>.+?)\s+(?:versus|vs\.?|compared\s+(?:to|with)|against)\s+(?P<b>.+?)\s*(?:[:?]\s*(?P<rest>.*))?$", re.IGNORECASE
)
_BETWEEN = re.compile(
    r"^(?P<lead>.*?)\b(?:difference|differences|distinction|contrast)\s+between\s+(?P<a>.+?)\s+and\s+(?P<b>.+?)\s*\??$",
    re.IGNORECASE,
)
_COMPARE = re.compile(r"^(?P<lead>.*?)\bcompare\s+(?P<a>.+?)\s+(?:with|to|and)\s+(?P<b>.+?)\s*\??$", re.IGNORECASE)
_DIFFER = re.compile(
    r"^(?P<lead>.*?)\bhow\s+(?:do|does|did)\s+(?P<a>.+?)\s+and\s+(?P<b>.+?)\s+(?:differ|compare)\b(?P<rest>.*)$", re.IGNORECASE
)
_TWO_QUESTIONS = re.compile(r"^(?P<a>.+?)[,;]?\s+and\s+(?P<b>(?:who|what|when|where|why|how|which)\b.+)$", re.IGNORECASE)
_FILLER = re.compile(r"^(?:the|a|an)\s+", re.IGNORECASE)


def parts(question: str) -> list[str]:
    """The separate queries in ``question`` (empty when it asks about one thing)."""
    text = question.strip()
    for pattern in (_BETWEEN, _COMPARE, _DIFFER, _VERSUS):
        match = pattern.match(text)
        if match:
            found = match.groupdict()
            lead = re.sub(
                r"^(?:what(?:'s|’s| is| are)?|which|is|are)\b\s*(?:the\b)?",
                "",
                (found.get("lead") or "").strip(),
                flags=re.IGNORECASE,
            )
            rest = f"{lead} {found.get('rest') or ''}".strip(" :?,")
            a, b = (_FILLER.sub("", match.group(g).strip(" :?,")) for g in ("a", "b"))
            if a and b and len(a.split()) <= 12 and len(b.split()) <= 12:
                return [f"{a} {rest}".strip(), f"{b} {rest}".strip()]
    match = _TWO_QUESTIONS.match(text)
    if match and len(match.group("a").split()) >= 3:
        first = match.group("a").strip(" ,;?")
        # the second question leans on the first ("… and who wrote it?"): it is searched with it
        return [first + "?", f"{match.group('b').strip(' ?')} ({first})?"]
    return []
