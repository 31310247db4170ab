"""Follow-up questions made standalone from the conversation, offline and deterministic.

"And what about in primary care?" after "What barriers do mutuals face in adult social care?" becomes
"What barriers do mutuals face in primary care?"; "Who is its strategy director?" after "What is Granta
Medical Practices?" becomes "Who is its strategy director? (Granta Medical Practices)". The topic of a
turn is the longest phrase it shares with the reports' own vocabulary of headings, glossary names and
named organisations, or else what is left of the question once its question words are removed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.passage import Passage

_SHIFT = re.compile(
    r"^\s*(?:and|but|also|so)?\s*(?:what|how)\s+about\s+(?P<x>.+?)\s*\??\s*$|^\s*(?:and|but)\s+(?:in|for|with|on)\s+(?P<y>.+?)\s*\??\s*$",
    re.IGNORECASE,
)
_STRONG_PRONOUN = re.compile(r"\b(it|its|them|the same|the one|the version|that one)\b|\bthere\s*[?.!]?\s*$", re.IGNORECASE)
_PRONOUN = re.compile(r"\b(they|their|that|this|those|these|he|she|his|her|such)\b", re.IGNORECASE)
_LEADING_CONNECTIVE = re.compile(r"^\s*(and|but|also|so|then|ok|okay)\b[\s,]*", re.IGNORECASE)
_QUESTION_WORDS = re.compile(
    r"^\s*(?:please\s+)?(?:tell me (?:more )?about|what(?:'s| is| are| was| were| does| do| did)?(?: the report| they| it)?(?: say| said)?(?: about)?|"
    r"who(?: is| are| was)?|how(?: many| much| does| do| is| are| can| could)?|why(?: is| are| do| does)?|which|where|when|"
    r"is|are|does|do|can|could|should|explain|describe)\s+",
    re.IGNORECASE,
)
_CAPITALISED = re.compile(r"\b[A-Z][\w’'&-]*(?:\s+(?:of|for|and|the|&)?\s*[A-Z0-9][\w’'&-]*)+")


@dataclass(frozen=True)
class Rewrite:
    query: str
    rewritten: bool


class FollowUpRewriter:
    """Knows the reports' topics; turns a follow-up into a standalone query."""

    def __init__(self, passages: list[Passage], glossary_names: list[str]):
        topics: set[str] = set()
        for p in passages:
            for part in p.section.split(" › "):
                part = re.sub(r"^(?:case stud(?:y|ies)|figure \d+)\s*[:.]\s*", "", part, flags=re.IGNORECASE).strip(" .")
                if 1 <= len(part.split()) <= 6 and not part[:1].isdigit():
                    topics.add(part)
            for match in _CAPITALISED.finditer(p.text):
                phrase = match.group(0)
                if 2 <= len(phrase.split()) <= 5:
                    topics.add(phrase)
        topics.update(glossary_names)
        generic = {"key drivers and opportunities for mutualisation", "summary", "footnotes", "conclusion", "about us"}
        self.topics = sorted((t for t in topics if t.casefold() not in generic), key=len, reverse=True)

    def topic_of(self, text: str) -> str | None:
        lowered = text.casefold()
        for topic in self.topics:
            if len(topic) > 3 and re.search(rf"\b{re.escape(topic.casefold())}\b", lowered):
                return topic
        return None

    def _subject(self, question: str) -> str:
        """What a question is about once its question words are removed."""
        core = _LEADING_CONNECTIVE.sub("", question).strip().rstrip("?.! ")
        core = _QUESTION_WORDS.sub("", core, count=1)
        return re.sub(r"^(?:the|a|an)\s+", "", core, flags=re.IGNORECASE)

    def rewrite(self, question: str, history: list[dict[str, str]]) -> Rewrite:
        previous = next((m["content"] for m in reversed(history) if m["role"] == "user"), None)
        if not previous:
            return Rewrite(question, False)
        shift = _SHIFT.match(question)
        if shift:
            focus = (shift.group("x") or shift.group("y") or "").strip()
            focus = re.sub(r"^(?:in|for|with|on)\s+", "", focus, flags=re.IGNORECASE)
            old_topic = self.topic_of(previous)
            if old_topic and not self.topic_of(focus):
                return Rewrite(f"{focus[:1].upper()}{focus[1:]} ({old_topic})?", True)  # an aspect of the same topic
            if old_topic and old_topic.casefold() != focus.casefold():
                pattern = re.compile(re.escape(old_topic), re.IGNORECASE)
                return Rewrite(pattern.sub(focus, previous, count=1), True)
            return Rewrite(f"{self._subject(previous)} {focus}".strip() + "?", True)
        own_topic = self.topic_of(question)
        strong = _STRONG_PRONOUN.search(question) or _LEADING_CONNECTIVE.match(question)
        weak = _PRONOUN.search(question)
        leans_back = bool(strong) or (bool(weak) and not own_topic) or len(question.split()) <= 4
        if not leans_back:
            return Rewrite(question, False)
        topic = self.topic_of(previous) or self._subject(previous)
        if not topic or (own_topic and own_topic.casefold() == topic.casefold()):
            return Rewrite(question, False)
        return Rewrite(f"{question.rstrip()} ({topic})", True)
