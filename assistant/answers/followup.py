"""Follow-up questions made standalone from the conversation, offline."""

from __future__ import annotations


def rewrite(question: str, history: list[dict[str, str]]) -> str:
    return question
