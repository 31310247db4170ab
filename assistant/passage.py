"""The passage: the unit that is indexed, searched, cited and shown."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


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
    duplicate_of: str = ""
    also_in: tuple[str, ...] = ()
    score: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def embed_text(self) -> str:
        """What the embedder and BM25 see: the two nearest headings, then the text."""
        header = " › ".join(self.section.split(" › ")[-2:])
        return f"{header}\n{self.text}" if header else self.text

    def citation(self) -> str:
        """A formatted citation staff can paste: title, section and the quoted text."""
        where = f", {self.section}" if self.section else ""
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
            duplicate_of=str(data.get("duplicate_of", "")),
            also_in=tuple(str(t) for t in data.get("also_in", [])),
            score=float(data.get("score", 0.0)),
        )
