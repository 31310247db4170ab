"""Markdown, rendered to HTML by markdown-it-py (tables, footnotes, front matter), then read as HTML.

Raw HTML inside the Markdown is not rendered (``html=False``): it stays text, so nothing in it can run.
Front matter (``title:``, ``author:``, ``date:``, ``publisher:``, ``url:``) gives the metadata; otherwise the
first level-one heading is the title.
"""

from __future__ import annotations

import re

from assistant.corpus.document import Metadata, Parsed
from assistant.formats.base import Parser, decode_text, register
from assistant.formats.html import parse_html

_FIELD = re.compile(r"^\s*([A-Za-z_-]+)\s*:\s*(.+?)\s*$")
_KEYS = {"title": "title", "author": "authors", "authors": "authors", "date": "date", "publisher": "publisher", "url": "url"}


def _front_matter(text: str) -> Metadata:
    values: dict[str, str] = {}
    for line in text.splitlines():
        match = _FIELD.match(line)
        if match and match.group(1).lower() in _KEYS:
            values[_KEYS[match.group(1).lower()]] = match.group(2).strip().strip("'\"")
    return Metadata(**values)


def parse_markdown(text: str) -> Parsed:
    from markdown_it import MarkdownIt
    from mdit_py_plugins.footnote import footnote_plugin
    from mdit_py_plugins.front_matter import front_matter_plugin

    md = MarkdownIt("commonmark", {"html": False}).enable("table").use(footnote_plugin).use(front_matter_plugin)
    tokens = md.parse(text)
    front = next((t.content for t in tokens if t.type == "front_matter"), "")
    parsed = parse_html(f"<html><body>{md.renderer.render(tokens, md.options, {})}</body></html>")
    parsed.metadata = _front_matter(front).merged(parsed.metadata)
    return parsed


@register
class MarkdownParser(Parser):
    name = "markdown"

    def parse(self, data: bytes, filename: str) -> Parsed:
        return parse_markdown(decode_text(data, filename))
