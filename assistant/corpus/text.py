"""Character-level cleaning shared by every document kind and by queries."""

from __future__ import annotations

import re
import unicodedata

SUPERSCRIPT_DIGITS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_SUPER_TO_ASCII = str.maketrans(SUPERSCRIPT_DIGITS, "0123456789")
_SUPER_RUN = re.compile(f"[{SUPERSCRIPT_DIGITS}]+")
_HTML_TAG = re.compile(r"</?(?:ul|ol|li|p|br|div|span|strong|em|b|i|table|tr|td|th)\b[^>]*>", re.IGNORECASE)
_AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")
_ANCHOR_LINK = re.compile(r"\[([^\]]+)\]\(#[^)]*\)")
_SELF_LINK = re.compile(r"\[(https?://[^\]\s]+)\]\(https?://\S+?\)(?=\s|$)")
_ITALIC = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_ESCAPE = re.compile(r"\\([()\[\]*_#])")
_SPACES = re.compile(r"[ \u00a0\u2000-\u200a\u202f\u205f\u3000]+")


def strip_invisible(text: str, keep: str = "\t\n") -> str:
    """NFC-normalise and drop control, format and private-use characters (except those in ``keep``)."""
    text = unicodedata.normalize("NFC", text)
    return "".join(ch for ch in text if ch in keep or unicodedata.category(ch) not in ("Cc", "Cf", "Co", "Cs", "Cn"))


def collapse_spaces(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def strip_markup(text: str) -> str:
    """Remove markdown emphasis, raw HTML fragments and link syntax, keeping the words."""
    text = _HTML_TAG.sub(" ", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _ANCHOR_LINK.sub(r"\1", text)
    text = _SELF_LINK.sub(r"\1", text)
    text = text.replace("**", "")
    text = _ITALIC.sub(r"\1", text)
    return _ESCAPE.sub(r"\1", text)


def take_superscript_refs(text: str) -> tuple[str, tuple[int, ...]]:
    """Detach superscript footnote markers: return the text without them and the numbers they cited."""
    refs = tuple(int(run.translate(_SUPER_TO_ASCII)) for run in _SUPER_RUN.findall(text))
    return _SUPER_RUN.sub("", text), refs


def superscript_number(text: str) -> int | None:
    """The footnote number a definition line starts with (``"⁴² N. Watson…"`` → 42), if any."""
    match = _SUPER_RUN.match(text.strip())
    return int(match.group(0).translate(_SUPER_TO_ASCII)) if match else None


def ends_sentence(text: str) -> bool:
    text = text.rstrip()
    return bool(text) and text[-1] in '.!?:;”"’)»'


def starts_lowercase(text: str) -> bool:
    text = text.lstrip()
    return bool(text) and text[0].islower()
