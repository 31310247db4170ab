"""The one boundary between retrieval and answers: ``Answerer.answer(question, hits) -> Answer``.

Answerers register by name (``@register``), as format parsers do; the assistant picks one from settings.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import ClassVar

from assistant.answers.types import Answer
from assistant.retrieval.hits import Hits

_REGISTRY: dict[str, type[Answerer]] = {}


class Answerer(ABC):
    """Turns what retrieval found into an answer whose every sentence cites a passage of ``hits``."""

    name: ClassVar[str]

    @abstractmethod
    def answer(self, question: str, hits: Hits) -> Answer:
        """Answer ``question`` (as the user asked it) from ``hits`` (retrieved for ``hits.query``)."""

    def stream(self, question: str, hits: Hits) -> Iterator[str | Answer]:
        """Text that may be shown while the answer is being made (only checked text), then the Answer."""
        yield self.answer(question, hits)


def register(cls: type[Answerer]) -> type[Answerer]:
    _REGISTRY[cls.name] = cls
    return cls


def answerer_names() -> list[str]:
    return sorted(_REGISTRY)
