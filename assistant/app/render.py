"""HTML for the app: chat messages, citations with full references, sources, search results, the library and
the evaluation.

Every piece of user or corpus text goes through ``esc``: HTML is escaped, and the characters Markdown acts
on are written as character references, so a question holding ``<img onerror>``, ``[x](javascript:…)`` or
``![x](http://…)`` shows as the text typed. Each message is one line that starts with a block tag, so the
chat's Markdown renderer treats it as an HTML block and never looks inside for Markdown.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from assistant.answers.types import Answer, Citation
from assistant.corpus.document import Document
from assistant.corpus.text import strip_invisible
from assistant.passage import Passage
from assistant.references import Reference, citation_reference, harvard, house_style, reference_for

_MARKER = re.compile(r"\[(\d+)\]")
# HTML's specials, Markdown's punctuation, dollar signs (LaTeX) and the colon of autolinks, as character
# references; a new line as <br> (a blank line would end the HTML block and let Markdown in)
_ESCAPES = str.maketrans({ch: f"&#{ord(ch)};" for ch in "&<>\"'[]()!*_`~#|\\$:{}"} | {"\n": "<br>", "\r": ""})
STYLES = {"house": "House style", "harvard": "Harvard"}

DocumentOf = Callable[[str], Document | None]


def esc(text: object) -> str:
    """``text`` safe to place in a chat message, a card or a table: shown exactly as written."""
    return str(text).translate(_ESCAPES)


def render_reference(ref: Reference, style: str = "house", quote: bool = True) -> str:
    """The reference as plain text in the chosen style ("house" or "harvard")."""
    if style == "harvard":
        return harvard(ref, quote=quote)
    return house_style(ref if quote else Reference(**{**ref.__dict__, "quote": ""}))


def highlighted(passage: Passage, spans: Iterable[tuple[int, int]]) -> str:
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
    return "".join(out)


def where(passage: Passage) -> str:
    """Title › section · p. 23 (and the other documents holding the same text)."""
    section = f" › {esc(passage.section)}" if passage.section else ""
    page = f" · {esc(passage.pages)}" if passage.pages else ""
    also = f" <small>(also in {esc(', '.join(passage.also_in))})</small>" if passage.also_in else ""
    return f"<b>{esc(passage.title)}</b>{section}{page}{also}"


def _citation_reference(c: Citation, document_of: DocumentOf) -> str:
    document = document_of(c.passage.doc_id)
    if document is None:
        return ""
    return esc(render_reference(citation_reference(c, document), quote=False))


def citation_block(c: Citation, document_of: DocumentOf) -> str:
    reference = _citation_reference(c, document_of)
    ref = f'<p class="reference">{reference}</p>' if reference else ""
    return (
        f'<details class="citation"><summary><span class="marker">[{c.n}]</span> {where(c.passage)}</summary>'
        f'<blockquote class="passage">{highlighted(c.passage, c.spans)}</blockquote>{ref}</details>'
    )


def _with_markers(text: str) -> str:
    """``text`` escaped, its [n] markers shown as citation markers."""
    pieces = _MARKER.split(text)  # text, number, text, number, …
    return "".join(esc(piece) if i % 2 == 0 else f'<b class="marker">[{piece}]</b>' for i, piece in enumerate(pieces))


def _answer_lines(text: str) -> str:
    lines, items = [], []
    for line in text.split("\n"):
        if not line.strip():
            continue
        body = _with_markers(line[2:] if line.startswith("- ") else line)
        if line.startswith("- "):
            items.append(f"<li>{body}</li>")
            continue
        if items:
            lines.append(f"<ul>{''.join(items)}</ul>")
            items = []
        lines.append(f"<p>{body}</p>")
    if items:
        lines.append(f"<ul>{''.join(items)}</ul>")
    return "".join(lines)


def question_html(question: str) -> str:
    """The user's bubble: the question as typed, without control and direction-override characters."""
    return f'<div class="question">{esc(strip_invisible(question.replace(chr(0), " ")))}</div>'


def answer_html(answer: Answer, document_of: DocumentOf = lambda _: None) -> str:
    """The chat message for an answer: how the question was read, the cited text (a partial answer says
    first what the reports do not give), then each numbered source with its passage and reference."""
    parts: list[str] = ['<div class="answer-message">']
    if answer.rewritten:
        parts.append(f'<p class="understood">Understood as: {esc(answer.query)}</p>')
    if answer.refused:
        parts.append(f'<div class="refusal">🚫 <b>{esc(answer.text)}</b> Nothing in the reports answers this question.</div>')
        if answer.passages:
            parts.append("<p>The closest passages, in case they help:</p>")
            parts.extend(
                f'<details class="nearest"><summary>{where(p)}</summary><blockquote class="passage">{esc(p.text)}</blockquote></details>'
                for p in answer.passages
            )
        parts.append("</div>")
        return "".join(parts)
    text = answer.text
    if answer.partial:
        head, _, rest = text.partition("\n")
        parts.append(f'<div class="partial">ℹ️ <b>{esc(head)}</b></div>')
        text = rest
    parts.append(f'<div class="answer">{_answer_lines(text)}</div>')
    if answer.note:
        parts.append(f'<p class="note">{esc(answer.note)}</p>')
    if answer.citations:
        parts.append('<p class="sources-head"><b>Sources</b> (open a number to see the passage and its reference)</p>')
        parts.extend(citation_block(c, document_of) for c in answer.citations)
    parts.append("</div>")
    return "".join(parts)


def notice_html(text: str, kind: str = "warning") -> str:
    """A message in the chat's place (a failure, a limit): one escaped line."""
    return f'<div class="notice {kind}">{esc(text)}</div>'


def sources_html(answer: Answer | None, document_of: DocumentOf = lambda _: None) -> str:
    """The side panel: every passage retrieval returned for the current answer, cited ones marked and referenced."""
    if answer is None or not answer.passages:
        return '<p class="empty">Sources for the current answer appear here.</p>'
    cited = {c.passage.id: c for c in answer.citations}
    ordered = sorted((p for p in answer.passages if p.id in cited), key=lambda p: cited[p.id].n)
    others = [p for p in answer.passages if p.id not in cited]
    items = []
    for p in ordered + others:
        if p is (others[0] if others else None):
            label = "Also retrieved, not cited" if ordered else "Retrieved, none cited"
            items.append(f'<p class="also">{label}:</p>')
        c = cited.get(p.id)
        badge = f'<span class="marker">[{c.n}]</span> ' if c else ""
        snippet = p.text if len(p.text) <= 400 else p.text[:399] + "…"
        reference = _citation_reference(c, document_of) if c else ""
        ref = f'<div class="reference">{reference}</div>' if reference else ""
        items.append(f'<div class="source">{badge}{where(p)}<div class="snippet">{esc(snippet)}</div>{ref}</div>')
    return "".join(items)


def first_words(text: str, words: int = 12) -> str:
    parts = text.split()
    return " ".join(parts[:words]) + ("…" if len(parts) > words else "")


def choice_labels(passages: list[Passage]) -> list[str]:
    """Picker options that tell results apart: number, last heading, page, and the passage's first words
    (more words where two would read the same)."""
    labels: list[str] = []
    for i, p in enumerate(passages, start=1):
        heading = p.section.split(" › ")[-1] if p.section else p.title
        page = f", {p.pages}" if p.pages else ""
        words = 10
        label = f"{i}. {heading}{page}: “{first_words(p.text, words)}”"
        while any(label.split(". ", 1)[1] == other.split(". ", 1)[1] for other in labels) and words < 60:
            words += 10
            label = f"{i}. {heading}{page}: “{first_words(p.text, words)}”"
        labels.append(label)
    return labels


def citation_text(passage: Passage, document: Document | None, style: str = "house") -> str:
    """The citation staff copy: the full reference of the passage, quoting it."""
    if document is None:
        return passage.citation()
    return render_reference(reference_for(passage, document, passage.text), style)


def search_html(query: str, passages: list[Passage], document_of: DocumentOf = lambda _: None) -> str:
    if not passages:
        return '<p class="empty">No passages.</p>'
    cards = [f"<p>{len(passages)} passages for “{esc(query)}”, best first:</p>"]
    for i, p in enumerate(passages, start=1):
        document = document_of(p.doc_id)
        reference = esc(render_reference(reference_for(p, document), quote=False)) if document else ""
        ref = f'<div class="reference">{reference}</div>' if reference else ""
        cards.append(
            f'<div class="result"><div><b>{i}.</b> {where(p)}</div><blockquote class="passage">{esc(p.text)}</blockquote>{ref}</div>'
        )
    return "".join(cards)


LIBRARY_COLUMNS = (
    ("title", "Title"),
    ("kind", "Format"),
    ("pages", "Pages"),
    ("passages", "Passages"),
    ("repeats", "Repeated from another document"),
    ("added", "Added"),
    ("id", "Id"),
)


def library_html(rows: list[dict[str, Any]], warnings: list[str] | None = None) -> str:
    """The library as a table that scrolls sideways on a narrow screen."""
    notes = "".join(f'<div class="notice warning">{esc(w)}</div>' for w in warnings or [])
    if not rows:
        return notes + '<p class="empty">The library is empty: add a report with <code>assistant add FILE</code>.</p>'
    head = "".join(f"<th>{name}</th>" for _, name in LIBRARY_COLUMNS)
    body = "".join(
        "<tr>" + "".join(f'<td data-label="{name}">{esc(row.get(key, ""))}</td>' for key, name in LIBRARY_COLUMNS) + "</tr>"
        for row in rows
    )
    total = sum(int(row.get("passages") or 0) for row in rows)
    repeated = sum(int(row.get("repeats") or 0) for row in rows)
    also = (
        f" A further {repeated:,} passages repeat text another document already holds (a summary or an extract"
        " of a report): they are searched once, through the fuller document."
        if repeated
        else ""
    )
    return (
        f"{notes}<p>{len(rows)} documents, {total:,} distinct passages.{also}</p>"
        f'<div class="scroll"><table class="library"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'
    )


CSS = """
.question { white-space: pre-wrap; }
.refusal { background: #fff4e5; border-left: 4px solid #e67700; padding: 8px 12px; border-radius: 4px; }
.partial { background: #eef6ff; border-left: 4px solid #1c64f2; padding: 8px 12px; border-radius: 4px; margin-bottom: 6px; }
.notice { padding: 6px 10px; border-radius: 4px; margin: 4px 0; }
.notice.warning { background: #fff4e5; border-left: 4px solid #e67700; }
.notice.info { background: #eef6ff; border-left: 4px solid #1c64f2; }
.understood { color: #555; font-style: italic; margin-bottom: 4px; }
.marker { color: #1c64f2; font-weight: 600; }
mark { background: #fde68a; padding: 0 2px; }
blockquote.passage { border-left: 3px solid #cbd5e1; margin: 6px 0; padding: 4px 10px; white-space: normal; }
.reference { color: #334155; font-size: 0.9em; margin: 4px 0; overflow-wrap: anywhere; }
.source, .result { border-bottom: 1px solid #e5e7eb; padding: 6px 0; overflow-wrap: anywhere; }
.snippet { color: #444; font-size: 0.92em; }
.note { color: #92400e; font-style: italic; }
.empty { color: #666; font-style: italic; }
.scroll { overflow-x: auto; max-width: 100%; }
.scroll table { border-collapse: collapse; min-width: 100%; }
.scroll th, .scroll td { border-bottom: 1px solid #e5e7eb; padding: 4px 8px; text-align: left; vertical-align: top; }
.scroll td.num, .scroll th.num { text-align: right; white-space: nowrap; }
#counter { font-size: 0.85em; color: #555; min-height: 1.2em; }
#counter.over { color: #b42318; font-weight: 600; }
#status:empty { display: none; }
img.plot { max-width: 100%; height: auto; }
"""


def _table(rows: list[tuple[str, list[str]]], columns: list[str], caption: str) -> str:
    head = "".join(f'<th class="num">{esc(c)}</th>' for c in columns)
    body = "".join(
        f"<tr><th>{esc(name)}</th>" + "".join(f'<td class="num">{esc(v)}</td>' for v in values) + "</tr>" for name, values in rows
    )
    return (
        f'<div class="scroll"><table class="eval"><caption>{esc(caption)}</caption>'
        f"<thead><tr><th></th>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def _split_name(split: str) -> str:
    return f"unseen: {split.split(':', 1)[1]}" if split.startswith("unseen:") else split


def evaluation_html(path: Any) -> str:
    """The evaluation report ``path`` (its JSON, with the plot beside it) for people: human metric names, the
    splits side by side in a table that scrolls sideways on a phone, and the plot."""
    import base64
    import json
    from pathlib import Path

    from assistant.evaluation.report import ANSWER_NAMES, RETRIEVAL_NAMES, _fmt, answer_value, splits_in

    path = Path(path)
    report = json.loads(path.read_text(encoding="utf-8"))
    splits = splits_in(report)
    columns = [_split_name(s) for s in splits]
    counts = report.get("counts", {})
    systems = report["systems"]
    project = systems["project"]["splits"]
    parts = [f"<h3>Evaluation of {esc(report.get('created', path.stem))}</h3>"]
    sizes = ", ".join(f"{_split_name(s)} {counts[s].get('questions')}" for s in splits if isinstance(counts.get(s), dict))
    parts.append(
        f"<p>Questions per split: {esc(sizes)}. Dev is tuned on; test is reported; blind questions (written by "
        "someone who never saw the retrieval code) and unseen reports are never tuned on.</p>"
    )
    rows = [(name, [_fmt(project.get(s, {}).get(key), key) for s in splits]) for key, name in RETRIEVAL_NAMES.items()]
    for system in systems:
        if system != "project":
            rows.append(
                (f"{system}: found in the top 5", [_fmt(systems[system]["splits"].get(s, {}).get("hit_rate@5")) for s in splits])
            )
    parts.append(_table(rows, columns, "Retrieval: is the passage with the answer found?"))
    answers = report.get("answers", {}).get("splits", {})
    if answers:
        rows = [(name, [_fmt(answer_value(answers.get(s, {}), key), key) for s in splits]) for key, name in ANSWER_NAMES.items()]
        parts.append(_table(rows, columns, "Answers (extractive)"))
    plot = path.with_suffix(".png")
    if plot.is_file():
        data = base64.b64encode(plot.read_bytes()).decode("ascii")
        parts.append(
            f'<img class="plot" alt="Found in the top 5 and answer quality per split" src="data:image/png;base64,{data}">'
        )
    parts.append(f'<p class="empty">Full report: eval/reports/{esc(path.with_suffix(".md").name)}</p>')
    return "".join(parts)
