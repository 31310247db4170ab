"""The passage: the unit that is indexed, searched, cited and shown."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

_URL = re.compile(r"\(?(?:https?://|www\.)\S+")


def searchable(text: str) -> str:
    """Text as search sees it: without web addresses."""
    return " ".join(_URL.sub(" ", text).split(" ")) if "http" in text or "www." in text else text


@dataclass(frozen=True)
class Passage:
    """A span of one cleaned document: ``document(doc_id).text[start:end] == text``.

    ``section`` is the path of headings above the span ("High potential service areas › Primary Care ›
    Risks and barriers …"); ``also_in`` names other documents that hold the same text (the chapter
    extract, the short web summary), which search collapses into this passage.
    """

    id: str
    doc_id: str
    title: str
    section: str
    text: str
    start: int
    end: int
    kind: str = "text"
    footnotes: tuple[int, ...] = ()
    page: int = 0  # first page of the span (0: the document has no pages)
    page_end: int = 0
    duplicate_of: str = ""
    also_in: tuple[str, ...] = ()
    score: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def embed_text(self) -> str:
        """What the embedder and BM25 see: the two nearest headings, then the text (web addresses left out:
        their fragments match nothing a person asks)."""
        header = " › ".join(self.section.split(" › ")[-2:])
        text = searchable(self.text)
        return f"{header}\n{text}" if header else text

    @property
    def pages(self) -> str:
        """ "p. 23" or "pp. 23–24"; empty when the document has no pages."""
        if not self.page:
            return ""
        if self.page_end and self.page_end != self.page:
            return f"pp. {self.page}–{self.page_end}"
        return f"p. {self.page}"

    def citation(self) -> str:
        """A short citation: the quoted text, title, section and page."""
        where = "".join(f", {part}" for part in (self.section, self.pages) if part)
        return f"“{self.text}” — {self.title}{where}."

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["footnotes"] = list(self.footnotes)
        data["also_in"] = list(self.also_in)
        data.pop("extra")
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Passage:
        return cls(
            id=str(data["id"]),
            doc_id=str(data["doc_id"]),
            title=str(data["title"]),
            section=str(data["section"]),
            text=str(data["text"]),
            start=int(data["start"]),
            end=int(data["end"]),
            kind=str(data.get("kind", "text")),
            footnotes=tuple(int(n) for n in data.get("footnotes", [])),
            page=int(data.get("page", 0)),
            page_end=int(data.get("page_end", 0)),
            duplicate_of=str(data.get("duplicate_of", "")),
            also_in=tuple(str(t) for t in data.get("also_in", [])),
            score=float(data.get("score", 0.0)),
        )
