"""What a question pins down, and whether what was retrieved states it.

A question can ask for something specific — a figure ("how many staff…", "what percentage…", "X's
turnover"), a date ("when…"), a person ("who is the chief executive of…") — about a named thing, in a named
year or place. When no retrieved sentence states it, the honest answer says what the reports do not give
("The reports don't give a figure for 2022.") before the nearest thing they do say. The checks read only the
question's wording and the retrieved sentences, so they work the same on any report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from assistant.answers.cues import QUANTITY, Wants, supplies, wants
from assistant.retrieval.bm25 import content_terms
from assistant.retrieval.hits import SentenceHit

_YEAR = re.compile(r"\b(?:19|20)\d\d(?:\s*[/–-]\s*(?:19|20)?\d\d)?\b")
_AUX = r"(?:does|do|did|is|are|was|were|has|have|had|will|would|can|could|should|went|go|goes|came|come|get|got)"
_FOCUS = [
    re.compile(
        rf"\bhow\s+(?:many|much)\s+(?:of\s+(?:the\s+|its\s+|their\s+)?)?(?!{_AUX}\b)(?P<f>[\w\s'’-]+?)\s+{_AUX}\b", re.IGNORECASE
    ),
    re.compile(
        rf"\bhow\s+(?:many|much)\s+(?:of\s+(?:the\s+|its\s+|their\s+)?)?(?!{_AUX}\b)(?P<f>[\w'’-]+(?:\s+[\w'’-]+)?)\s*\??$",
        re.IGNORECASE,
    ),
    re.compile(
        r"\bwhat\s+(?:is\s+the\s+|was\s+the\s+|are\s+the\s+)?(?:percentage|proportion|share|number|amount|size|value|level|rate)\s+of\s+"
        rf"(?:the\s+)?(?P<f>[\w\s'’-]+?)(?:\s+{_AUX}\b|\s+(?:in|at|on|for|by|across)\b|\?|$)",
        re.IGNORECASE,
    ),
    re.compile(rf"['’]s\s+(?:\w+\s+)?(?P<f>{QUANTITY})\b", re.IGNORECASE),
    re.compile(rf"\bwhat(?:['’]s|\s+is|\s+was|\s+are|\s+were)\s+(?:the\s+)?(?:\w+\s+)?(?P<f>{QUANTITY})\b", re.IGNORECASE),
    re.compile(r"\bwhat\s+(?P<f>[\w-]+(?:\s+[\w-]+)?)\s+(?:rate|level|figure|amount)\b", re.IGNORECASE),
    re.compile(r"\bhow\s+(?:big|large)\s+is\s+(?:the\s+|its\s+|their\s+)?(?P<f>[\w'’-]+)", re.IGNORECASE),
    re.compile(r"\b(?P<f>cost|pay|paid|spend|spent|fund|funded|earn|charge)\b", re.IGNORECASE),
]
_SHARE_OF = 2  # the pattern above for "what percentage / proportion / share … of X …"
_SHARE_PREDICATE = re.compile(rf"\s+(?P<p>{_AUX}\b[^?]*?)\s*\??$", re.IGNORECASE)
_ROLE = re.compile(r"\bwho\s+(?:is|was|are|were)\s+(?:the\s+)?(?P<f>[\w\s'’-]+?)\s+(?:of|at|for|in)\b", re.IGNORECASE)
_EVENT = re.compile(rf"\b(?:when|what\s+year|what\s+date|by\s+when)\b\s+(?:{_AUX}\s+)?(?P<f>.+?)\??$", re.IGNORECASE)
_NAME = re.compile(
    r"(?<![.!?]\s)\b[A-Z][\w’'&.-]*[\w’'&-](?:\s+(?:of|for|and|the|&)?\s*[A-Z0-9][\w’'&.-]*[\w’'&-])*|\b[A-Z]{2,}\b"
)
_GENERIC = {
    "people",
    "person",
    "thing",
    "things",
    "one",
    "ones",
    "time",
    "times",
    "way",
    "ways",
    "kind",
    "kinds",
    "type",
    "types",
}
_QUESTION_WORDS = {
    "what",
    "which",
    "who",
    "whom",
    "how",
    "when",
    "where",
    "why",
    "is",
    "are",
    "does",
    "do",
    "did",
    "can",
    "could",
    "should",
    "would",
    "will",
    "and",
    "but",
    "so",
    "the",
    "in",
    "on",
    "according",
    "tell",
    "please",
    "also",
}


@dataclass(frozen=True)
class Asked:
    """What the question pins down."""

    wants: Wants
    focus: frozenset[str]  # stemmed terms naming what is asked for ("staff", "turnov")
    focus_text: str  # the same, as written
    years: tuple[str, ...]  # years or periods named ("2020", "2019/20")
    names: tuple[str, ...]  # names in the question ("Granta Medical Practices", "Scotland")


@lru_cache(maxsize=4096)
def _terms(text: str) -> frozenset[str]:
    return frozenset(content_terms(text))


def read_question(question: str) -> Asked:
    kind = wants(question)
    focus_text = ""
    if kind is Wants.NUMBER:
        for n, pattern in enumerate(_FOCUS):
            match = pattern.search(question)
            if match:
                focus_text = match.group("f")
                if n == _SHARE_OF:  # "what percentage of mutuals are rated Outstanding?": a share of mutuals *that*…
                    rest = _SHARE_PREDICATE.match(question, match.end("f"))
                    if rest:
                        focus_text = f"{focus_text} that {rest.group('p')}"
                break
    elif kind is Wants.PERSON:
        match = _ROLE.search(question)
        focus_text = match.group("f") if match else ""
    elif kind is Wants.TIME:
        match = _EVENT.search(question)
        focus_text = match.group("f") if match else ""
    focus = _terms(focus_text) - _terms(" ".join(_GENERIC))
    names = []
    for match in _NAME.finditer(question):
        words = [re.sub(r"['’]s$", "", w) for w in match.group(0).split()]
        words = [
            w
            for w in words
            if w.lower() not in _QUESTION_WORDS and not re.match(r"^(?:what|who|how|where|when|it|that)['’]", w, re.IGNORECASE)
        ]
        if match.start() == 0 and len(words) <= 1:
            continue  # the question's first word
        if words:
            names.append(" ".join(words))
    years = tuple(m.group(0) for m in _YEAR.finditer(question))
    names = [n for n in names if not _YEAR.fullmatch(n)]
    return Asked(kind, focus, focus_text.strip(), years, tuple(names))


def _states_year(year: str, text: str) -> bool:
    first = year[:4]
    return first in text


NAMED = 0.6  # share of a name's weight (its rare words count most) a sentence must hold to be about it


def _context(sentence: SentenceHit, previous: SentenceHit | None) -> frozenset[str]:
    """The sentence's terms, with the sentence before it and its section heading ("it" and "they")."""
    return _terms(sentence.text + " " + (previous.text if previous else "") + " " + sentence.passage.section)


def _about(context: frozenset[str], terms: frozenset[str], weights: dict[str, float], share: float = 0.0) -> bool:
    """The sentence is about what is asked for (the figure must be a figure *of* that): it holds ``share`` of the
    asked terms' weight (their rare words count most), or with ``share`` 0 any one of them."""
    if not terms:
        return True
    if share:
        total = sum(weights.get(t, 1.0) for t in terms)
        return sum(weights.get(t, 1.0) for t in terms & context) >= share * total
    return bool(terms & context)


def _names(context: frozenset[str], name: frozenset[str], weights: dict[str, float]) -> bool:
    """The context holds most of a name, its rare words above all ("Sussex" in "Sussex Primary Care")."""
    if not name:
        return True
    total = sum(weights.get(t, 1.0) for t in name)
    return sum(weights.get(t, 1.0) for t in name & context) >= NAMED * total


@dataclass(frozen=True)
class Missing:
    """What the reports do not give: ``what`` ("a figure for 2022") and the sentence saying so."""

    what: str
    statement: str


def gives(
    question: str,
    asked: Asked,
    sentence: SentenceHit,
    previous: SentenceHit | None,
    weights: dict[str, float],
    focus_share: float = 0.0,
    lean_back: bool = False,
) -> bool:
    """The sentence gives what the question asks for: a figure, date or name, of the thing asked about.

    For a figure, ``focus_share`` of what it is a figure of must be in the sentence ("a percentage of mutuals
    holding an Outstanding CQC rating" is not given by a percentage of mutuals in health and social care); a
    role asked about ("the chief executive") needs only one of its words, and with ``lean_back`` a date or a name
    may find it in the sentence before or the section heading.
    """
    if asked.wants is Wants.ANY or not supplies(sentence.text, asked.wants, question):
        return False
    context = _context(sentence, previous)
    if not all(_names(context, _terms(n), weights) for n in asked.names):
        return False
    if asked.wants is Wants.NUMBER:  # a figure must say itself what it is a figure of
        return _about(_terms(sentence.text), asked.focus, weights, focus_share)
    # a date or a name may take what it is about from the sentence before ("This will be post July 2019.")
    return _about(context if lean_back else _terms(sentence.text), asked.focus, weights)


def unmet(
    question: str,
    sentences: list[tuple[SentenceHit, SentenceHit | None]],
    unknown_terms: tuple[str, ...],
    weights: dict[str, float] | None = None,
    unplaced_names: tuple[str, ...] = (),
    focus_share: float = 0.0,
    lean_back: bool = False,
) -> Missing | None:
    """What the question asks for that none of the (best) retrieved sentences states; None when all is there.

    ``sentences`` are the best candidates with the sentence before each (context for "it", "they").
    """
    asked = read_question(question)
    for name in asked.names:
        words = frozenset(t for t in _terms(name) if not t.isdigit())
        if (words and words <= set(unknown_terms)) or name in unplaced_names:
            return Missing(f"{name} ({indirect(question)})", f"The reports don't mention {name}.")
    for year in asked.years:
        if not any(_states_year(year, s.text) for s, _ in sentences):
            return _missing(f"a figure for {year}" if asked.wants is Wants.NUMBER else f"anything for {year}", question)
    if asked.wants is Wants.ANY:
        return None
    if any(gives(question, asked, sentence, previous, weights or {}, focus_share, lean_back) for sentence, previous in sentences):
        return None
    named = f" ({asked.names[0]})" if asked.names and asked.names[0].lower() not in asked.focus_text.lower() else ""
    if asked.wants is Wants.PERSON and asked.focus_text:
        return _missing(f"the name of the {asked.focus_text}{named}", question)
    kind = {Wants.NUMBER: "a figure", Wants.TIME: "a date", Wants.PERSON: "a name"}[asked.wants]
    subject = f" for {asked.focus_text}{named}" if asked.focus_text and asked.wants is Wants.NUMBER else " for this"
    return _missing(f"{kind}{subject}", question)


def indirect(question: str) -> str:
    """The question as the object of "the reports don't say …": "how many staff Granta employs"."""
    text = question.strip().rstrip("?").strip()
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def _missing(what: str, question: str) -> Missing:
    return Missing(f"{what} ({indirect(question)})", f"The reports don't give {what}.")
