"""HTML for answers, citations and passages. Every piece of corpus or user text is escaped here, so a
passage holding ``<script>`` or ``<img onerror>`` shows as text."""

from __future__ import annotations

import html
import re

from assistant.answers.types import Answer, Citation
from assistant.passage import Passage

_MARKER = re.compile(r"\[(\d+)\]")


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def highlighted(passage: Passage, spans: tuple[tuple[int, int], ...]) -> str:
    """The passage text with the cited spans wrapped in <mark>."""
    out, cursor = [], passage.start
    for start, end in sorted(spans):
        start, end = max(start, cursor), min(end, passage.end)
        if start >= end:
            continue
        out.append(esc(passage.text[cursor - passage.start : start - passage.start]))
        out.append(f"<mark>{esc(passage.text[start - passage.start : end - passage.start])}</mark>")
        cursor = end
    out.append(esc(passage.text[cursor - passage.start :]))
    return "".join(out).replace("\n", "<br>")


def where(passage: Passage) -> str:
    section = f" › {esc(passage.section)}" if passage.section else ""
    also = f" <small>(also in {esc(', '.join(passage.also_in))})</small>" if passage.also_in else ""
    return f"<b>{esc(passage.title)}</b>{section}{also}"


def citation_block(c: Citation, open_: bool = False) -> str:
    return (
        f'<details class="citation" id="cite-{c.n}"{" open" if open_ else ""}>'
        f'<summary><span class="marker">[{c.n}]</span> {where(c.passage)}</summary>'
        f'<blockquote class="passage">{highlighted(c.passage, c.spans)}</blockquote></details>'
    )


def answer_html(answer: Answer) -> str:
    """The chat message for an answer: how the question was read, the cited text, then its sources."""
    parts: list[str] = []
    if answer.rewritten:
        parts.append(f'<p class="understood"><i>Understood as: {esc(answer.query)}</i></p>')
    if answer.refused:
        parts.append(f'<div class="refusal">🚫 <b>{esc(answer.text)}</b> Nothing in the reports answers this question.</div>')
        if answer.passages:
            parts.append("<p>The closest passages, in case they help:</p>")
            parts.extend(
                f'<details class="nearest"><summary>{where(p)}</summary><blockquote class="passage">{esc(p.text)}</blockquote></details>'
                for p in answer.passages
            )
        return "\n".join(parts)
    lines = []
    for line in answer.text.split("\n"):
        bullet = line.startswith("- ")
        body = _MARKER.sub(lambda m: f'<b class="marker">[{m.group(1)}]</b>', esc(line[2:] if bullet else line))
        lines.append(f"<li>{body}</li>" if bullet else f"<p>{body}</p>")
    text = "\n".join(lines)
    text = re.sub(r"((?:<li>.*?</li>\n?)+)", r"<ul>\1</ul>", text)
    parts.append(f'<div class="answer">{text}</div>')
    if answer.note:
        parts.append(f'<p class="note"><i>{esc(answer.note)}</i></p>')
    if answer.citations:
        parts.append("<p><b>Sources</b> (open a number to see the cited passage):</p>")
        parts.extend(citation_block(c) for c in answer.citations)
    return "\n".join(parts)


def sources_html(answer: Answer | None) -> str:
    """The side panel: every passage retrieval returned for the current answer, cited ones marked."""
    if answer is None or not answer.passages:
        return "<p><i>Sources for the current answer appear here.</i></p>"
    cited = {c.passage.id: c.n for c in answer.citations}
    items = []
    for p in answer.passages:
        badge = f'<span class="marker">[{cited[p.id]}]</span> ' if p.id in cited else ""
        snippet = p.text if len(p.text) <= 400 else p.text[:399] + "…"
        items.append(f'<div class="source">{badge}{where(p)}<br><span class="snippet">{esc(snippet)}</span></div>')
    return "\n".join(items)


def search_html(query: str, passages: list[Passage]) -> str:
    if not passages:
        return "<p><i>No passages.</i></p>"
    cards = [f"<p>{len(passages)} passages for “{esc(query)}”, best first:</p>"]
    for i, p in enumerate(passages, start=1):
        cards.append(
            f'<div class="result"><div><b>{i}.</b> {where(p)}</div><blockquote class="passage">{esc(p.text)}</blockquote></div>'
        )
    return "\n".join(cards)


CSS = """
.refusal { background: #fff4e5; border-left: 4px solid #e67700; padding: 8px 12px; border-radius: 4px; }
.understood { color: #555; margin-bottom: 4px; }
.marker { color: #1c64f2; font-weight: 600; }
mark { background: #fde68a; padding: 0 2px; }
blockquote.passage { border-left: 3px solid #cbd5e1; margin: 6px 0; padding: 4px 10px; white-space: normal; }
.source, .result { border-bottom: 1px solid #e5e7eb; padding: 6px 0; }
.snippet { color: #444; font-size: 0.92em; }
.note { color: #92400e; }
"""
