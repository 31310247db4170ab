"""Conversational retrieval over the DCMS report on public service mutuals in health and social care."""

from assistant.api import Assistant
from assistant.errors import (
    AssistantError,
    BadHistory,
    BadQuestion,
    CorpusError,
    IndexCorrupt,
    IndexMissing,
    ModelMissing,
)
from assistant.passage import Passage

__all__ = [
    "Assistant",
    "AssistantError",
    "BadHistory",
    "BadQuestion",
    "CorpusError",
    "IndexCorrupt",
    "IndexMissing",
    "ModelMissing",
    "Passage",
]
