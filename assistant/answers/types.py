"""What an answer is: text with [n] markers, the numbered citations behind it, its state, and how the
question was read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from assistant.passage import Passage

State = Literal["answered", "partial", "refused"]
REFUSAL_TEXT = "The reports don't cover this."


@dataclass(frozen=True)
class Citation:
    """Citation [n]: the passage (span-exact, as search returns it) and the quoted span inside it."""

    n: int
    passage: Passage
    quote_start: int  # document offsets of the sentence(s) the answer quotes from this passage
    quote_end: int
    quote: str
    spans: tuple[tuple[int, int], ...] = ()  # each quoted sentence (document offsets), for highlighting

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "passage": self.passage.to_json(),
            "quote": self.quote,
            "quote_start": self.quote_start,
            "quote_end": self.quote_end,
            "spans": [list(span) for span in self.spans],
            "pages": self.passage.pages,
        }


@dataclass(frozen=True)
class Answer:
    """``text`` holds sentences with [n] markers; ``query`` is the standalone query actually searched.

    ``state`` is "answered"; "partial" when the question asks for something specific the reports do not give
    (``missing`` names it, and ``text`` starts by saying so before the nearest thing they do say); or
    "refused" when nothing in the reports is about the question.
    """

    question: str
    text: str
    citations: list[Citation]
    state: State
    query: str
    missing: str = ""
    mode: str = "extractive"  # "extractive" or "llm"
    note: str = ""  # e.g. why the LLM answer was replaced by the extractive one
    passages: list[Passage] = field(default_factory=list)  # what retrieval returned (sources panel)

    @property
    def refused(self) -> bool:
        return self.state == "refused"

    @property
    def partial(self) -> bool:
        return self.state == "partial"

    @property
    def rewritten(self) -> bool:
        """True when a follow-up was read as a different, standalone query."""
        return self.query != self.question

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "text": self.text,
            "state": self.state,
            "refused": self.refused,
            "missing": self.missing,
            "query": self.query,
            "mode": self.mode,
            "note": self.note,
            "citations": [c.to_json() for c in self.citations],
            "sources": [p.to_json() for p in self.passages],
        }
