"""A briefing note from answers: each question, how it was read, the answer, and one reference list for the note.

``build_note`` makes the note (a ``Note``); ``note_markdown`` renders it as Markdown text; ``write_note``
writes it as Markdown (.md) or Word (.docx), atomically. Each answer's [n] markers are renumbered to the
note's reference list, where a passage span cited by two answers appears once.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.answers.types import Answer
from assistant.errors import NoteError
from assistant.references import Reference, citation_reference, house_style

if TYPE_CHECKING:
    from assistant.api import Assistant

TITLE = "Briefing note"
FORMATS = {".md": "Markdown", ".docx": "Word"}
_MARKER = re.compile(r"\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")
# A quoted line may begin like Markdown structure ("1. The mutual model…" from a numbered summary); the
# answerer's own "- " list items are meant as a list and stay.
_MD_LINE_START = re.compile(r"^(\s*)(#|>|\d+(?=[.)]\s))", re.MULTILINE)


@dataclass(frozen=True)
class NoteItem:
    """One question of the note. ``text`` carries markers numbered as the note's references."""

    question: str
    read_as: str  # the standalone query searched, when the question was rewritten; else ""
    state: str  # "answered", "partial" or "refused"
    status: str  # what a reader should know before the answer ("Not in the reports: …"); "" when answered
    text: str


@dataclass(frozen=True)
class Note:
    """A whole note; ``references[i]`` is reference number i + 1."""

    title: str
    date: str
    library: str
    items: tuple[NoteItem, ...]
    references: tuple[Reference, ...]


def _status(answer: Answer) -> str:
    if answer.refused:
        return "Not answered."
    if answer.partial:
        missing = answer.missing.strip().rstrip(".") or "what was asked"
        return f"Partly answered. Not in the reports: {missing}."
    return ""


def _renumber(text: str, numbers: dict[int, int]) -> str:
    """``text`` with each marker of a known citation replaced by that citation's number in the note."""

    def replace(match: re.Match[str]) -> str:
        ns = [int(n) for n in match.group(1).split(",")]
        if not all(n in numbers for n in ns):
            return match.group(0)
        return "".join(f"[{numbers[n]}]" for n in ns)

    return _MARKER.sub(replace, text)


def build_note(answers: list[Answer], assistant: Assistant, today: date | None = None) -> Note:
    """The note for ``answers``, its references taken from the library ``assistant`` serves."""
    references: list[Reference] = []
    numbered: dict[tuple[str, int, int], int] = {}
    items: list[NoteItem] = []
    for answer in answers:
        numbers: dict[int, int] = {}
        for citation in answer.citations:
            key = (citation.passage.doc_id, citation.quote_start, citation.quote_end)
            if key not in numbered:
                references.append(citation_reference(citation, assistant.document(citation.passage.doc_id)))
                numbered[key] = len(references)
            numbers[citation.n] = numbered[key]
        items.append(
            NoteItem(
                question=" ".join(answer.question.split()),
                read_as=" ".join(answer.query.split()) if answer.rewritten else "",
                state=answer.state,
                status=_status(answer),
                text=_renumber(answer.text, numbers),
            )
        )
    day = today or date.today()
    count = len(assistant.documents)
    return Note(
        title=TITLE,
        date=f"{day.day} {day:%B %Y}",
        library=f"index build {assistant.index.name}, {count} document{'s' if count != 1 else ''}",
        items=tuple(items),
        references=tuple(references),
    )


def _list_item(n: int, text: str) -> str:
    """A numbered Markdown list item; later lines indented so that they stay inside it."""
    first, *rest = text.split("\n")
    return "\n".join([f"{n}. {first}", *(f"    {line}" if line else "" for line in rest)])


def _escape(match: re.Match[str]) -> str:
    indent, start = match.groups()
    return f"{indent}\\{start}" if start in "#>" else f"{indent}{start}\\"


def render_markdown(note: Note) -> str:
    """The note as Markdown."""
    lines = [f"# {note.title}", "", f"{note.date}. Library: {note.library}.", ""]
    for i, item in enumerate(note.items, start=1):
        lines += [f"## {i}. {item.question}", ""]
        if item.read_as:
            lines += [f"*Read as:* {item.read_as}", ""]
        if item.status:
            lines += [f"**{item.status}**", ""]
        lines += [_MD_LINE_START.sub(_escape, item.text), ""]
    if note.references:
        lines += ["## References", ""]
        lines += [_list_item(n, house_style(ref)) for n, ref in enumerate(note.references, start=1)]
        lines.append("")
    return "\n".join(lines)


def note_markdown(answers: list[Answer], assistant: Assistant) -> str:
    """The briefing note for ``answers`` as Markdown text (for a download; nothing is written)."""
    return render_markdown(build_note(answers, assistant))


def _save_docx(note: Note, target: Path) -> None:
    from docx import Document

    doc = Document()
    doc.core_properties.title = note.title
    doc.core_properties.author = ""
    doc.add_heading(note.title, 0)
    doc.add_paragraph(f"{note.date}. Library: {note.library}.")
    for i, item in enumerate(note.items, start=1):
        doc.add_heading(f"{i}. {item.question}", 1)
        if item.read_as:
            paragraph = doc.add_paragraph()
            paragraph.add_run("Read as: ").italic = True
            paragraph.add_run(item.read_as)
        if item.status:
            doc.add_paragraph().add_run(item.status).bold = True
        for line in item.text.split("\n"):
            if line.startswith("- "):
                doc.add_paragraph(line[2:], style="List Bullet")
            elif line.strip():
                doc.add_paragraph(line)
    if note.references:
        doc.add_heading("References", 1)
        for n, ref in enumerate(note.references, start=1):
            doc.add_paragraph(f"{n}. {house_style(ref)}")
    doc.save(str(target))


def _atomic(path: Path, save: Callable[[Path], None]) -> None:
    """Write through a temporary file in the same folder, then rename: a reader never sees half a note."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.is_file() else 0o644
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    temp = Path(name)
    try:
        save(temp)
        with temp.open("rb") as handle:
            os.fsync(handle.fileno())
        temp.chmod(mode)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def check_note_path(path: Path) -> None:
    """Raise NoteError unless ``path`` names a format a note can be written in."""
    if path.suffix.lower() not in FORMATS:
        given = f"'{path.suffix}'" if path.suffix else "a file without a suffix"
        raise NoteError(f"A briefing note can be written as .md (Markdown) or .docx (Word), not {given}.")


def write_note(answers: list[Answer], path: Path, assistant: Assistant) -> Path:
    """Write the briefing note for ``answers`` to ``path``, as Markdown or Word by its suffix; return ``path``.

    Raises NoteError for another suffix or a place that cannot be written.
    """
    path = Path(path)
    check_note_path(path)
    note = build_note(answers, assistant)
    if path.suffix.lower() == ".docx":

        def save(target: Path) -> None:
            _save_docx(note, target)
    else:

        def save(target: Path) -> None:
            target.write_text(render_markdown(note), encoding="utf-8")

    try:
        _atomic(path, save)
    except OSError as exc:
        raise NoteError(f"The note cannot be written to {path} ({exc.strerror or exc}).") from None
    return path
