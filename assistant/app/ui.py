"""``build_app(assistant)``: the Gradio Blocks, separate from launching so the page can be built in tests.

Tabs: Ask (the cited chat, 👍/👎 with a comment, a briefing note to download, the current answer's sources),
Search passages (full references to copy, house style or Harvard), Library (documents and their counts; adding
files when uploads are on and a login is set) and Evaluation (the latest report for people). Endpoints for
scripts (gradio_client): ``/ask`` (message, history → the answer as JSON) and ``/search`` (query, k, style →
results HTML, choices, citation).
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from assistant.app import render
from assistant.app.handlers import NOTE_FORMATS, Handlers
from assistant.app.session import Session
from assistant.config import AppSettings

# Runs in the browser on every keystroke: how long the question is, and a warning before sending when it is
# over the limit (the box never cuts a paste).
COUNTER_JS = """
(text) => {
  const limit = %d;
  const n = (text || "").length;
  if (n === 0) return "";
  const fmt = (v) => v.toLocaleString("en-GB");
  if (n > limit) return `<span class="over">${fmt(n)} / ${fmt(limit)} characters: too long to send; please shorten it.</span>`;
  return n > limit * 0.8 ? `${fmt(n)} / ${fmt(limit)} characters` : "";
}
"""


def build_app(assistant: Any, settings: AppSettings | None = None, *, uploads: bool = False) -> gr.Blocks:
    """The app's page. ``uploads`` shows the Library's file input (the launcher allows it only with a login)."""
    settings = settings or AppSettings()
    handlers = Handlers(assistant, settings, uploads=uploads)
    profile = getattr(assistant, "profile", None)
    title = getattr(profile, "title", "Report assistant")
    description = getattr(profile, "description", "")
    examples = list(getattr(profile, "examples", ()))
    with gr.Blocks(title=title, delete_cache=(3600, 3600)) as app:
        gr.Markdown(
            f"## {title}\n{description} Every sentence of an answer cites the passage it comes from; open a source "
            "number to see the quoted span and its full reference."
        )
        warnings = list(getattr(assistant, "warnings", []))
        gr.HTML("".join(render.notice_html(w) for w in warnings), visible=bool(warnings), elem_id="warnings")
        with gr.Tab("Ask", elem_id="tab-ask"):
            chat_state = gr.State(Session())
            with gr.Row():
                with gr.Column(scale=3):
                    chatbot = gr.Chatbot(
                        elem_id="chat",
                        show_label=False,
                        height=560,
                        latex_delimiters=[],
                        sanitize_html=True,
                        render_markdown=True,
                        feedback_options=("Like", "Dislike"),
                        buttons=[],  # a message's copy would copy its HTML: the note and the search tab give clean text
                        placeholder="Ask a question about the reports. Answers quote the reports and cite each passage.",
                    )
                    status = gr.HTML(elem_id="status")
                    question = gr.Textbox(
                        elem_id="question",
                        show_label=False,
                        placeholder="Ask about the reports… (Enter sends)",
                        submit_btn=True,
                        lines=1,
                        max_lines=6,
                    )
                    counter = gr.HTML(elem_id="counter")
                    with gr.Row(visible=False, elem_id="comment-row") as comment_row:
                        comment = gr.Textbox(
                            label="Comment on this answer (optional): what was good, wrong or missing?",
                            elem_id="comment",
                            scale=4,
                            lines=2,
                        )
                        send_comment = gr.Button("Send comment", elem_id="send-comment", scale=1)
                    if examples:
                        gr.Examples(examples=[[e] for e in examples], inputs=[question], label="Examples")
                    with gr.Row():
                        clear = gr.Button("New conversation", elem_id="clear", variant="secondary")
                        note_format = gr.Radio(
                            list(NOTE_FORMATS), value=next(iter(NOTE_FORMATS)), show_label=False, elem_id="note-format"
                        )
                        save = gr.Button("Save as note", elem_id="save-note")
                    note_file = gr.File(label="Briefing note", visible=False, elem_id="note-file", interactive=False)
                with gr.Column(scale=2):
                    gr.Markdown("### Sources for the current answer")
                    sources = gr.HTML(render.sources_html(None), elem_id="sources")
            chat_outputs = [chatbot, chat_state, sources, status, question]
            question.submit(
                handlers.respond,
                [question, chatbot, chat_state],
                chat_outputs,
                api_visibility="private",
                concurrency_limit=4,
                show_progress="hidden",
            )
            # on every change (typing, a paste, an example, the box emptied after sending), not only on typing
            question.change(None, [question], [counter], js=COUNTER_JS % settings.max_input_chars)
            cleared = [chatbot, chat_state, sources, status, question, note_file, comment_row]
            clear.click(handlers.clear, None, cleared, api_visibility="private")
            chatbot.clear(handlers.clear, None, cleared, api_visibility="private")
            chatbot.like(handlers.rate, [chat_state], [chat_state, status, comment_row], api_visibility="private")
            send_comment.click(handlers.comment, [comment, chat_state], [status, comment, comment_row], api_visibility="private")
            comment.submit(handlers.comment, [comment, chat_state], [status, comment, comment_row], api_visibility="private")
            save.click(handlers.save_note, [note_format, chat_state], [note_file, status], api_visibility="private")
        with gr.Tab("Search", elem_id="tab-search"):
            search_state = gr.State(Session())
            with gr.Row():
                query = gr.Textbox(label="Search the reports", elem_id="search-query", scale=4)
                k = gr.Slider(1, 20, value=5, step=1, label="Passages", scale=1, elem_id="search-k")
            with gr.Row():
                run = gr.Button("Search", variant="primary", elem_id="search-button")
                style = gr.Radio(list(render.STYLES.values()), value="House style", label="Citation style", elem_id="style")
            results = gr.HTML(elem_id="search-results")
            choice = gr.Radio(label="Cite a result", choices=[], elem_id="search-choice")
            citation = gr.Textbox(
                label="Full reference with the quote, ready to paste", buttons=["copy"], lines=4, elem_id="citation"
            )
            outputs = [results, choice, citation, search_state]
            run.click(handlers.search, [query, k, style, search_state], outputs, api_name="search", concurrency_limit=4)
            query.submit(handlers.search, [query, k, style, search_state], outputs, api_visibility="private")
            choice.change(handlers.cite, [choice, style, search_state], citation, api_visibility="private")
            style.change(handlers.cite, [choice, style, search_state], citation, api_visibility="private")
            gr.api(handlers.ask, api_name="ask", concurrency_limit=4)
        with gr.Tab("Library", elem_id="tab-library"):
            library = gr.HTML(elem_id="library")
            reload_library = gr.Button("Reload", elem_id="reload-library", size="sm")
            reload_library.click(handlers.library, None, library, api_visibility="private")
            if uploads:
                gr.Markdown(
                    f"Add reports (PDF, Word, web pages, Markdown or text; up to {settings.max_upload_mb} MB each). "
                    "They are checked by content, added to the library and indexed; search sees them at once."
                )
                files = gr.File(file_count="multiple", label="Reports to add", elem_id="upload", type="filepath")
                add = gr.Button("Add to the library", variant="primary", elem_id="add-files")
                added = gr.HTML(elem_id="upload-status")
                add.click(handlers.upload, [files], [added, library], api_visibility="private", concurrency_limit=1)
            else:
                gr.Markdown("To add a report: `assistant add FILE` on the server (see the README's guide for staff).")
        with gr.Tab("Evaluation", elem_id="tab-evaluation"):
            evaluation = gr.HTML(elem_id="evaluation")
            reload_eval = gr.Button("Reload the latest report", size="sm")
            reload_eval.click(handlers.evaluation, None, evaluation, api_visibility="private")
        app.load(handlers.library, None, library, api_visibility="private")
        app.load(handlers.evaluation, None, evaluation, api_visibility="private")
    app.queue(default_concurrency_limit=4, max_size=128)
    return app
