"""Surface cues the extractive answerer reads: what a question asks for, and what a sentence can do in an answer.

Questions: a list ("which areas…"), a number ("how many…"), a time ("when…"). Sentences: some can stand in an
answer; others are structure, not content — a figure caption, a heading or by-line, a table's header row, a
footnote that only names its source — or signposts ("please refer to Appendix 1…") that point elsewhere; and
some lean on the sentence before them ("They pointed out…") and read wrongly alone.
"""

from __future__ import annotations

import re
from enum import Enum

from assistant.answers.safety import looks_unsafe

_LIST_CUE = re.compile(
    r"^\s*(?:list|name)\b|^\s*what\s+(?:are|were)\s+the\b|\b(?:main|key|three|four|five|all the)\s+\w+s\b|"
    r"\bwhat\s+(?:did|does|do)\b.*\binclude\b|\b(?:\w+s\s+and\s+\w+s)\s+of\b",
    re.IGNORECASE,
)
# "Which areas…", "which service areas…" ask for several; "which organisation is…" asks for one.
_WHICH_PLURAL = re.compile(r"^\s*which\s+(?:[a-z-]+\s+)?([a-z-]{3,}s)\b", re.IGNORECASE)
_NOT_PLURAL = {"does", "was", "has", "is", "process", "business", "access", "success", "progress", "status", "focus"}
# A quantity asked for by name ("X's turnover", "what is the budget of…", "what did it cost").
QUANTITY = (
    r"(?:turnover|income|revenue|budget|costs?|price|salary|salaries|pay|spend|surplus|deficit|headcount|percentage|per\s+cent)"
)
_NUMBER_CUE = re.compile(
    r"\bhow\s+(?:many|much|large|big|long|old|often|fast|quickly)\b|\bwhat\s+(?:%|percentage|proportion|share|number|size|amount|level|rate|value|figure)\b|"
    r"\bwhat\s+[\w-]+(?:\s+[\w-]+)?\s+(?:rate|level|figure|amount)\b|"
    rf"['’]s\s+(?:\w+\s+)?{QUANTITY}\b|\bwhat(?:['’]s|\s+is|\s+was|\s+are|\s+were)?\s+(?:the\s+)?(?:\w+\s+)?{QUANTITY}\b|"
    r"\bwhat\s+did\b.*\bcost\b|\bper\s+cent\b|%",
    re.IGNORECASE,
)
_PERSON_CUE = re.compile(
    r"^\s*(?:who|whom)\b|\bwho\s+(?:leads|led|runs|ran|said|is|was)\b|^\s*which\s+(?:organisation|body|company|mutual|trust|"
    r"council|department|person)\s+(?:is|was|has|does|did|leads|led)\b",
    re.IGNORECASE,
)
_MONTHS_AND_DAYS = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b"
)
_NAME = re.compile(rf"(?<=\s)(?!{_MONTHS_AND_DAYS})[A-Z][a-z]+[A-Za-z-]*")  # a date is not who
_TIME_CUE = re.compile(
    r"^\s*when\b|\bwhat\s+(?:year|date|month|period|moment|time)\b|\bby\s+when\b|\bhow\s+soon\b", re.IGNORECASE
)
_LABEL = re.compile(r"^\s*(?:[^|]*\|\s*)?(?:Footnote\s+\d+:|Recommendation\s+\d+:|\d+(?:\.\d+)*\.?\s)?")  # owner | 10.2.
_FIGURE = re.compile(r"(?<![\w-])[£$€]?\d[\d,.]*(?:%|bn|m|k)?(?![\w-])")
_NUMBER_WORD = re.compile(
    r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|twenty|hundred|thousand|million|billion|half|third|quarter|dozen)\b"
)
_CAPITALISED = re.compile(r"[A-Z][a-z]")


def has_figure(text: str) -> bool:
    """States a figure: a number on its own or a number word — not a digit inside or right after a name
    ("MSP2", "COVID-19", "Programme 2")."""
    if _NUMBER_WORD.search(text):
        return True
    for match in _FIGURE.finditer(text):
        before = text[: match.start()].rstrip().split()
        if before and _CAPITALISED.match(before[-1]) and len(before) > 1 and match.group(0).isdigit():
            continue
        return True
    return False


_TIME = re.compile(
    r"\b(?:19|20)\d\d\b|\b(?:January|February|March|April|May|June|July|August|September|October|November|December)\b|"
    r"\b(?:[Ss]hort|[Mm]id|[Ll]ong)-term\b"  # case kept: "May" is a month, "may" is not
)
_CAPTION = re.compile(r"^\s*(?:Figure|Table|Box|Chart|Diagram|Source)\s*\d*\s*[:.]", re.IGNORECASE)
_SOURCE_ONLY = re.compile(r"https?://|www\.|\bquoted in\b|\(\d{4}\)|\bMore information\b", re.IGNORECASE)
_SIGNPOST = re.compile(
    r"^\s*(?:[^:|]{0,60}:\s*)?(?:please refer|(?:the|this) (?:below|following) (?:model|figure|table|diagram|section|chapter)|"
    r"the aim of this (?:section|chapter)|this (?:section|chapter|report|paper|document|appendix) (?:outlines|sets out|describes|covers|presents|"
    r"investigates|introduces|is organised|is structured|is divided|provides|gives|summarises|contains)|"
    r"(?:appendix|annex|chapter|section|part)\s+[\w.]+\.?\s+(?:provides|gives|sets out|outlines|describes|presents|shows|summarises|contains|covers)\b)",
    re.IGNORECASE,
)
_ASKS_STRUCTURE = re.compile(
    r"\b(?:chapters?|sections?|structure[ds]?|organi[sz]ed|contents|appendix|appendices)\b", re.IGNORECASE
)
_LEANS_BACK = re.compile(r"^\s*(?:They|This|These|Those|It|Such|However|As a result|Therefore|Instead)\b")
_MINOR = {"of", "and", "the", "for", "in", "a", "an", "to", "on", "at", "with", "&", "–", "-"}


class Wants(Enum):
    """What kind of answer a question asks for."""

    ANY = "any"
    NUMBER = "number"
    TIME = "time"
    PERSON = "person"


def is_list_question(question: str) -> bool:
    if _LIST_CUE.search(question):
        return True
    which = _WHICH_PLURAL.search(question)
    return bool(which and which.group(1).lower() not in _NOT_PLURAL)


def wants(question: str) -> Wants:
    if _TIME_CUE.search(question):
        return Wants.TIME
    if _NUMBER_CUE.search(question):
        return Wants.NUMBER
    if _PERSON_CUE.search(question):
        return Wants.PERSON
    return Wants.ANY


def supplies(sentence: str, wanted: Wants, question: str = "") -> bool:
    """The sentence holds the kind of thing asked for (a figure, a date, a name the question does not already
    give) beyond its label or numbering."""
    body = _LABEL.sub("", sentence, count=1)
    if wanted is Wants.PERSON:
        asked = question.lower()
        return any(m.group(0).lower() not in asked for m in _NAME.finditer(body))
    if wanted is Wants.NUMBER:
        return has_figure(body)
    if wanted is Wants.TIME:
        return bool(_TIME.search(body))
    return False


_REFERENCE_LIST = re.compile(
    r"(?:^|›\s*)(?:bibliography|references|sources|works cited|further reading|endnotes|notes)\s*$", re.IGNORECASE
)
_ASKS_SOURCES = re.compile(
    r"\b(?:sources?|references?|bibliograph\w*|cit(?:e|es|ed|ing|ations?)|literature|reading|publications?\s+(?:by|from))\b",
    re.IGNORECASE,
)


def in_reference_list(section: str) -> bool:
    """The section is a list of sources (a bibliography, references, endnotes): its entries name works, they
    do not answer questions about the report's subject."""
    return bool(_REFERENCE_LIST.search(section))


def asks_about_sources(question: str) -> bool:
    """The question is about what a document cites ("which sources…", "what literature…")."""
    return bool(_ASKS_SOURCES.search(question))


def asks_about_structure(question: str) -> bool:
    """The question is about how a document is organised: its outline is then the answer, not a signpost."""
    return bool(_ASKS_STRUCTURE.search(question))


def is_signpost(sentence: str) -> bool:
    """Points the reader elsewhere ("please refer to Appendix 1…") rather than saying something."""
    return bool(_SIGNPOST.search(sentence))


def leans_back(sentence: str) -> bool:
    """Opens with a word that refers to the sentence before ("They pointed out…", "However, …")."""
    return bool(_LEANS_BACK.search(sentence))


def is_heading_like(text: str) -> bool:
    """A short line in title case: a heading, a programme's name, a by-line ("Neil Woodbridge, CEO of …")."""
    words = [w.strip("()'‘’\",.:;") for w in text.split()]
    words = [w for w in words if w and any(ch.isalpha() for ch in w) and w.lower() not in _MINOR]
    return 0 < len(words) <= 8 and all(w[0].isupper() for w in words)


def _is_header_row(text: str, max_words: int, figures: bool = False) -> bool:
    """A table row of short cells ("Advantages | Disadvantages | Key success factors"); with ``figures``,
    cells holding a figure count too."""
    cells = [c.strip() for c in text.split("|")]
    return len(cells) > 1 and all(len(c.split()) <= max_words and (figures or not any(ch.isdigit() for ch in c)) for c in cells)


def answer_worthy(text: str) -> bool:
    """A sentence that can stand as evidence: not a question, a fragment, a table header row, or text carrying
    instructions or markup (retrieved text is data: it is never repeated as if it were advice)."""
    stripped = text.strip()
    if stripped.endswith("?") or looks_unsafe(stripped):
        return False
    words = [w for w in stripped.split() if any(ch.isalpha() for ch in w)]
    if len(words) < 2 or len(stripped.split()) < 3:  # "Published 4 November 2019" says something; "See below" does not
        return False
    return not _is_header_row(stripped, max_words=2, figures=True)


def is_item_label(text: str) -> bool:
    """A list item that is only a name ("Adult Social Care.", "Enabling Services."): in a list it answers
    "which areas…?", though alone it would read as a heading."""
    stripped = text.strip()
    return is_heading_like(stripped) and not stripped.endswith("?") and not looks_unsafe(stripped)


def is_structure(text: str, starts_line: bool = False, glossary: bool = False) -> bool:
    """Structure rather than content: a caption, a heading or by-line, a table's header row, a footnote
    that only names its source. Evidence that something is covered, but not an answer's sentence."""
    stripped = text.strip()
    if _CAPTION.search(stripped):
        return True
    if stripped.startswith("Footnote") and len(stripped.split()) < 20 and _SOURCE_ONLY.search(stripped):
        return True
    if glossary:
        return False
    if "|" in stripped:
        return _is_header_row(stripped, max_words=3)
    return starts_line and is_heading_like(stripped)
