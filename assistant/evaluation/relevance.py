"""When does a returned passage count as relevant to a reference question?

The rule (documented in README):

1. **Exact, folded**: the passage contains an evidence string once both are folded — case, whitespace,
   quote and dash styles, markdown emphasis, HTML tags and superscript footnote markers removed.
2. **Tolerant, for evidence cut by a chunk boundary**: at least 70% of the evidence's content words
   (stop words dropped) occur in the passage *in order* inside a window no longer than twice the
   evidence, and every number in the evidence occurs in the passage.

A passage that merely talks about the same topic shares words but not their order and density, so it
does not match.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_TAG = re.compile(r"<[^>]+>")
_SUPERSCRIPTS = re.compile("[⁰¹²³⁴⁵⁶⁷⁸⁹]+")
_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "\u00a0": " "})
_TOKEN = re.compile(r"[a-z0-9£%]+(?:[.,][0-9]+)*")
_NUMBER = re.compile(r"\d")
# Its own list, not the retriever's: the relevance rule must not depend on the system it judges.
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "by",
        "for",
        "from",
        "has",
        "have",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "that",
        "the",
        "their",
        "there",
        "these",
        "this",
        "to",
        "was",
        "were",
        "which",
        "with",
        "will",
        "would",
        "can",
        "could",
        "should",
        "may",
        "also",
        "than",
        "such",
        "not",
        "but",
        "they",
        "them",
        "our",
        "we",
    ]
)
MIN_SHARE = 0.7


@lru_cache(maxsize=4096)
def fold(text: str) -> str:
    text = _SUPERSCRIPTS.sub("", text)
    text = _TAG.sub(" ", text).replace("**", "").replace("*", "")
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).casefold()
    text = re.sub(r"(?<=[a-z])- +(?=[a-z])", "-", text)  # a word hyphenated across a line break
    return " ".join(text.split())


@lru_cache(maxsize=8192)
def tokens(text: str) -> tuple[str, ...]:
    return tuple(_TOKEN.findall(fold(text)))


def content_words(text: str) -> list[str]:
    return [t for t in tokens(text) if t not in STOP_WORDS]


def exact_match(evidence: str, passage: str) -> bool:
    return fold(evidence) in fold(passage)


def tolerant_match(evidence: str, passage: str) -> bool:
    wanted = content_words(evidence)
    if len(wanted) < 4:
        return False
    have = tokens(passage)
    numbers = [w for w in wanted if _NUMBER.search(w)]
    have_set = set(have)
    if any(n not in have_set for n in numbers):
        return False
    need = max(4, int(MIN_SHARE * len(wanted) + 0.999))
    window = 2 * len(tokens(evidence)) + 4
    first_words = set(wanted[: len(wanted) - need + 1])
    for start, word in enumerate(have):
        if word not in first_words:
            continue
        position = wanted.index(word)
        matched = 0
        cursor = start
        for w in wanted[position:]:
            j = cursor
            while j < len(have) and j < start + window and have[j] != w:
                j += 1
            if j < len(have) and j < start + window:
                matched += 1
                cursor = j + 1
        if matched >= need:
            return True
    return False


def is_relevant(evidence: tuple[str, ...] | list[str], passage: str) -> bool:
    return any(exact_match(e, passage) or tolerant_match(e, passage) for e in evidence)


def covered(evidence: tuple[str, ...] | list[str], passage: str) -> set[int]:
    """Indexes of the evidence strings this passage supports."""
    return {i for i, e in enumerate(evidence) if exact_match(e, passage) or tolerant_match(e, passage)}
