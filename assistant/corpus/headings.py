"""What a heading looks like, and how one is shown in a section path."""

from __future__ import annotations

import re

_NUMBERED_QUESTION = re.compile(r"^\d\)\s+\S.*\?$")
_FIGURE = re.compile(r"^(Figure|Table)\s+\d+\s*:", re.IGNORECASE)
_CASE_STUDY = re.compile(r"^Case stud(y|ies)\b", re.IGNORECASE)
_NUMBERING = re.compile(r"^(?P<n>\d{1,2}(?:\.\d{1,2}){0,3})\.?\s+(?=[A-Z])")
_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9]{1,6}s?\b")
_TERMINAL = '.!?;,:)"”’'


def key(text: str) -> str:
    """Comparison key for headings: case, punctuation, dot leaders and spacing folded."""
    return re.sub(r"[^a-z0-9]+", " ", text.casefold()).strip()


def is_caps(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 4 and all(c.isupper() for c in letters)


def acronyms(texts: list[str]) -> set[str]:
    """Upper-case words the document itself writes in upper case inside ordinary text (NHS, GP, DCMS): the
    words a capitalised heading keeps when it is shown in sentence case."""
    found: set[str] = set()
    for text in texts:
        if is_caps(text):
            continue
        found.update(
            m.group(0).rstrip("s") if m.group(0).endswith("s") and m.group(0)[:-1].isupper() else m.group(0)
            for m in _ACRONYM.finditer(text)
        )
    return found


def display(text: str, keep_upper: set[str] | frozenset[str] = frozenset()) -> str:
    """Heading as shown in a section path: a heading set in capitals becomes sentence case, keeping the
    document's acronyms."""
    text = " ".join(text.split())
    if not is_caps(text):
        return text
    out = []
    for i, word in enumerate(text.split()):
        core = word.strip("(),")
        if core in keep_upper or (core.endswith("S") and core[:-1] in keep_upper):
            out.append(word)
        elif i == 0:
            out.append(word[:1] + word[1:].lower())
        else:
            out.append(word.lower())
    return " ".join(out)


def numbering_depth(text: str) -> int:
    """Depth of a numbered heading ("3 Findings" → 1, "3.2 Referral routes" → 2); 0 when unnumbered."""
    match = _NUMBERING.match(text.strip())
    return match.group("n").count(".") + 1 if match else 0


def looks_like_heading(text: str) -> bool:
    """A short line that names what follows: no sentence ending, no table cells, not a bullet or quote."""
    text = text.strip()
    if not text or "\t" in text or "\n" in text or len(text) > 130:
        return False
    if numbering_depth(text) and len(text) <= 90 and text[-1] not in _TERMINAL:
        return True
    if text[0] in "-•*“\"‘'(" or (text[0].isdigit() and not _NUMBERED_QUESTION.match(text)):
        return False
    if _NUMBERED_QUESTION.match(text):
        return True
    if len(text) > 90:
        return False
    if _FIGURE.match(text):
        return False  # figure captions stay with their table
    if _CASE_STUDY.match(text):
        return len(text.split()) <= 10
    if not text[0].isupper():
        return False
    if text[-1] in _TERMINAL or len(text.split()) > 10:
        return False
    if "http" in text or "@" in text or re.search(r"\bby:", text):
        return False
    return not (is_caps(text) and len(text.split()) < 2)


def is_caption(text: str) -> bool:
    return bool(_FIGURE.match(text.strip()))
