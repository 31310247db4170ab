"""Validation of user input before it reaches retrieval: queries and conversation history."""

from __future__ import annotations

import re
from typing import Any

from assistant.corpus.text import collapse_spaces, strip_invisible
from assistant.errors import BadHistory, BadQuestion

Message = dict[str, str]

# Markup pasted into a question says nothing about what is asked: scripts and styles with their content,
# other tags, Markdown images and links (a link's words kept), and bare addresses.
_SCRIPT = re.compile(r"<(script|style)\b[^>]*>.*?(</\1\s*>|$)", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_URL = re.compile(r"\b(?:https?|ftp|javascript|data):\S*", re.IGNORECASE)


def clean_query(text: object, max_chars: int) -> str:
    """The query with control characters and odd spacing removed; BadQuestion if nothing usable is left."""
    if text is None:
        raise BadQuestion("Please type a question.")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadQuestion("The question is not readable text.") from exc
    if not isinstance(text, str):
        raise BadQuestion("The question must be text.")
    if len(text) > max_chars * 4:
        raise BadQuestion(f"The question is too long ({len(text):,} characters); keep it under {max_chars:,}.")
    # a NUL byte separates words ("mutual\0profit" is two words); other control characters are dropped
    cleaned = collapse_spaces(strip_invisible(text.replace("\x00", " ")).replace("\n", " ").replace("\t", " "))
    if not cleaned or not any(ch.isalnum() for ch in cleaned):
        raise BadQuestion("Please type a question.")
    if len(cleaned) > max_chars:
        raise BadQuestion(f"The question is too long ({len(cleaned):,} characters); keep it under {max_chars:,}.")
    words = without_markup(cleaned)
    return words if any(ch.isalnum() for ch in words) else cleaned


def without_markup(text: str) -> str:
    """``text`` without HTML tags, scripts, Markdown images and links (a link's words kept) and URLs."""
    text = _SCRIPT.sub(" ", text)
    text = _TAG.sub(" ", text)
    text = _MD_IMAGE.sub(" ", text)
    text = _MD_LINK.sub(r" \1 ", text)
    return collapse_spaces(_URL.sub(" ", text))


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # Gradio may send a list of parts
        return " ".join(_content_text(part) for part in content)
    if isinstance(content, dict):
        value = content.get("text") or content.get("content") or ""
        return value if isinstance(value, str) else ""
    return ""


def clean_history(history: object, max_turns: int, max_chars: int = 4000) -> list[Message]:
    """Gradio-style messages, trimmed to the last ``max_turns`` exchanges; malformed entries skipped.

    Only a history that is not a list at all is refused.
    """
    if history is None:
        return []
    if not isinstance(history, (list, tuple)):
        raise BadHistory("The conversation history must be a list of messages.")
    messages: list[Message] = []
    for item in history:
        if not isinstance(item, dict):
            continue
        role = item.get("role")
        if role not in ("user", "assistant"):
            continue
        text = collapse_spaces(strip_invisible(_content_text(item.get("content"))))
        if text:
            messages.append({"role": str(role), "content": text[:max_chars]})
    return messages[-2 * max_turns :]
