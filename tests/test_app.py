"""The app's handlers, called through build_app's Handlers without a server."""

from __future__ import annotations

import gradio as gr

from assistant.app.render import answer_html, highlighted, search_html
from assistant.app.ui import MAX_INPUT, Handlers, build_app
from assistant.passage import Passage


def _last(gen):  # type: ignore[no-untyped-def]
    items = list(gen)
    return items[-1]


def test_build_app_exposes_chat_ask_and_search_endpoints(assistant) -> None:  # type: ignore[no-untyped-def]
    app = build_app(assistant)
    assert isinstance(app, gr.Blocks)
    names = {fn.api_name for fn in app.fns.values()}
    assert {"chat", "ask", "search"} <= names


def test_chat_answer_shows_markers_and_sources(assistant) -> None:  # type: ignore[no-untyped-def]
    html, sources = _last(Handlers(assistant).chat("Are mutuals actually making money?", []))
    assert 'class="marker">[1]</b>' in html and "<details" in html and "<mark>" in html
    assert "96% of mutuals are profitable" in html
    assert "Executive Summary" in sources


def test_refusal_looks_different_from_an_answer(assistant) -> None:  # type: ignore[no-untyped-def]
    html, _ = _last(Handlers(assistant).chat("How many mutuals are there in Scotland?", []))
    assert 'class="refusal"' in html and "The reports don't cover this" in html.replace("&#x27;", "'")
    assert 'class="marker"' not in html


def test_follow_up_shows_how_it_was_understood(assistant) -> None:  # type: ignore[no-untyped-def]
    handlers = Handlers(assistant)
    first, _ = _last(handlers.chat("What is Granta Medical Practices?", []))
    history = [{"role": "user", "content": "What is Granta Medical Practices?"}, {"role": "assistant", "content": first}]
    html, _ = _last(handlers.chat("Who is its strategy director?", history))
    assert "Understood as:" in html and "Gerard Newnham" in html


def test_over_long_and_empty_input_get_a_friendly_message(assistant) -> None:  # type: ignore[no-untyped-def]
    handlers = Handlers(assistant)
    html, _ = _last(handlers.chat("x" * (MAX_INPUT + 1), []))
    assert html.startswith("⚠️") and "keep it under 2,000" in html
    html, _ = _last(handlers.chat("   ", []))
    assert html.startswith("⚠️") and "Please type a question" in html
    assert handlers.ask("")["error"] == "Please type a question."


def test_unexpected_failure_shows_no_traceback(assistant) -> None:  # type: ignore[no-untyped-def]
    class Exploding:
        def ask_stream(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            raise RuntimeError("/secret/path/index.faiss: boom")
            yield

    html, _ = _last(Handlers(Exploding()).chat("anything", []))
    assert "Something went wrong" in html and "secret" not in html and "Traceback" not in html


def test_html_in_passages_is_shown_as_text() -> None:
    text = "Mutuals <script>alert(1)</script> and <img src=x onerror=alert(2)> reinvest."
    passage = Passage(id="d#0", doc_id="d", title="T<b>", section="S", text=text, start=0, end=len(text))
    rendered = highlighted(passage, ((0, 7),)) + search_html("<i>q</i>", [passage])
    assert "<script>" not in rendered and "<img" not in rendered and "T<b>" not in rendered
    assert "&lt;script&gt;" in rendered and "&lt;img src=x onerror=alert(2)&gt;" in rendered


def test_answer_text_with_markup_is_escaped(assistant) -> None:  # type: ignore[no-untyped-def]
    answer = assistant.ask("What is the Teckal exemption?")
    hacked = answer.__class__(**{**answer.__dict__, "text": "<img src=x onerror=alert(1)> [1]"})
    assert "<img" not in answer_html(hacked)


def test_search_returns_results_and_a_citation_to_copy(assistant) -> None:  # type: ignore[no-untyped-def]
    handlers = Handlers(assistant)
    html, choices, citation, raw = handlers.search("Teckal exemption", 3)
    assert "Teckal" in html and len(raw) == 3
    assert citation.startswith("“") and "— Our Mutual Interest in Health and Social Care (full report)" in citation
    second = handlers.citation_for(
        choices["choices"][1][0] if isinstance(choices["choices"][1], tuple) else choices["choices"][1], raw
    )
    assert second.endswith(f"{raw[1]['section']}.")


def test_evaluation_tab_shows_the_latest_report(assistant) -> None:  # type: ignore[no-untyped-def]
    report, plot = Handlers(assistant).evaluation()
    assert "Evaluation report" in report and "hit@5" in report
    assert plot.startswith('<img alt="hit@k') and "base64," in plot
