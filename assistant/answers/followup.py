"""Follow-up questions made standalone from the conversation, offline and deterministic.

* "And what about in primary care?" after "What barriers do mutuals face in adult social care?" becomes
  "What barriers do mutuals face in primary care?" (ellipsis: the new focus takes the old one's place);
* "Who is its strategy director?" after "What is Granta Medical Practices?" becomes "Who is its strategy
  director? (Granta Medical Practices)" (a pronoun with nothing in the question to refer to);
* "In the second one, who commissions the services?" takes the second item of the previous answer;
* a question that names its own subject — "How will Granta be run once it has converted?" — or says it
  changes the subject ("Different question: …") is left alone, whatever came before.

The topic of a turn is the longest phrase it shares with the library's own vocabulary (headings, glossary
names, named organisations), or else what is left of the question once its question words are removed.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from assistant.passage import Passage

_SHIFT = re.compile(
    r"^\s*(?:and|but|also|so)?\s*(?:what|how)\s+about\s+(?P<x>.+?)\s*\??\s*$|^\s*(?:and|but)\s+(?:in|for|with|on|at)\s+(?P<y>.+?)\s*\??\s*$",
    re.IGNORECASE,
)
_SWITCH = re.compile(
    r"^\s*(?:(?:a\s+)?(?:different|new|separate|unrelated|another)\s+(?:question|topic|thing)|switching\s+(?:topic|subject)s?|"
    r"changing\s+(?:the\s+)?(?:topic|subject)|on\s+(?:a|another)\s+(?:different\s+)?(?:note|topic)|separately|unrelated)\s*[:,.!-]\s*",
    re.IGNORECASE,
)
_ORDINAL = re.compile(
    r"\b(?:the\s+)?(?P<n>first|second|third|fourth|fifth|sixth|last|1st|2nd|3rd|4th|5th)\s+(?:one|item|option|model|point|area|route|recommendation|of\s+(?:them|those|these))\b|"
    r"\b(?:number|no\.?|#)\s*(?P<d>\d)\b",
    re.IGNORECASE,
)
_ORDINALS = {
    "first": 1,
    "1st": 1,
    "second": 2,
    "2nd": 2,
    "third": 3,
    "3rd": 3,
    "fourth": 4,
    "4th": 4,
    "fifth": 5,
    "5th": 5,
    "sixth": 6,
    "last": -1,
}
_PRONOUN = re.compile(
    r"\b(?:it|its|itself|they|them|their|theirs|themselves|he|she|his|her|him|that|this|those|these|such|the\s+same|"
    r"the\s+(?:latter|former|other|previous)|that\s+one|this\s+one)\b|\bthere\s*[?.!]?\s*$",
    re.IGNORECASE,
)
_LEADING_CONNECTIVE = re.compile(r"^\s*(and|but|also|so|then|ok|okay)\b[\s,]*", re.IGNORECASE)
_QUESTION_WORDS = re.compile(
    r"^\s*(?:please\s+)?(?:tell me (?:more )?about|what(?:'s| is| are| was| were| does| do| did)?(?: the report| they| it)?(?: say| said)?(?: about)?|"
    r"who(?: is| are| was)?|how(?: many| much| does| do| is| are| can| could| has| have)?|why(?: is| are| do| does)?|which|where|when|"
    r"is|are|does|do|can|could|should|explain|describe)\s+",
    re.IGNORECASE,
)
_CAPITALISED = re.compile(r"\b[A-Z][\w’'&-]*(?:\s+(?:of|for|and|the|&)?\s*[A-Z0-9][\w’'&-]*)+")
_NAME = re.compile(r"\b(?:[A-Z][a-z][\w’'&-]*|[A-Z]{2,}[\w-]*)")
# Headings every report uses for its structure, not for a topic.
_STRUCTURAL = re.compile(
    r"^(?:summary|executive summary|conclusions?|introduction|footnotes|contents|appendix|appendices|about us|"
    r"acknowledg\w*|foreword|preface|bibliography|references|glossary.*|methodology|recommendations?|background)$",
    re.IGNORECASE,
)
# Words any question may hold: a short question made only of these (and one more word) leans on the one before.
_ASKING = frozenset(
    [
        "what",
        "whats",
        "which",
        "who",
        "whom",
        "whose",
        "why",
        "how",
        "when",
        "where",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "do",
        "does",
        "did",
        "can",
        "could",
        "should",
        "would",
        "will",
        "may",
        "might",
        "must",
        "shall",
        "a",
        "an",
        "the",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "by",
        "with",
        "from",
        "about",
        "and",
        "or",
        "but",
        "so",
        "then",
        "ok",
        "okay",
        "any",
        "some",
        "more",
        "else",
        "tell",
        "me",
        "us",
        "give",
        "show",
        "explain",
        "describe",
        "there",
        "here",
        "one",
        "ones",
        "please",
    ]
)
_WORD = re.compile(r"[a-z0-9][a-z0-9’'-]*")
_ITEM = re.compile(r"^\s*(?:[-•*]|\d{1,2}[.)])\s+")
_MARKERS = re.compile(r"\s*\[\d+\]")


MAX_CHAIN = 3  # a follow-up of a follow-up is read against the earlier one's standalone form, this many deep


@dataclass(frozen=True)
class Rewrite:
    query: str
    rewritten: bool
    topic: str | None = None  # what a rewritten follow-up carried over: the topic a later follow-up inherits


class FollowUpRewriter:
    """Knows the library's topics; turns a follow-up into a standalone query."""

    def __init__(self, passages: list[Passage], glossary_names: list[str]):
        topics: set[str] = set()
        parents: dict[tuple[str, str], set[str]] = defaultdict(set)
        for p in passages:
            parts = p.section.split(" › ")
            for i, part in enumerate(parts):
                part = re.sub(r"^(?:case stud(?:y|ies)|figure \d+)\s*[:.]\s*", "", part, flags=re.IGNORECASE).strip(" .")
                parents[(p.doc_id, part.casefold())].add(" › ".join(parts[:i]))
                if 1 <= len(part.split()) <= 6 and not part[:1].isdigit():
                    topics.add(part)
            for match in _CAPITALISED.finditer(p.text):
                phrase = match.group(0)
                if 2 <= len(phrase.split()) <= 5:
                    topics.add(phrase)
        topics.update(glossary_names)
        # a heading repeated under several others ("Risks and barriers…" under each area) names no topic
        generic = {t for (_, t), ps in parents.items() if len(ps) >= 3}
        self.topics = sorted(
            (t for t in topics if t.casefold() not in generic and not _STRUCTURAL.match(t)), key=len, reverse=True
        )

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
        core = re.sub(r"\s+(?:are|is|were|was)\s+there\b", "", core, flags=re.IGNORECASE)  # "mutuals are there in…"
        return re.sub(r"^(?:the|a|an)\s+", "", core, flags=re.IGNORECASE)

    @staticmethod
    def _names_its_subject(question: str, pronoun_at: int) -> bool:
        """A name (a capitalised word that does not open the question) comes before the pronoun."""
        head = question[:pronoun_at]
        return any(
            m.start() > 0
            for m in _NAME.finditer(head)
            if not re.match(r"(?:What|Who|How|Which|Why|When|Where|Is|Are|Does|Do|Did|Can|In|And|But)\b", m.group(0))
        )

    @staticmethod
    def _item(answer: str, n: int) -> str | None:
        """The n-th item (1-based; -1 the last) of an earlier answer: a list item, or else a sentence."""
        lines = [_MARKERS.sub("", line) for line in answer.split("\n")]
        items = [_ITEM.sub("", line).strip() for line in lines if _ITEM.match(line)]
        text = _MARKERS.sub("", answer)
        if not items and ":" in text:  # "Two: a primary care model, and an adult social care model."
            enumeration = text.split(":", 1)[1].strip().rstrip(".")
            items = [i.strip() for i in re.split(r",\s*(?:and|or)\s+|;\s*|,\s*|\s+and\s+", enumeration) if len(i.split()) > 1]
            items = items if len(items) >= 2 else []
        if not items:
            items = [s for s in re.split(r"(?<=[.!?])\s+", text) if len(s.split()) > 2]
        if not items or abs(n) > len(items):
            return None
        item = items[n - 1] if n > 0 else items[-1]
        words = item.split()
        return " ".join(words[:12]).rstrip(",;:")

    def rewrite(self, question: str, history: list[dict[str, str]], depth: int = 0) -> Rewrite:
        asked = [i for i, m in enumerate(history) if m["role"] == "user"]
        if not asked:
            return Rewrite(question, False)
        previous = history[asked[-1]]["content"]
        carried = None
        if depth < MAX_CHAIN:  # "and their staff?" after "how big are they?" after "how many mutuals…?"
            earlier = self.rewrite(previous, history[: asked[-1]], depth + 1)
            if earlier.rewritten:
                previous, carried = earlier.query, earlier.topic
        switched = _SWITCH.match(question)
        if switched:
            return Rewrite(question[switched.end() :].strip() or question, switched.end() < len(question))
        ordinal = _ORDINAL.search(question)
        if ordinal:
            answer = next((m["content"] for m in reversed(history) if m["role"] == "assistant"), "")
            key = ordinal.group("n") or ordinal.group("d") or ""
            n = _ORDINALS.get(key.lower(), int(key) if key.isdigit() else 0)
            item = self._item(answer, n) if n else None
            if item:
                return Rewrite(f"{question.rstrip()} ({item})", True, item)
        shift = _SHIFT.match(question)
        if shift:
            focus = (shift.group("x") or shift.group("y") or "").strip()
            focus = re.sub(r"^(?:in|for|with|on|at)\s+", "", focus, flags=re.IGNORECASE)
            old_topic = carried or self.topic_of(previous)
            if old_topic and not self.topic_of(focus):
                return Rewrite(f"{focus[:1].upper()}{focus[1:]} ({old_topic})?", True, old_topic)  # an aspect of it
            if old_topic and old_topic.casefold() != focus.casefold() and old_topic.casefold() in previous.casefold():
                pattern = re.compile(re.escape(old_topic), re.IGNORECASE)
                return Rewrite(pattern.sub(focus, previous, count=1), True, focus)
            return Rewrite(f"{self._subject(previous)} ({focus})?", True, focus)
        own_topic = self.topic_of(question)
        pronoun = _PRONOUN.search(question)
        unresolved = pronoun is not None and not self._names_its_subject(question, pronoun.start())
        connective = _LEADING_CONNECTIVE.match(question) is not None
        # "Any examples?", "Why?", "How much?" lean on the last question; "Who wrote the report?" stands alone
        own_words = [w for w in _WORD.findall(question.casefold()) if w not in _ASKING]
        short = len(question.split()) <= 4 and not own_topic and len(own_words) <= 1
        if not (unresolved or connective or short):
            return Rewrite(question, False)
        topic = carried or self.topic_of(previous) or self._subject(previous)
        if not topic or (own_topic and own_topic.casefold() == topic.casefold()):
            return Rewrite(question, False)
        return Rewrite(f"{question.rstrip()} ({topic})", True, topic)
