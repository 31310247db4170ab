"""A parser per format behind one small base class, chosen by the file's content (never by its name alone).

Each parser turns bytes into ``Parsed`` blocks with what its format knows (heading levels, table cells,
pages, footnotes, metadata); the shared structure step (``assistant.corpus.structure``) does the rest, the
same way for every format.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from typing import ClassVar

from assistant.corpus.document import Parsed
from assistant.errors import DocumentError

_REGISTRY: dict[str, type[Parser]] = {}
_HTML = re.compile(rb"<!doctype\s+html|<html[\s>]|<body[\s>]|<(?:p|div|h[1-6]|table|ul|article)[\s>]", re.IGNORECASE)
_MARKDOWN = re.compile(r"^(?:#{1,6}\s+\S|\|.*\|\s*$|\[\^\d+\]:|---\s*$)", re.MULTILINE)
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class Parser(ABC):
    """Turns one file's bytes into blocks. Subclasses register with ``@register``."""

    name: ClassVar[str]

    @abstractmethod
    def parse(self, data: bytes, filename: str) -> Parsed:
        """Parse the file; raise DocumentError with a one-line reason when it cannot be read."""


def register(cls: type[Parser]) -> type[Parser]:
    _REGISTRY[cls.name] = cls
    return cls


def parser_for(kind: str) -> Parser:
    _load_builtin_parsers()
    try:
        return _REGISTRY[kind]()
    except KeyError:
        raise DocumentError(f"There is no parser for {kind} files.") from None


def formats() -> list[str]:
    _load_builtin_parsers()
    return sorted(_REGISTRY)


def decode_text(data: bytes, filename: str) -> str:
    """Text files as Unicode: UTF-8 (with or without BOM) or UTF-16 with a BOM; anything else is refused."""
    if data.startswith(_UTF16_BOMS):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DocumentError(f"{filename} is not UTF-8 text, nor a PDF, Word, HTML or Markdown document.") from None
    if "\x00" in text:
        raise DocumentError(f"{filename} is a binary file, not a document.")
    return text


def detect(data: bytes, filename: str) -> str:
    """The file's format from its content: pdf, docx, html, markdown or text.

    The name only breaks a tie between Markdown and plain text (both are plain text to look at); a file
    whose content does not match a supported format is refused whatever its name says.
    """
    import filetype

    if not data.strip():
        raise DocumentError(f"{filename} is empty.")
    head = data[:1024]
    if b"%PDF-" in head:
        return "pdf"
    guessed = filetype.guess_extension(data[:8192])
    if guessed == "docx":
        return "docx"
    if guessed is not None or data.startswith(b"PK\x03\x04"):
        if guessed in (None, "zip") and _looks_like_docx(data):
            return "docx"
        raise DocumentError(f"{filename} is a {guessed or 'binary'} file, not a PDF, Word, HTML, Markdown or text document.")
    text = decode_text(data, filename)
    if _HTML.search(data[:4096]) and text.count("<") > 3:
        return "html"
    lowered = filename.lower()
    if lowered.endswith((".md", ".markdown")) or len(_MARKDOWN.findall(text[:20000])) >= 3:
        return "markdown"
    return "text"


def _looks_like_docx(data: bytes) -> bool:
    """A zip holding word/document.xml (filetype reads only the first entries)."""
    import io
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def parse_bytes(data: bytes, filename: str) -> tuple[str, Parsed]:
    """Detect the format and parse; returns (format, parsed)."""
    kind = detect(data, filename)
    return kind, parser_for(kind).parse(data, filename)


def _load_builtin_parsers() -> None:
    """Import the built-in parsers (each registers itself); cheap after the first call."""
    from assistant.formats import docx, html, markdown, pdf, text  # noqa: F401
