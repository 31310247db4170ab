"""Retrieved text is data, never instructions: patterns that mark text an answer must not carry."""

from __future__ import annotations

import re

IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
LINK = re.compile(r"\[([^\]]*)\]\((?:https?:)?//[^)]*\)")
URL = re.compile(r"(?:https?:)?//\S+")
TAG = re.compile(r"<[^>]{0,200}>")
INJECTION = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b[^.]{0,60}\b(?:instructions?|prompts?|rules|above|previous|system)\b|"
    r"\b(?:system prompt|you are now|new instructions|developer mode)\b|"
    r"\b(?:act|behave|respond) as (?:if\b|an? (?:ai|assistant|chatbot|language model|system|unrestricted|different)\b)",
    re.IGNORECASE,
)


def looks_unsafe(text: str) -> bool:
    """Instruction-like text or embedded markup (images, links, tags): quoted nowhere in an answer."""
    return bool(INJECTION.search(text) or IMAGE.search(text) or LINK.search(text) or TAG.search(text))
