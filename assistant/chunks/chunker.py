"""Cut documents into passages that follow their structure.

Passages never cross a section boundary; a block (paragraph, bullet, glossary entry, table row) is
never split unless it alone is over the limits, and then only at sentence ends; and every passage,
with its section path in front, fits the embedding model's window — counted with the model's own
tokenizer, so nothing is ever silently truncated.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass

from assistant.config import ChunkSettings
from assistant.corpus.document import SECTION_SEP, Block, Document
from assistant.passage import Passage

TokenCounter = Callable[[str], int]
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+(?=[A-Z0-9“\"‘(£])")
_CONTENT_KINDS = ("title", "para", "bullet", "row", "caption", "quote", "footnote")


@dataclass
class _Unit:
    start: int
    end: int
    kind: str
    footnotes: tuple[int, ...]
    table: int
    page: int = 0
    page_end: int = 0


def _words(text: str) -> int:
    return len(text.split())


def _sentence_units(block: Block, fits: Callable[[str], bool]) -> list[_Unit]:
    """Split an oversized block at sentence ends (and, for a run-on sentence, at word boundaries)."""
    text = block.text
    cuts = [0] + [m.end() for m in _SENTENCE_END.finditer(text)] + [len(text)]
    spans: list[tuple[int, int]] = []
    current: tuple[int, int] | None = None
    for a, b in itertools.pairwise(cuts):
        if b <= a:
            continue
        if current is None:
            current = (a, b)
        elif fits(text[current[0] : b].strip()):
            current = (current[0], b)
        else:
            spans.extend(_word_units(text, current, fits))
            current = (a, b)
    if current is not None:
        spans.extend(_word_units(text, current, fits))
    return [
        _Unit(block.start + a, block.start + b, block.kind, block.footnotes, block.table, block.page, block.page_end)
        for a, b in units_to_spans(text, spans)
    ]


def _word_units(text: str, span: tuple[int, int], fits: Callable[[str], bool]) -> list[tuple[int, int]]:
    a, b = span
    if fits(text[a:b].strip()):
        return [(a, b)]
    spans: list[tuple[int, int]] = []
    words = [m.span() for m in re.finditer(r"\S+", text[a:b])]
    start = 0
    while start < len(words):
        first = (a + words[start][0], a + words[start][1])
        if not fits(text[first[0] : first[1]]):
            spans.extend(_character_units(text, first, fits))  # one "word" over the window: a long URL
            start += 1
            continue
        end = start + 1
        while end < len(words) and fits(text[a + words[start][0] : a + words[end][1]]):
            end += 1
        spans.append((a + words[start][0], a + words[end - 1][1]))
        start = end
    return spans


def _character_units(text: str, span: tuple[int, int], fits: Callable[[str], bool]) -> list[tuple[int, int]]:
    spans = []
    a, b = span
    while a < b:
        low, high = a + 1, b
        while low < high:  # the longest prefix that fits
            mid = (low + high + 1) // 2
            if fits(text[a:mid]):
                low = mid
            else:
                high = mid - 1
        spans.append((a, low))
        a = low
    return spans


def units_to_spans(text: str, units: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Trim surrounding whitespace from each span so a passage never starts or ends with a space."""
    spans = []
    for a, b in units:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            spans.append((a, b))
    return spans


def _passage_kind(units: list[_Unit], section: tuple[str, ...]) -> str:
    kinds = {u.kind for u in units}
    if section and section[0].lower().startswith("glossary"):
        return "glossary"
    if kinds == {"footnote"}:
        return "footnote"
    if "row" in kinds:
        return "table"
    if "bullet" in kinds:
        return "list"
    return "text"


def chunk_document(doc: Document, settings: ChunkSettings, count_tokens: TokenCounter) -> list[Passage]:
    """Passages of one document, in document order."""
    passages: list[Passage] = []

    def header(section: tuple[str, ...]) -> str:
        return SECTION_SEP.join(section)

    def fits_in(section: tuple[str, ...]) -> Callable[[str], bool]:
        prefix = header(section)

        def fits(text: str) -> bool:
            if _words(text) > settings.max_words:
                return False
            embed = f"{prefix}\n{text}" if prefix else text
            return count_tokens(embed) <= settings.max_tokens

        return fits

    groups: list[tuple[tuple[str, ...], list[Block]]] = []
    for block in doc.blocks:
        if block.kind not in _CONTENT_KINDS:
            groups.append((block.section, []))
            continue
        if not groups or groups[-1][0] != block.section:
            groups.append((block.section, []))
        groups[-1][1].append(block)

    for section, blocks in groups:
        if not blocks:
            continue
        fits = fits_in(section)
        units: list[_Unit] = []
        for block in blocks:
            if fits(block.text):
                units.append(_Unit(block.start, block.end, block.kind, block.footnotes, block.table, block.page, block.page_end))
            else:
                units.extend(_sentence_units(block, fits))
        is_glossary = bool(section) and section[0].lower().startswith("glossary")
        for packed in _pack(doc.text, units, settings, fits, glossary=is_glossary):
            start, end = packed[0].start, packed[-1].end
            footnotes = tuple(sorted({n for u in packed for n in u.footnotes}))
            pages = [p for u in packed for p in (u.page, u.page_end) if p]
            passages.append(
                Passage(
                    id=f"{doc.id}#{len(passages)}",
                    doc_id=doc.id,
                    title=doc.title,
                    section=header(section),
                    text=doc.text[start:end],
                    start=start,
                    end=end,
                    kind=_passage_kind(packed, section),
                    footnotes=footnotes,
                    page=min(pages, default=0),
                    page_end=max(pages, default=0),
                )
            )
    return passages


def _pack(
    text: str, units: list[_Unit], settings: ChunkSettings, fits: Callable[[str], bool], glossary: bool = False
) -> list[list[_Unit]]:
    """Greedy packing of whole units up to the target size, then a short tail merged backwards."""
    packs: list[list[_Unit]] = []
    current: list[_Unit] = []
    if units and ((glossary and all(u.kind == "row" for u in units)) or all(u.kind == "footnote" for u in units)):
        return [[u] for u in units]  # a glossary entry or a footnote is its own passage: the most precise citation
    for unit in units:
        if current:
            candidate = text[current[0].start : unit.end]
            words_now = _words(text[current[0].start : current[-1].end])
            starts_table = unit.kind == "row" and current[-1].table != unit.table
            if words_now >= settings.target_words or (starts_table and words_now >= settings.min_words) or not fits(candidate):
                # the sentence introducing a table ("Recommendation 3: …", "… as follows:") travels with it
                carried = [current.pop()] if starts_table and len(current) > 1 and _introduces(text, current[-1]) else []
                packs.append(current)
                current = carried
        current.append(unit)
    if current:
        packs.append(current)
    if len(packs) >= 2:
        tail = packs[-1]
        tail_words = _words(text[tail[0].start : tail[-1].end])
        merged = text[packs[-2][0].start : tail[-1].end]
        if tail_words < settings.min_words and fits(merged):
            packs[-2].extend(packs.pop())
    return packs


_INTRODUCTION = re.compile(r"^(?:Recommendation \d+|Figure \d+|Table \d+)\b")


def _introduces(text: str, unit: _Unit) -> bool:
    body = text[unit.start : unit.end].strip()
    return unit.kind in ("para", "caption") and (body.endswith(":") or bool(_INTRODUCTION.match(body)))


def chunk_documents(docs: list[Document], settings: ChunkSettings, count_tokens: TokenCounter) -> list[Passage]:
    passages: list[Passage] = []
    for doc in docs:
        passages.extend(chunk_document(doc, settings, count_tokens))
    return passages
