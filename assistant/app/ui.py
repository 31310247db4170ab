"""``build_app(assistant)``: the Gradio Blocks, separate from launching so handlers are testable without a server.

Tabs: Ask (cited chat, examples, sources panel), Search passages (with a formatted citation to copy),
Evaluation (the latest report). Endpoints for gradio_client scripts: ``/chat`` (message → answer HTML
and sources HTML), ``/ask`` (message, history → the answer as JSON, follow-ups included) and ``/search``
(query, k → results HTML, choices, first citation, results as JSON).
"""

from __future__ import annotations

import base64
import logging
import re
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.answers.types import Answer
from assistant.app.render import answer_html, esc, search_html, sources_html
from assistant.errors import AssistantError
from assistant.evaluation.report import REPORTS_DIR, latest_report

log = logging.getLogger("assistant.app")

MAX_INPUT = 2000
EXAMPLES = [
    "Are mutuals actually making money?",
    "Which service areas have the highest potential for mutualisation?",
    "What does the report recommend for primary care?",
    "What is the Teckal exemption?",
    "How many mutuals are there in Scotland?",
]
SORRY = "⚠️ Something went wrong while answering. Please try again or rephrase the question."
_TAGS = re.compile(r"<[^>]+>")


def _plain_history(history: list[Any] | None) -> list[dict[str, str]]:
    """Gradio's messages with our HTML removed: the answer text is what a follow-up leans on."""
    plain: list[dict[str, str]] = []
    for message in history or []:
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        if isinstance(content, list):
            content = " ".join(str(part.get("text", "")) if isinstance(part, dict) else str(part) for part in content)
        if not isinstance(content, str):
            continue
        content = content.split("Sources</b>")[0]
        plain.append({"role": str(message.get("role", "")), "content": " ".join(_TAGS.sub(" ", content).split())})
    return plain


class Handlers:
    """The app's behaviour, callable without a server (tests call these directly).

    Questions stay out of the server log unless ``log_questions``: a failure is logged by its type and
    place, since an exception's message may quote the question.
    """

    def __init__(self, assistant: Any, log_questions: bool = False):
        self.assistant = assistant
        self.log_questions = log_questions

    def _heard(self, kind: str, text: str) -> None:
        if self.log_questions:
            log.info("%s: %r", kind, text)

    def _failed(self, what: str) -> None:
        if self.log_questions:
            log.exception("%s failed", what)
            return
        exc = sys.exc_info()[1]
        where = traceback.extract_tb(exc.__traceback__)[-1] if exc is not None and exc.__traceback__ else None
        place = f" at {Path(where.filename).name}:{where.lineno}" if where else ""
        log.error("%s failed: %s%s (ASSISTANT_LOG_QUESTIONS=1 logs the whole traceback)", what, type(exc).__name__, place)

    def chat(self, message: str, history: list[Any] | None) -> Iterator[tuple[str, str]]:
        """Yield (message HTML, sources HTML): streamed text first when an LLM is on, then the checked answer."""
        self._heard("chat", message)
        if isinstance(message, str) and len(message) > MAX_INPUT:
            yield f"⚠️ That question is {len(message):,} characters long; please keep it under {MAX_INPUT:,}.", sources_html(None)
            return
        try:
            final: Answer | None = None
            for part in self.assistant.ask_stream(message, history=_plain_history(history)):
                if isinstance(part, str):
                    yield f"<p>{esc(part)}</p><p><i>(checking citations…)</i></p>", sources_html(None)
                else:
                    final = part
            if final is not None:
                yield answer_html(final), sources_html(final)
        except AssistantError as exc:
            yield f"⚠️ {esc(str(exc))}", sources_html(None)
        except Exception:  # never show a traceback, a path or a prompt to the user
            self._failed("chat")
            yield SORRY, sources_html(None)

    def ask(self, message: str, history: list[dict[str, str]] | None = None) -> dict[str, Any]:
        """The answer as JSON (text, citations, refused, query, sources), for scripts; never raises."""
        self._heard("ask", message)
        if isinstance(message, str) and len(message) > MAX_INPUT:
            return {"error": f"That question is {len(message):,} characters long; please keep it under {MAX_INPUT:,}."}
        try:
            return dict(self.assistant.ask(message, history=_plain_history(history)).to_json())
        except AssistantError as exc:
            return {"error": str(exc)}
        except Exception:
            self._failed("ask")
            return {"error": SORRY}

    def search(self, query: str, k: float) -> tuple[str, Any, str, list[dict[str, Any]]]:
        """(results HTML, citation choices, first formatted citation, results as JSON)."""
        self._heard("search", query)
        try:
            if isinstance(query, str) and len(query) > MAX_INPUT:
                raise AssistantError(f"That search is {len(query):,} characters long; please keep it under {MAX_INPUT:,}.")
            passages = self.assistant.search(query, k=int(k))
        except AssistantError as exc:
            return f"<p>⚠️ {esc(str(exc))}</p>", gr.update(choices=[], value=None), "", []
        except Exception:
            self._failed("search")
            return f"<p>{SORRY}</p>", gr.update(choices=[], value=None), "", []
        self._last = passages
        choices = [f"{i}. {p.title} › {p.section}"[:160] for i, p in enumerate(passages, start=1)]
        first = passages[0].citation() if passages else ""
        return (
            search_html(query, passages),
            gr.update(choices=choices, value=choices[0] if choices else None),
            first,
            [p.to_json() for p in passages],
        )

    def citation_for(self, choice: str | None, results: list[dict[str, Any]]) -> str:
        """The formatted citation (quote, title, section) of the chosen search result, ready to copy."""
        if not choice or not results:
            return ""
        try:
            index = int(choice.split(".", 1)[0]) - 1
            row = results[index]
        except (ValueError, IndexError, TypeError):
            return ""
        where = f", {row['section']}" if row.get("section") else ""
        return f"“{row['text']}” — {row['title']}{where}."

    def evaluation(self) -> tuple[str, str]:
        """The latest evaluation report (Markdown) and its plot (inline, no file serving)."""
        path = latest_report(REPORTS_DIR)
        if path is None:
            return "No evaluation report yet: run `assistant eval`.", ""
        markdown_path, plot_path = path.with_suffix(".md"), path.with_suffix(".png")
        report = markdown_path.read_text(encoding="utf-8") if markdown_path.is_file() else f"Report {path.name}"
        plot = ""
        if plot_path.is_file():
            data = base64.b64encode(Path(plot_path).read_bytes()).decode("ascii")
            plot = f'<img alt="hit@k and per-kind hit@5" style="max-width:100%" src="data:image/png;base64,{data}">'
        return report, plot


def build_app(assistant: Any, log_questions: bool = False) -> gr.Blocks:
    """The Blocks of the app; ``log_questions`` puts each question in the server log (off by default)."""
    handlers = Handlers(assistant, log_questions)
    with gr.Blocks(title="Mutuals in health and social care — report assistant") as app:
        gr.Markdown(
            "## Mutuals in health and social care — report assistant\n"
            "Answers come only from *Our Mutual Interest in Health and Social Care* (DCMS, 2019) and its companion "
            "pages. Every sentence cites the passage it comes from; open a source number to see the quoted span."
        )
        with gr.Tab("Ask"):
            with gr.Row():
                with gr.Column(scale=3):
                    sources = gr.HTML(sources_html(None), render=False, elem_id="sources")
                    gr.ChatInterface(
                        fn=handlers.chat,
                        chatbot=gr.Chatbot(height=640, label="Conversation", elem_id="chat", buttons=["copy"]),
                        textbox=gr.Textbox(
                            placeholder="Ask about the reports…", max_length=MAX_INPUT, elem_id="question", submit_btn=True
                        ),
                        additional_outputs=[sources],
                        examples=EXAMPLES,
                        api_name="chat",
                        fill_height=False,
                    )
                with gr.Column(scale=2):
                    gr.Markdown("### Sources for the current answer")
                    sources.render()
        with gr.Tab("Search passages"):
            with gr.Row():
                query = gr.Textbox(label="Search the reports", max_length=MAX_INPUT, elem_id="search-query", scale=4)
                k = gr.Slider(1, 20, value=5, step=1, label="Passages", scale=1)
            run = gr.Button("Search", variant="primary", elem_id="search-button")
            results = gr.HTML(elem_id="search-results")
            with gr.Row():
                choice = gr.Radio(label="Cite a result", choices=[], elem_id="search-choice")
                citation = gr.Textbox(
                    label="Formatted citation (title, section, quote)", buttons=["copy"], lines=4, elem_id="citation"
                )
            raw = gr.JSON(visible=False)
            outputs = [results, choice, citation, raw]
            run.click(handlers.search, [query, k], outputs, api_name="search", concurrency_limit=4)
            query.submit(handlers.search, [query, k], outputs, api_visibility="private")
            choice.change(handlers.citation_for, [choice, raw], citation, api_visibility="private")
            gr.api(handlers.ask, api_name="ask", concurrency_limit=4)
        with gr.Tab("Evaluation"):
            report_md = gr.Markdown()
            plot = gr.HTML()
            refresh = gr.Button("Reload the latest report")
            refresh.click(handlers.evaluation, None, [report_md, plot], api_visibility="private")
            app.load(handlers.evaluation, None, [report_md, plot], api_visibility="private")
    app.queue(default_concurrency_limit=4, max_size=64)
    return app
