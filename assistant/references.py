"""Full references for citations, from the library's metadata: who wrote the document, when, where the quote is.

``reference_for`` gathers the parts; ``house_style`` and ``harvard`` render them. A part the library does not
know stays empty and is left out of the rendering, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.answers.types import Citation
from assistant.corpus.document import Document
from assistant.passage import Passage

_YEAR = re.compile(r"\b(1[89]\d\d|2\d\d\d)\b")
_ENDS_SENTENCE = re.compile(r"[.!?…][)\]’”\"']*$")
# A library title may end with a descriptor of the copy held ("(full report)", "(web summary)"): not part of
# the published title a Harvard reference names.
_DESCRIPTOR = re.compile(r"\s*\([^()]*\)$")


@dataclass(frozen=True)
class Reference:
    """What a full reference says. ``pages`` is "p. 23", "pp. 23–24" or "" (a document without pages)."""

    authors: str
    year: str
    title: str
    publisher: str
    section: str
    pages: str
    url: str
    quote: str
    doc_id: str


def _pages(passage: Passage, document: Document, quote: str) -> str:
    """The pages the quote is on (the passage's pages when the quote cannot be placed in the document)."""
    start = document.text.find(quote, passage.start) if quote else -1
    if start < 0 or start > passage.end:
        return passage.pages
    end = start + len(quote)
    pages = [b.page for b in document.blocks if b.page and b.start < end and b.end > start]
    last = [b.page_end or b.page for b in document.blocks if b.page and b.start < end and b.end > start]
    if not pages:
        return passage.pages
    first, final = min(pages), max(last)
    return f"p. {first}" if first == final else f"pp. {first}–{final}"


def reference_for(passage: Passage, document: Document, quote: str | None = None) -> Reference:
    """The reference for ``passage`` of ``document``, quoting ``quote`` (verbatim; none when None).

    The year is the first year in the document's date ("2019-11-04" → "2019"). The pages are those the quote
    is on when it can be found in the passage, else the passage's.
    """
    year = _YEAR.search(document.date or "")
    return Reference(
        authors=document.authors.strip(),
        year=year.group(1) if year else "",
        title=document.title.strip(),
        publisher=document.publisher.strip(),
        section=passage.section.strip(),
        pages=_pages(passage, document, quote or ""),
        url=document.url.strip(),
        quote=quote or "",
        doc_id=document.id,
    )


def cited_span(citation: Citation, document: Document) -> str:
    """The document's text from the first to the last sentence the citation quotes: one exact span.

    ``Citation.quote`` joins non-adjacent sentences with " … ", which is not a span of the document.
    """
    return document.text[citation.quote_start : citation.quote_end]


def citation_reference(citation: Citation, document: Document) -> Reference:
    """The reference for an answer's citation, quoting exactly the span it cites."""
    return reference_for(citation.passage, document, cited_span(citation, document))


def _sentence(text: str) -> str:
    """``text`` ending with one full stop (none added after a stop, question or exclamation mark)."""
    text = text.strip()
    return text if not text or _ENDS_SENTENCE.search(text) else text + "."


def _publisher(ref: Reference) -> str:
    """The publisher, unless it only repeats the authors."""
    return "" if ref.publisher.casefold() == ref.authors.casefold() else ref.publisher


def _quoted(quote: str) -> str:
    """The quote in curly quotes, verbatim; the full stop after it only when it does not end a sentence."""
    return f"“{quote}”" if _ENDS_SENTENCE.search(quote.rstrip()) else f"“{quote}”."


def house_style(ref: Reference) -> str:
    """The library's house style, e.g. ``Baxendale and Mutual Ventures (2019). Title. Publisher. Section: A › B;
    p. 23. “quote”. Available at: https://…``, with only the parts that exist (the title first, then the year,
    when the authors are not known)."""
    parts: list[str] = []
    year = f"({ref.year})" if ref.year else ""
    lead, title = (f"{ref.authors} {year}", ref.title) if ref.authors else (f"{ref.title} {year}", "")
    for part in (lead.strip(), title, _publisher(ref)):
        if part:
            parts.append(_sentence(part))
    where = "; ".join(part for part in (f"Section: {ref.section}" if ref.section else "", ref.pages) if part)
    if where:
        parts.append(_sentence(where))
    if ref.quote:
        parts.append(_quoted(ref.quote))
    if ref.url:
        parts.append(f"Available at: {ref.url}")
    return " ".join(parts)


def harvard(ref: Reference, quote: bool = False) -> str:
    """A Harvard reference, e.g. ``Baxendale and Mutual Ventures (2019) Title. Publisher, p. 23. Available at:
    https://….``. The year is "n.d." when not known; with no authors the title takes their place. The library's
    descriptor of its copy ("(full report)") is not part of the published title. With ``quote``, the quoted
    span follows."""
    year = f"({ref.year or 'n.d.'})"
    title = _DESCRIPTOR.sub("", ref.title).strip() or ref.title
    tail = _sentence(", ".join(part for part in (_publisher(ref), ref.pages) if part))
    if ref.authors:
        parts = [f"{ref.authors} {year}", _sentence(title) or "", tail]
    else:
        parts = [" ".join(part for part in (title, year) if part), tail]
    if not parts[-1] and not (ref.authors and title):
        parts[-2] += "."
    if ref.url:
        parts.append(f"Available at: {ref.url}.")
    if quote and ref.quote:
        parts.append(_quoted(ref.quote))
    return " ".join(part for part in parts if part)
