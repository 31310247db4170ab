"""HTML pages and reports saved as HTML (lexbor, through selectolax).

Headings h1–h6 keep their level; paragraphs, list items (with their nesting), table rows (with the header
row's cells), block quotes and figure captions become blocks. Scripts, styles, forms, navigation and other
page furniture are dropped — nothing in a page ever runs. Footnotes are read in the common conventions
(LibreOffice's ``sdfootnote``, Markdown/pandoc ``#fn1`` lists, ``role="doc-footnote"``): the definitions
become the document's footnotes and the markers in the text the blocks' references.
"""

from __future__ import annotations

import re
from typing import Any

from assistant.corpus.document import Block, Metadata, Parsed
from assistant.corpus.headings import is_caption
from assistant.corpus.text import collapse_spaces, strip_invisible
from assistant.errors import DocumentError
from assistant.formats.base import Parser, decode_text, register

SKIP = {
    "script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "canvas", "form", "button",
    "nav", "input", "select", "textarea", "head", "title", "meta", "link", "img", "video", "audio", "map",
}  # fmt: skip
HEADINGS = {f"h{n}": n for n in range(1, 7)}
BLOCK = {"p", "li", "table", "blockquote", "pre", "figcaption", "dt", "dd", "caption", "address", *HEADINGS}
LISTS = {"ul", "ol", "dl"}
_REF_OPEN, _REF_CLOSE = "\ue000", "\ue001"
_REF = re.compile(f"{_REF_OPEN}(\\d+){_REF_CLOSE}")
_NUMBER = re.compile(r"(\d+)")
_FOOTNOTE_ID = re.compile(r"^(?:sdfootnote|fn|footnote|ftn|note)[-_:]?(\d+)$", re.IGNORECASE)
_REF_HREF = re.compile(r"#(?:sdfootnote|fn|footnote|ftn|note)[-_:]?(\d+)(?:sym)?$", re.IGNORECASE)


def _attr(node: Any, name: str) -> str:
    value = (node.attributes or {}).get(name)
    return value or ""


def _meta(tree: Any) -> Metadata:
    def content(*selectors: str) -> str:
        for selector in selectors:
            node = tree.css_first(selector)
            if node is not None:
                value = _attr(node, "content") or _attr(node, "datetime") or _attr(node, "href") or node.text()
                if value and value.strip():
                    return collapse_spaces(value)
        return ""

    title_node = tree.css_first("title")
    return Metadata(
        title=collapse_spaces(title_node.text()) if title_node is not None else content('meta[property="og:title"]'),
        authors=content('meta[name="author"]', 'meta[name="DC.creator"]', 'meta[property="article:author"]'),
        publisher=content('meta[name="publisher"]', 'meta[name="DC.publisher"]', 'meta[property="og:site_name"]'),
        date=content('meta[name="date"]', 'meta[name="DC.date"]', 'meta[property="article:published_time"]', "time[datetime]"),
        url=content('link[rel="canonical"]', 'meta[property="og:url"]'),
        description=content('meta[name="description"]', 'meta[property="og:description"]'),
    )


def _footnote_number(node: Any, fallback: int) -> int:
    match = _FOOTNOTE_ID.match(_attr(node, "id"))
    if match:
        return int(match.group(1))
    sym = node.css_first("a.sdfootnotesym")
    if sym is not None and _NUMBER.search(sym.text()):
        return int(_NUMBER.search(sym.text()).group(1))  # type: ignore[union-attr]
    return fallback


def _take_footnotes(tree: Any) -> dict[int, str]:
    """Find footnote definitions, remove them from the page, return number → text."""
    notes: dict[int, str] = {}
    candidates = tree.css('div[id^="sdfootnote"], li[id^="fn"], [role="doc-footnote"], li[id^="footnote"], div[id^="ftn"]')
    for i, node in enumerate(candidates, start=1):
        if not _FOOTNOTE_ID.match(_attr(node, "id")) and _attr(node, "role") != "doc-footnote":
            continue
        number = _footnote_number(node, i)
        for back in node.css('a.sdfootnotesym, a.footnote-backref, a[role="doc-backlink"], a[href^="#fnref"]'):
            back.decompose()
        text = collapse_spaces(node.text(separator=" ")).lstrip("↩").strip()
        if text:
            notes[number] = text
        node.decompose()
    for container in tree.css("section.footnotes, div.footnotes, aside.footnotes, hr.footnotes-sep"):
        if not collapse_spaces(container.text()):
            container.decompose()
    return notes


def _mark_references(tree: Any, defined: dict[int, str]) -> None:
    """Replace footnote markers in the text with private markers that blocks turn into references."""
    for anchor in tree.css("a[href]"):
        match = _REF_HREF.search(_attr(anchor, "href"))
        if match and int(match.group(1)) in defined:
            anchor.replace_with(f"{_REF_OPEN}{int(match.group(1))}{_REF_CLOSE}")


class _Walker:
    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.table = 0
        self.ordinals: list[int] = []  # the next number of each open list (0: a bulleted list)

    def text(self, node: Any) -> str:
        """The node's text, without nested blocks or lists (they become blocks of their own)."""
        parts: list[str] = []
        for child in node.iter(include_text=True):
            tag = child.tag
            if tag == "-text":
                parts.append(child.text(deep=False))
            elif tag == "br":
                parts.append(" ")
            elif tag in SKIP or tag in BLOCK or tag in LISTS:
                continue
            else:
                parts.append(self.text(child))
        return "".join(parts)

    def emit(self, kind: str, raw: str, level: int = 0) -> None:
        refs = tuple(int(n) for n in _REF.findall(raw))
        text = collapse_spaces(_REF.sub("", raw))
        if not text or not any(ch.isalnum() for ch in text):
            return
        if kind == "para" and is_caption(text):
            kind = "caption"
        self.blocks.append(Block(kind=kind, text=text, level=level, footnotes=refs))

    def table_rows(self, node: Any) -> None:
        self.table += 1
        header: tuple[str, ...] = ()
        for row in node.css("tr"):
            cells = row.css("th, td")
            texts = [self.text(c) for c in cells]
            refs = tuple(int(n) for t in texts for n in _REF.findall(t))
            clean = tuple(collapse_spaces(_REF.sub("", t)) for t in texts)
            if not any(clean):
                continue
            if not header and cells and all(c.tag == "th" for c in cells):
                header = clean
                continue
            self.blocks.append(Block(kind="row", text="", footnotes=refs, table=self.table, cells=clean, header=header))

    def walk(self, node: Any, depth: int = 0) -> None:
        loose: list[str] = []
        ordinals = self.ordinals

        def flush() -> None:
            if loose:
                self.emit("para", "".join(loose))
                loose.clear()

        for child in node.iter(include_text=True):
            tag = child.tag
            if tag == "-text":
                loose.append(child.text(deep=False))
                continue
            if tag in SKIP:
                continue
            if (
                tag not in BLOCK
                and tag not in LISTS
                and tag not in ("div", "section", "article", "main", "header", "footer", "aside", "figure", "body")
            ):
                loose.append(self.text(child))  # inline element in a container
                continue
            flush()
            if tag in HEADINGS:
                self.emit("heading", self.text(child), HEADINGS[tag])
            elif tag == "table":
                self.table_rows(child)
            elif tag == "li":
                number = f"{ordinals[-1]}. " if ordinals and ordinals[-1] else ""
                if ordinals and ordinals[-1]:
                    ordinals[-1] += 1
                self.emit("bullet", number + self.text(child), level=max(1, depth))
                self.walk_lists(child, depth)
            elif tag in LISTS:
                self.ordinals.append(int(_attr(child, "start") or 1) if tag == "ol" else 0)
                self.walk(child, depth + 1)
                self.ordinals.pop()
            elif tag == "blockquote":
                if child.css_first("p") is not None:
                    before = len(self.blocks)
                    self.walk(child, depth)
                    for block in self.blocks[before:]:
                        block.kind = "quote" if block.kind == "para" else block.kind
                else:
                    self.emit("quote", self.text(child))
            elif tag in BLOCK:
                self.emit("para", self.text(child))
                self.walk_lists(child, depth)
            else:
                self.walk(child, depth)
        flush()

    def walk_lists(self, node: Any, depth: int) -> None:
        for child in node.iter(include_text=False):
            if child.tag in LISTS:
                self.ordinals.append(int(_attr(child, "start") or 1) if child.tag == "ol" else 0)
                self.walk(child, depth + 1)
                self.ordinals.pop()


def parse_html(text: str) -> Parsed:
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(strip_invisible(text))
    metadata = _meta(tree)
    body = tree.body
    if body is None:
        raise DocumentError("The HTML page has no body.")
    footnotes = _take_footnotes(tree)
    _mark_references(tree, footnotes)
    walker = _Walker()
    walker.walk(body)
    return Parsed(walker.blocks, footnotes, metadata)


@register
class HTMLParserFormat(Parser):
    name = "html"

    def parse(self, data: bytes, filename: str) -> Parsed:
        return parse_html(decode_text(data, filename))
