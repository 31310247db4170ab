"""Conversational retrieval over reports on public services, with checked citations.

``from assistant import Assistant`` is resolved lazily so that importing a submodule (the corpus, the
formats, the CLI) does not load the retrieval stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from assistant.errors import (
    AssistantError,
    BadHistory,
    BadQuestion,
    CorpusError,
    DocumentError,
    IndexCorrupt,
    IndexMissing,
    LibraryError,
    ModelMissing,
)

if TYPE_CHECKING:
    from assistant.api import Assistant
    from assistant.passage import Passage

__all__ = [
    "Assistant",
    "AssistantError",
    "BadHistory",
    "BadQuestion",
    "CorpusError",
    "DocumentError",
    "IndexCorrupt",
    "IndexMissing",
    "LibraryError",
    "ModelMissing",
    "Passage",
]


def __getattr__(name: str) -> Any:
    if name == "Assistant":
        from assistant.api import Assistant

        return Assistant
    if name == "Passage":
        from assistant.passage import Passage

        return Passage
    raise AttributeError(name)
