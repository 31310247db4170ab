"""Query expansion from the reports' own vocabulary: acronyms ↔ names.

Pairs come from the glossary table ("CCG: Clinical Commissioning Group") and from definitions in the
running text ("Mutuals Support Programme 2 (MSP2)"). A query naming one side gets the other added.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.passage import Passage

_ACRONYM = re.compile(r"^[A-Z][A-Z0-9]{1,6}$")
_NAME_RUN = re.compile(r"(?:[A-Z][\w’'-]*)(?:,?\s+(?:and|of|for|the|in|&)?\s*[A-Z0-9][\w’'-]*)*")
_INLINE = re.compile(
    r"((?:[A-Z][\w’'-]*\s+(?:(?:and|of|for|the)\s+)?){1,6}[A-Z0-9][\w-]*)\s+\(\s*(?:the\s+)?['‘]?([A-Z][A-Za-z0-9]{1,6}?)s?['’]?\s*\)"
)
_LEADING_ARTICLE = re.compile(r"^(?:A|An|The)\s+")


@dataclass(frozen=True)
class Glossary:
    pairs: dict[str, str]  # acronym → name

    def expand(self, query: str) -> str:
        """The query with the other side of every acronym/name pair it mentions appended."""
        additions: list[str] = []
        lowered = query.casefold()
        for acronym, name in self.pairs.items():
            # a short acronym counts only in capitals ("LA", not "la"); a longer one however it is typed
            flags = 0 if len(acronym) <= 3 else re.IGNORECASE
            has_acronym = re.search(rf"\b{re.escape(acronym)}s?\b", query, flags=flags) is not None
            if has_acronym:
                if name.casefold() not in lowered:
                    additions.append(name)
            elif name.casefold() in lowered and len(name.split()) >= 2:
                additions.append(acronym)
        return f"{query} ({'; '.join(additions)})" if additions else query


def _initials_match(acronym: str, name: str) -> bool:
    """Do the name's initials spell the acronym (in order, allowing a skipped word or two)?"""
    initials = ""
    for word in re.findall(r"[A-Za-z0-9]+", name):
        if word.lower() in ("and", "of", "for", "the", "a", "an"):
            continue
        initials += word if word.isupper() or word.isdigit() else word[0].upper()
    core = re.sub(r"[^A-Z0-9]", "", acronym.upper())
    if len(core) >= 3 and initials.endswith(core):
        return True
    if not core or not initials or initials[0] != core[0] or len(initials) > len(core) + 2:
        return False
    remaining = iter(initials)
    return all(ch in remaining for ch in core)


def _name_from_definition(acronym: str, definition: str) -> str | None:
    definition = _LEADING_ARTICLE.sub("", definition.strip())
    match = _NAME_RUN.match(definition)
    if not match:
        return None
    name = match.group(0).strip(" ,.")
    name = re.sub(r"\s+(?:is|was|are)$", "", name)
    return name if len(name.split()) >= 2 and _initials_match(acronym, name) else None


def build_glossary(passages: list[Passage], known: dict[str, str] | None = None) -> Glossary:
    """Acronym → name pairs mined from the documents, with those the corpus profile adds."""
    pairs: dict[str, str] = dict(known or {})
    for p in passages:
        if p.kind == "glossary":
            for line in p.text.split("\n"):
                term, _, definition = line.partition(": ")
                term = term.strip()
                if _ACRONYM.match(term) and definition:
                    name = _name_from_definition(term, definition)
                    if name:
                        pairs[term] = name
    for p in passages:
        for match in _INLINE.finditer(p.text):
            name, acronym = _LEADING_ARTICLE.sub("", match.group(1).strip()), match.group(2)
            words = name.split()
            # keep only the trailing words the acronym accounts for
            for start in range(len(words)):
                candidate = " ".join(words[start:])
                if _initials_match(acronym, candidate) and acronym not in pairs:
                    pairs[acronym] = candidate
                    break
    return Glossary(pairs)
