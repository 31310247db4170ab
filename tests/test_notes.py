"""Briefing notes: each question and answer, and one reference list whose quotes are exact spans of the documents."""

from __future__ import annotations

import re
from pathlib import Path

import docx
import pytest

from assistant.answers.types import Answer
from assistant.cli import EXIT_ERROR, main
from assistant.errors import NoteError
from assistant.notes import Note, NoteItem, build_note, note_markdown, render_markdown, write_note
from assistant.references import Reference, house_style

QUESTIONS = [
    "Are mutuals actually making money?",
    "What is the Teckal exemption?",
    "How many mutuals are there in Scotland?",
]
_MARKERS = re.compile(r"\[(\d+)\]")


@pytest.fixture(scope="module")
def answers(assistant) -> list[Answer]:  # type: ignore[no-untyped-def]
    return [assistant.ask(q) for q in QUESTIONS]


def _unescaped(markdown: str) -> str:
    """The Markdown with escapes and list-item indentation taken out, to compare with plain text."""
    return re.sub(r"\\([#>.)])", r"\1", markdown).replace("\n    ", "\n")


def _check_references(note: Note, assistant) -> None:  # type: ignore[no-untyped-def]
    assert note.references
    assert len({(r.doc_id, r.quote) for r in note.references}) == len(note.references)  # each listed once
    for ref in note.references:
        assert ref.quote and ref.quote in assistant.document(ref.doc_id).text
        entry = house_style(ref)
        assert ref.authors and ref.year and ref.authors in entry and f"({ref.year})" in entry
        assert (ref.pages and ref.pages in entry) or f"Section: {ref.section}" in entry


def _check_markers(answers: list[Answer], note: Note, assistant) -> None:  # type: ignore[no-untyped-def]
    """Every renumbered marker points at a reference quoting what the answer's own marker cited."""
    used: set[int] = set()
    for answer, item in zip(answers, note.items, strict=True):
        cited = {c.n: c for c in answer.citations}
        before, after = _MARKERS.findall(answer.text), _MARKERS.findall(item.text)
        assert len(before) == len(after)
        for old, new in zip(before, after, strict=True):
            citation = cited[int(old)]
            ref = note.references[int(new) - 1]
            document = assistant.document(citation.passage.doc_id)
            assert ref.doc_id == citation.passage.doc_id
            for start, end in citation.spans:
                assert document.text[start:end] in ref.quote
            used.add(int(new))
    assert used == set(range(1, len(note.references) + 1))


def test_markdown_note_holds_each_question_answer_and_a_reference_list_of_exact_quotes(answers, assistant) -> None:  # type: ignore[no-untyped-def]
    markdown = note_markdown(answers, assistant)
    note = build_note(answers, assistant)
    plain = _unescaped(markdown)
    assert markdown.startswith("# Briefing note\n")
    assert note.date in markdown
    assert f"index build {assistant.index.name}, {len(assistant.documents)} documents" in markdown
    for i, (answer, item) in enumerate(zip(answers, note.items, strict=True), start=1):
        assert f"## {i}. {answer.question}" in markdown
        assert item.text in plain
    partial = answers[2]
    assert partial.state == "partial" and partial.missing
    assert f"Not in the reports: {partial.missing}" in markdown
    assert "## References" in markdown
    for n, ref in enumerate(note.references, start=1):
        assert f"\n{n}. {house_style(ref)}\n" in plain
    _check_references(note, assistant)
    _check_markers(answers, note, assistant)


def test_word_note_holds_the_same_questions_answers_and_references(answers, assistant, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write_note(answers, tmp_path / "briefing.docx", assistant)
    assert path == tmp_path / "briefing.docx"
    document = docx.Document(str(path))
    paragraphs = [p.text for p in document.paragraphs]
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    note = build_note(answers, assistant)
    assert paragraphs[0] == "Briefing note" and document.core_properties.title == "Briefing note"
    assert f"{note.date}. Library: {note.library}." in paragraphs
    assert headings == [f"{i}. {q}" for i, q in enumerate(QUESTIONS, start=1)] + ["References"]
    for item in note.items:
        for line in filter(None, item.text.split("\n")):
            assert line.removeprefix("- ") in paragraphs
    assert f"Partly answered. Not in the reports: {answers[2].missing}." in paragraphs
    listed = paragraphs[paragraphs.index("References") + 1 :]
    assert listed == [f"{n}. {house_style(ref)}" for n, ref in enumerate(note.references, start=1)]
    _check_references(note, assistant)


def test_markdown_file_is_the_downloadable_note(answers, assistant, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write_note(answers, tmp_path / "notes" / "briefing.md", assistant)
    assert path.read_text(encoding="utf-8") == note_markdown(answers, assistant)


def test_a_note_is_replaced_whole_and_leaves_no_temporary_file(answers, assistant, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "briefing.md"
    write_note(answers, path, assistant)
    write_note(answers[:1], path, assistant)
    assert "Teckal" not in path.read_text(encoding="utf-8")
    assert [p.name for p in tmp_path.iterdir()] == ["briefing.md"]


def test_a_follow_up_shows_how_it_was_read_and_a_refusal_says_so(assistant) -> None:  # type: ignore[no-untyped-def]
    first = assistant.ask(QUESTIONS[0])
    history = [{"role": "user", "content": QUESTIONS[0]}, {"role": "assistant", "content": first.text}]
    follow_up = assistant.ask("and what about in social care?", history=history)
    off_topic = assistant.ask("What is the capital of Peru?")
    assert follow_up.rewritten and off_topic.refused
    note = build_note([follow_up, off_topic], assistant)
    markdown = render_markdown(note)
    assert f"*Read as:* {follow_up.query}" in markdown
    assert "## 2. What is the capital of Peru?\n\n**Not answered.**\n\nThe reports don't cover this." in markdown


def test_a_quoted_numbered_line_does_not_become_a_markdown_list() -> None:
    item = NoteItem("Q?", "", "answered", "", "1. Mutuals are profitable. [1]\n# Not a heading [1]\n- a listed item [1]")
    ref = Reference("A", "2019", "T", "", "S", "", "", "Mutuals are profitable.\n\n2. Next point.", "d")
    markdown = render_markdown(Note("Briefing note", "1 January 2026", "index build x, 1 document", (item,), (ref,)))
    assert "\n1\\. Mutuals are profitable. [1]\n\\# Not a heading [1]\n- a listed item [1]\n" in markdown
    assert "\n1. A (2019). T. Section: S. “Mutuals are profitable.\n\n    2. Next point.”\n" in markdown


def test_a_note_in_another_format_is_refused_with_one_line(answers, assistant, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NoteError) as caught:
        write_note(answers, tmp_path / "briefing.pdf", assistant)
    assert "\n" not in str(caught.value) and ".md" in str(caught.value) and ".docx" in str(caught.value)
    with pytest.raises(NoteError):
        write_note(answers, tmp_path / "briefing", assistant)
    assert list(tmp_path.iterdir()) == []


def test_a_note_that_cannot_be_written_is_one_line(answers, assistant, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "taken").write_text("a file, not a folder")
    with pytest.raises(NoteError) as caught:
        write_note(answers, tmp_path / "taken" / "briefing.md", assistant)
    assert "\n" not in str(caught.value)


def test_ask_refuses_a_bad_note_format_before_answering(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "What is the Teckal exemption?", "--note", str(tmp_path / "briefing.txt")]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert err.startswith("Error: A briefing note can be written as .md") and err.count("\n") == 1
