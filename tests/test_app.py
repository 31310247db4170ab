"""The app's behaviour through its handlers, without a server: sessions, input limits, rendering, citations,
notes, feedback, the library and the evaluation view."""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import docx
import gradio as gr
import pytest

from assistant import feedback
from assistant.app import render
from assistant.app.handlers import EMPTY_HINT, Handlers
from assistant.app.session import Session
from assistant.app.ui import build_app
from assistant.config import AppSettings
from assistant.passage import Passage

from .conftest import retrieval_split

ATTACKS = [
    "<img src=x onerror=alert(1)>",
    "<script>alert(2)</script>",
    "[click me](javascript:alert(3))",
    "![pixel](http://127.0.0.1:9/pixel.png)",
    "$$\\frac{1}{2}$$",
]


def _run(handlers: Handlers, message: str, chat: list[Any], session: Session) -> tuple[Any, ...]:
    """The last update of one chat turn: (chat, session, sources, status, question box)."""
    return list(handlers.respond(message, chat, session))[-1]


def _text(fragment: str) -> str:
    """What a browser shows for an HTML fragment (tags dropped, references decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", " ", fragment.replace("<br>", "\n")))


def _like(index: int, liked: bool) -> gr.LikeData:
    return gr.LikeData(None, {"index": index, "value": "", "liked": liked})


class _Request:
    def __init__(self, session_hash: str = "s1", username: str | None = None) -> None:
        self.session_hash = session_hash
        self.username = username


@pytest.fixture
def private(small_copy, embedder):  # type: ignore[no-untyped-def]
    """An assistant over a private copy of the small library, free to change."""
    from assistant import Assistant

    return Assistant.load(small_copy, embedder=embedder, notify=lambda _m: None)


@pytest.fixture
def handlers(assistant) -> Handlers:  # type: ignore[no-untyped-def]
    return Handlers(assistant, AppSettings())


def test_the_page_builds_with_the_ask_and_search_endpoints_for_scripts(assistant) -> None:  # type: ignore[no-untyped-def]
    app = build_app(assistant)
    names = {fn.api_name for fn in app.fns.values() if fn.api_visibility != "private"}
    assert {"ask", "search"} <= names


def test_an_answer_shows_markers_the_quoted_span_and_a_full_reference(handlers: Handlers) -> None:
    chat, session, sources, status, box = _run(handlers, "Are mutuals actually making money?", [], Session())
    answer = chat[-1]["content"]
    assert [m["role"] for m in chat] == ["user", "assistant"] and status == "" and box == ""
    assert '<b class="marker">[1]</b>' in answer and "<mark>" in answer
    assert "96% of mutuals are profitable" in _text(answer)
    reference = _text(re.search(r'<p class="reference">(.*?)</p>', answer).group(1))  # type: ignore[union-attr]
    assert reference.startswith("Baxendale and Mutual Ventures (2019).")
    assert "Department for Digital, Culture, Media and Sport" in reference and "Section: Executive Summary" in reference
    assert "[1]" in _text(sources) and len(session.turns) == 1


def test_the_sources_panel_lists_cited_passages_in_citation_order_before_the_rest(handlers: Handlers) -> None:
    _chat, session, sources, *_ = _run(handlers, "What are the risks and barriers to mutualisation?", [], Session())
    answer = session.turns[-1].answer
    markers = [int(n) for n in re.findall(r'<span class="marker">\[(\d+)\]</span>', sources)]
    assert markers == sorted(markers) == [c.n for c in sorted(answer.citations, key=lambda c: c.n)]
    uncited = len(answer.passages) - len({c.passage.id for c in answer.citations})
    assert ("Also retrieved, not cited" in sources) == (uncited > 0)
    if uncited:
        assert sources.index("Also retrieved") > sources.rindex('class="marker"')


def test_a_partial_answer_says_first_what_the_reports_do_not_give(handlers: Handlers) -> None:
    chat, *_ = _run(handlers, "What share of mutuals in health and social care made a profit in 2022?", [], Session())
    answer = chat[-1]["content"]
    assert answer.index('class="partial"') < answer.index('class="answer"')
    assert "The reports don't give" in _text(answer) and "2022" in _text(answer)


def test_a_refusal_looks_different_from_an_answer(handlers: Handlers) -> None:
    chat, *_ = _run(handlers, "What is the capital of Peru?", [], Session())
    answer = chat[-1]["content"]
    assert 'class="refusal"' in answer and "The reports don't cover this" in _text(answer)
    assert 'class="marker"' not in answer


@pytest.mark.parametrize("message", ["", "   ", "\n\t"])
def test_an_empty_message_adds_no_bubbles_and_gives_a_hint(handlers: Handlers, message: str) -> None:
    session = Session()
    updates = list(handlers.respond(message, [], session))
    assert len(updates) == 1
    chat, kept, _sources, status, box = updates[0]
    assert isinstance(chat, type(gr.skip())) and isinstance(box, type(gr.skip()))  # nothing changes on the page
    assert EMPTY_HINT in _text(status) and kept.turns == []


def test_an_over_long_message_is_refused_whole_and_stays_in_the_box(handlers: Handlers) -> None:
    session = Session()
    message = "mutual " * 800  # 5,600 characters
    chat, kept, _sources, status, box = _run(handlers, message, [], session)
    assert "5,600 characters" in _text(status) and "limit is 2,000" in _text(status) and "nothing was sent" in _text(status)
    assert isinstance(box, type(gr.skip())) and isinstance(chat, type(gr.skip())) and kept.turns == []


def test_rejected_messages_never_enter_the_follow_up_context(handlers: Handlers) -> None:
    session = Session()
    chat, session, *_ = _run(handlers, "What is Granta Medical Practices?", [], session)
    _run(handlers, "x" * 100_000, chat, session)
    _run(handlers, "   ", chat, session)
    assert [t.question for t in session.turns] == ["What is Granta Medical Practices?"]
    chat, session, *_ = _run(handlers, "Who is its strategy director?", chat, session)
    assert "Understood as" in chat[-1]["content"] and "Granta" in _text(chat[-1]["content"])
    assert "xxxx" not in _text(chat[-1]["content"]) and "Gerard Newnham" in _text(chat[-1]["content"])


def test_two_sessions_keep_their_own_conversations_and_search_results(handlers: Handlers) -> None:
    first, second = Session(), Session()
    _run(handlers, "What is Granta Medical Practices?", [], first)
    chat, second, *_ = _run(handlers, "Who is its strategy director?", [], second)
    assert "Understood as" not in chat[-1]["content"]  # no context leaked from the other session
    handlers.search("Teckal exemption", 3, "House style", first)
    handlers.search("primary care networks", 3, "House style", second)
    assert "Teckal" in handlers.cite("0", "House style", first)
    assert "Teckal" not in handlers.cite("0", "House style", second)


def test_clearing_the_conversation_clears_sources_context_and_note(handlers: Handlers) -> None:
    session = Session()
    chat, session, sources, *_ = _run(handlers, "What is Granta Medical Practices?", [], session)
    assert "Granta" in _text(sources)
    chat, fresh, sources, status, box, note, comment = handlers.clear()
    assert chat == [] and fresh.turns == [] and fresh.history() == []
    assert "appear here" in _text(sources) and status == "" and box == ""
    assert note["visible"] is False and note["value"] is None and comment["visible"] is False


@pytest.mark.parametrize("attack", ATTACKS)
def test_user_and_document_text_are_shown_as_text(handlers: Handlers, attack: str) -> None:
    shown = render.question_html(f"{attack} mutual profits?")
    assert "<img" not in shown and "<script" not in shown and "](" not in shown and "$$" not in shown
    assert _text(shown).strip() == f"{attack} mutual profits?"
    passage = Passage(id="d#0", doc_id="d", title=f"T {attack}", section=attack, text=attack, start=0, end=len(attack))
    for fragment in (render.highlighted(passage, ((0, 4),)), render.search_html(attack, [passage]), render.where(passage)):
        assert "<img" not in fragment and "<script" not in fragment and "](" not in fragment and "$$" not in fragment


def test_answer_text_with_markup_is_escaped(assistant) -> None:  # type: ignore[no-untyped-def]
    answer = assistant.ask("What is the Teckal exemption?")
    hacked = answer.__class__(**{**answer.__dict__, "text": "<img src=x onerror=alert(1)> ![a](http://x/y.png) [1]"})
    shown = render.answer_html(hacked)
    assert "<img" not in shown and "](" not in shown and '<b class="marker">[1]</b>' in shown


def test_control_and_direction_override_characters_are_not_shown_in_the_bubble() -> None:
    assert _text(render.question_html("Teckal\x07\u202e ex\u200bemption\x00rules")).strip() == "Teckal exemption rules"


def test_a_message_is_one_html_block_markdown_never_parses() -> None:
    shown = render.question_html("line one\n\n# heading\n\n- item")
    assert "\n" not in shown and shown.startswith("<div")


def test_pages_appear_in_sources_when_the_document_has_them() -> None:
    passage = Passage(
        id="d#3", doc_id="d", title="Annual report", section="Findings", text="t", start=0, end=1, page=23, page_end=24
    )
    assert "Findings · pp. 23–24" in _text(render.where(passage))


def test_search_picker_options_tell_results_apart(handlers: Handlers) -> None:
    session = Session()
    _results, picker, _citation, session = handlers.search("mutuals in primary care", 10, "House style", session)
    labels = [label for label, _ in picker["choices"]]
    assert len(labels) == 10 and len(set(labels)) == 10
    for label, passage in zip(labels, session.results, strict=True):
        assert render.first_words(passage.text, 4).rstrip("…") in label
        assert passage.section.split(" › ")[-1] in label
        assert len(label) < 200


def test_a_copied_citation_is_a_full_reference_in_house_style_or_harvard(handlers: Handlers, assistant) -> None:  # type: ignore[no-untyped-def]
    session = Session()
    _results, _picker, first, session = handlers.search("Teckal exemption", 3, "House style", session)
    passage = session.results[0]
    assert first.startswith("Baxendale and Mutual Ventures (2019). Our Mutual Interest in Health and Social Care")
    assert f"Section: {passage.section}" in first and f"“{passage.text}" in first
    harvard = handlers.cite("1", "Harvard", session)
    second = session.results[1]
    assert harvard.startswith("Baxendale and Mutual Ventures (2019) Our Mutual Interest")
    assert second.text in harvard and "(full report)" not in harvard


def test_search_errors_are_messages(handlers: Handlers) -> None:
    results, picker, citation, _ = handlers.search("   ", 3, "House style", Session())
    assert "Please type" in _text(results) and picker["choices"] == [] and citation == ""


def test_a_briefing_note_downloads_as_word_and_markdown(handlers: Handlers, assistant) -> None:  # type: ignore[no-untyped-def]
    session = Session()
    chat: list[Any] = []
    questions = ["Are mutuals actually making money?", "What is the Teckal exemption?", "What is Granta Medical Practices?"]
    for question in questions:
        chat, session, *_ = _run(handlers, question, chat, session)
    word, status = handlers.save_note("Word (.docx)", session)
    assert word["visible"] and word["value"].endswith(".docx") and "3 questions" in _text(status)
    text = "\n".join(p.text for p in docx.Document(word["value"]).paragraphs)
    markdown, _ = handlers.save_note("Markdown (.md)", session)
    md = Path(markdown["value"]).read_text(encoding="utf-8")
    for body in (text, md):
        assert all(q in body for q in questions) and "References" in body and "Baxendale and Mutual Ventures (2019)" in body
    first = session.turns[0].answer
    assert first.citations[0].quote.split(" … ")[0] in md
    nothing, status = handlers.save_note("Word (.docx)", Session())
    assert nothing["visible"] is False and "Ask a question first" in _text(status)


def test_a_rating_and_its_comment_are_recorded_once(handlers: Handlers, assistant) -> None:  # type: ignore[no-untyped-def]
    session = Session()
    _chat, session, *_ = _run(handlers, "How big is a primary care network?", [], session)
    session, status, comment_row = handlers.rate(session, _like(1, False), _Request("alpha"))
    assert "not helpful" in _text(status) and comment_row["visible"] is True
    status, box, comment_row = handlers.comment("The answer gives no patient numbers.", session, _Request("alpha"))
    assert "saved" in _text(status) and box == "" and comment_row["visible"] is False
    records = feedback.read(assistant.settings.data_dir)
    mine = [r for r in records if r["session"] == "alpha"]
    assert len(mine) == 1 and mine[0]["rating"] == "down" and mine[0]["comment"] == "The answer gives no patient numbers."
    assert mine[0]["question"] == "How big is a primary care network?" and mine[0]["citations"]
    drafts = feedback.to_questions(mine)
    assert drafts[0]["split"] == "dev" and drafts[0]["question"] == "How big is a primary care network?"


def test_changing_a_rating_replaces_it_instead_of_counting_twice(handlers: Handlers, assistant) -> None:  # type: ignore[no-untyped-def]
    session = Session()
    _chat, session, *_ = _run(handlers, "What is a primary care network?", [], session)
    session, *_ = handlers.rate(session, _like(1, True), _Request("beta"))
    session, *_ = handlers.rate(session, _like(1, False), _Request("beta"))
    handlers.comment("Too general.", session, _Request("beta"))
    mine = [r for r in feedback.read(assistant.settings.data_dir) if r["session"] == "beta"]
    assert [(r["rating"], r["comment"]) for r in mine] == [("down", "Too general.")]


def test_a_rating_of_a_question_bubble_or_an_old_chat_changes_nothing(handlers: Handlers, assistant) -> None:  # type: ignore[no-untyped-def]
    before = len(feedback.read(assistant.settings.data_dir))
    handlers.rate(Session(), _like(1, True), _Request())  # a chat from before the session began
    _chat, session, *_ = _run(handlers, "What is a CIC?", [], Session())
    handlers.rate(session, _like(0, True), _Request())  # the question's own bubble
    assert len(feedback.read(assistant.settings.data_dir)) == before
    status, *_ = handlers.comment("hello", Session(), _Request())
    assert "Rate an answer" in _text(status)


def test_dislikes_from_two_sessions_at_once_are_both_recorded(handlers: Handlers, assistant) -> None:  # type: ignore[no-untyped-def]
    sessions = []
    for question in ("What is a CIC?", "What is blended finance?"):
        _, session, *_ = _run(handlers, question, [], Session())
        sessions.append(session)
    barrier = threading.Barrier(2)

    def dislike(i: int) -> None:
        barrier.wait()
        handlers.rate(sessions[i], _like(1, False), _Request(f"concurrent-{i}"))

    threads = [threading.Thread(target=dislike, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    records = [r for r in feedback.read(assistant.settings.data_dir) if r["session"].startswith("concurrent-")]
    assert sorted(r["question"] for r in records) == ["What is a CIC?", "What is blended finance?"]


def test_a_session_asking_too_fast_is_told_to_wait(assistant) -> None:  # type: ignore[no-untyped-def]
    handlers = Handlers(assistant, AppSettings(rate_per_minute=2))
    session = Session()
    chat: list[Any] = []
    for _ in range(2):
        chat, session, *_ = _run(handlers, "What is a CIC?", chat, session)
    _same, session, _sources, status, _ = _run(handlers, "What is a CIC?", chat, session)
    assert "please wait" in _text(status) and len(session.turns) == 2
    _, other, *_ = _run(handlers, "What is a CIC?", [], Session())
    assert len(other.turns) == 1
    assert handlers.ask("What is a CIC?", [], _Request("api"))["text"]
    handlers.ask("What is a CIC?", [], _Request("api"))
    assert "please wait" in handlers.ask("What is a CIC?", [], _Request("api"))["error"]


def test_an_unexpected_failure_shows_no_traceback_and_leaves_no_bubble(assistant) -> None:  # type: ignore[no-untyped-def]
    class Exploding:
        settings = assistant.settings

        def ask_stream(self, *args: object, **kwargs: object) -> Any:
            raise RuntimeError("/secret/path/index.faiss: boom")

    chat, session, _sources, status, box = _run(Handlers(Exploding()), "anything", [], Session())
    assert "Something went wrong" in _text(status) and "secret" not in status and "Traceback" not in status
    assert chat == [] and session.turns == [] and box == "anything"


def test_the_api_answers_json_and_reports_bad_input_as_an_error(handlers: Handlers) -> None:
    answer = handlers.ask("What is the Teckal exemption?", [], _Request("json"))
    assert answer["state"] == "answered" and answer["citations"][0]["passage"]["doc_id"]
    assert handlers.ask("", [], _Request("json")) == {"error": "Please type a question."}
    assert "limit is 2,000" in handlers.ask("y" * 3000, [], _Request("json"))["error"]


def test_the_library_lists_every_document_with_its_counts(handlers: Handlers, assistant) -> None:  # type: ignore[no-untyped-def]
    shown = handlers.library()
    for document in assistant.documents:
        assert html.escape(document.id) in shown or document.id in _text(shown)
    assert f"{len(assistant.documents)} documents" in _text(shown) and 'class="scroll"' in shown


def test_uploads_are_refused_when_switched_off_or_without_a_login(private, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    report = tmp_path / "note.md"
    report.write_text("# Local evaluation\n\nThe pilot served 40 families in its first year.\n", encoding="utf-8")
    before = (private.settings.corpus_dir / "manifest.json").read_bytes()
    off = Handlers(private, AppSettings(), uploads=False)
    status, _ = off.upload([str(report)], _Request(username="alice"))
    assert "switched off" in _text(status)
    on = Handlers(private, AppSettings(uploads=True), uploads=True)
    status, _ = on.upload([str(report)], _Request(username=None))
    assert "switched off" in _text(status)
    assert (private.settings.corpus_dir / "manifest.json").read_bytes() == before


def test_an_uploaded_report_is_added_indexed_and_searchable(private, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    report = tmp_path / "pilot-evaluation.md"
    report.write_text(
        "# Riverside pilot evaluation\n\n## Findings\n\nThe Riverside pilot served 40 families in its first year "
        "and cut waiting times for a first visit from nine weeks to three.\n",
        encoding="utf-8",
    )
    handlers = Handlers(private, AppSettings(uploads=True), uploads=True)
    status, library = handlers.upload([str(report)], _Request(username="alice"))
    assert "Added" in _text(status) and "Riverside pilot evaluation" in _text(library)
    hits = private.search("How many families did the Riverside pilot serve?", k=3)
    assert "40 families" in hits[0].text
    status, _ = handlers.upload([str(report)], _Request(username="alice"))
    assert "Not added" in _text(status)  # the same report twice


def test_the_evaluation_view_names_metrics_for_people_and_sets_splits_side_by_side(tmp_path: Path) -> None:
    names = ("dev", "test", "blind", "unseen")
    report = {
        "created": "2026-11-23T00:00:00Z",
        "counts": {s: {"questions": 10, "answerable": 8} for s in names},
        "systems": {
            "project": {"splits": {s: retrieval_split(0.9) for s in names}},
            "bm25-only": {"splits": {s: retrieval_split(0.7) for s in names}},
        },
        "answers": {
            "splits": {
                s: {"answer_contains_evidence": 0.8, "near_miss_honest": 0.5, "n_near_miss": 0 if s == "test" else 4}
                for s in names
            }
        },
    }
    path = tmp_path / "20261123T000000Z.json"
    path.write_text(json.dumps(report), encoding="utf-8")
    shown = render.evaluation_html(path)
    assert "Found in the top 5" in shown and "Answer contains the gold evidence" in shown
    assert "hit_rate" not in shown and "n_answerable" not in shown and "mrr@10" not in shown
    header = re.search(r"<thead>(.*?)</thead>", shown).group(1)  # type: ignore[union-attr]
    assert [_text(h).strip() for h in re.findall(r"<th[^>]*>(.*?)</th>", header)][1:] == list(names)
    near = re.search(r"Near misses answered honestly</th>(.*?)</tr>", shown).group(1)  # type: ignore[union-attr]
    assert [_text(c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", near)] == ["0.500", "–", "0.500", "0.500"]
    assert shown.count('class="scroll"') == 2


def test_the_app_loads_gradio_without_its_stub_writer_or_an_eager_matplotlib() -> None:
    # Gradio re-parses every component's source on import to refresh .pyi stubs (half its import time), and
    # imports matplotlib around every event (0.3 s on the first answer); the app needs neither.
    code = "\n".join(
        [
            "import sys, assistant.app.launch, gradio, gradio.component_meta as meta, gradio.utils as gu",
            "from assistant.app.gradio_import import _no_stub",
            "import gradio.blocks_events as be",
            "assert meta.create_or_modify_pyi is _no_stub and be.create_or_modify_pyi is _no_stub",
            "assert gradio.Textbox(label='q').label == 'q'",
            "with gu.MatplotlibBackendMananger(): pass",
            "assert 'matplotlib' not in sys.modules",
            "import matplotlib; matplotlib.use('pdf')",  # once something draws, the guard works as before
            "with gu.MatplotlibBackendMananger(): assert matplotlib.get_backend() == 'agg'",
            "assert matplotlib.get_backend() == 'pdf'; print('ok')",
        ]
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]
