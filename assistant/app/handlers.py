"""What the app does, callable without a server: tests call these methods directly, ``ui`` wires them to Gradio.

Each visitor's conversation, search results and request count live in their ``Session`` (a ``gr.State``);
the handlers hold only what every visitor shares (the assistant, the settings). Questions stay out of the
server log unless ``log_questions``: a failure is logged by its type and place, since an exception's message
may quote the question. No exception reaches the page.
"""

from __future__ import annotations

import logging
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import gradio as gr

from assistant import feedback
from assistant.answers.types import Answer
from assistant.app import render
from assistant.app.session import RateLimit, Session, Turn, wait_message
from assistant.config import AppSettings
from assistant.corpus.document import Document
from assistant.errors import AssistantError
from assistant.evaluation.report import REPORTS_DIR, latest_report

log = logging.getLogger("assistant.app")

SORRY = "Something went wrong while answering. Please try again or rephrase the question."
EMPTY_HINT = "Type a question first, for example one of the examples below."
PENDING = '<div class="pending">Searching the reports…</div>'
NOTE_FORMATS = {"Word (.docx)": ".docx", "Markdown (.md)": ".md"}
NOTE_MAX_AGE = 3600.0  # notes written for download are removed an hour later

Chat = list[dict[str, Any]]


def _status(text: str, kind: str = "warning") -> str:
    return render.notice_html(text, kind) if text else ""


class Handlers:
    """The app's behaviour. ``settings`` bound input size, request rate and uploads."""

    def __init__(self, assistant: Any, settings: AppSettings | None = None, *, uploads: bool = False):
        self.assistant = assistant
        self.settings = settings or AppSettings()
        self.uploads = uploads
        self.api_rate = RateLimit(self.settings.rate_per_minute)
        self._reload = threading.Lock()
        self._notes = Path(tempfile.mkdtemp(prefix="assistant-notes-"))

    # ---- shared helpers ---------------------------------------------------------------------------------

    @property
    def log_questions(self) -> bool:
        return self.settings.log_questions

    def _heard(self, kind: str, text: object) -> None:
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

    def _fresh(self) -> None:
        """Serve the newest published index (a report added with `assistant add` while the app runs)."""
        refresh = getattr(self.assistant, "refresh", None)
        if refresh is None:
            return
        with self._reload:
            try:
                refresh()
            except Exception:
                self._failed("reloading the index")

    def document_of(self, doc_id: str) -> Document | None:
        try:
            return self.assistant.document(doc_id)  # type: ignore[no-any-return]
        except Exception:
            return None

    def _too_long(self, text: str) -> str:
        limit = self.settings.max_input_chars
        if len(text) > limit:
            return f"That is {len(text):,} characters; the limit is {limit:,}. Please shorten it: nothing was sent."
        return ""

    # ---- chat -------------------------------------------------------------------------------------------

    def respond(self, message: str, chat: Chat | None, session: Session | None) -> Iterator[tuple[Any, ...]]:
        """Yield (chat, session, sources, status, question box) as the answer is made.

        An empty, over-long or too-frequent message changes nothing but the status line: no bubbles, the
        text stays in the box, and it never enters the conversation.
        """
        session = session if isinstance(session, Session) else Session()
        chat = list(chat or [])
        text = message if isinstance(message, str) else ""
        self._heard("chat", text)
        if not text.strip():
            yield gr.skip(), session, gr.skip(), _status(EMPTY_HINT, "info"), gr.skip()
            return
        problem = self._too_long(text)
        wait = 0.0 if problem else session.allow(self.settings.rate_per_minute)
        if problem or wait:
            yield gr.skip(), session, gr.skip(), _status(problem or wait_message(wait)), gr.skip()
            return
        self._fresh()
        chat.append({"role": "user", "content": render.question_html(text)})
        yield [*chat, {"role": "assistant", "content": PENDING}], session, gr.skip(), "", ""
        try:
            final: Answer | None = None
            for part in self.assistant.ask_stream(text, history=session.history()):
                if isinstance(part, str):
                    partial = f'<div class="answer-message"><p>{render.esc(part)}</p><p class="understood">(checking citations…)</p></div>'
                    yield [*chat, {"role": "assistant", "content": partial}], session, gr.skip(), "", ""
                else:
                    final = part
            if final is None:
                raise RuntimeError("the answerer gave no answer")
        except AssistantError as exc:
            chat.pop()  # a refused message leaves no trace in the conversation
            yield chat, session, gr.skip(), _status(str(exc)), text
            return
        except Exception:  # never a traceback, a path or a prompt on the page
            self._failed("chat")
            chat.pop()
            yield chat, session, gr.skip(), _status(SORRY), text
            return
        chat.append({"role": "assistant", "content": render.answer_html(final, self.document_of)})
        session.turns.append(Turn(text, final, len(chat) - 1))
        yield chat, session, render.sources_html(final, self.document_of), "", ""

    def clear(self) -> tuple[Any, ...]:
        """A new conversation: no messages, no sources, no follow-up context, no note."""
        return [], Session(), render.sources_html(None), "", "", gr.update(value=None, visible=False), gr.update(visible=False)

    # ---- feedback ---------------------------------------------------------------------------------------

    def rate(self, session: Session | None, data: gr.LikeData, request: gr.Request | None = None) -> tuple[Any, ...]:
        """👍/👎 on an answer: recorded at once; a box for an optional comment opens."""
        session = session if isinstance(session, Session) else Session()
        index = data.index if isinstance(data.index, int) else data.index[0]
        turn = session.turn_at(index)
        if turn is None or data.liked not in (True, False):
            return session, gr.skip(), gr.skip()
        rating: feedback.Rating = "up" if data.liked else "down"
        try:
            entry = feedback.record(
                self.assistant.settings.data_dir,
                question=turn.question,
                answer=turn.answer,
                rating=rating,
                session=_session_id(request),
                amends=turn.feedback,  # rating the same answer again replaces the earlier rating
            )
        except AssistantError as exc:
            return session, _status(str(exc)), gr.update(visible=False)
        turn.feedback, turn.rating = entry["id"], rating
        session.rated = index
        thanks = "Thank you: noted as helpful." if rating == "up" else "Thank you: noted as not helpful."
        return session, _status(f"{thanks} Add a comment below if you like.", "info"), gr.update(visible=True)

    def comment(self, text: str, session: Session | None, request: gr.Request | None = None) -> tuple[Any, ...]:
        """The comment on the last rated answer, kept with its rating."""
        session = session if isinstance(session, Session) else Session()
        turn = session.turn_at(session.rated)
        if turn is None or not turn.feedback:
            return _status("Rate an answer with 👍 or 👎 first."), gr.skip(), gr.skip()
        if not isinstance(text, str) or not text.strip():
            return _status("The comment is empty: nothing was added.", "info"), gr.skip(), gr.skip()
        if len(text) > feedback.MAX_COMMENT:
            return _status(f"Please keep the comment under {feedback.MAX_COMMENT:,} characters."), gr.skip(), gr.skip()
        rating: feedback.Rating = "down" if turn.rating == "down" else "up"
        try:
            entry = feedback.record(
                self.assistant.settings.data_dir,
                question=turn.question,
                answer=turn.answer,
                rating=rating,
                comment=text,
                session=_session_id(request),
                amends=turn.feedback,
            )
        except AssistantError as exc:
            return _status(str(exc)), gr.skip(), gr.skip()
        turn.feedback = entry["id"]
        return _status("Thank you: your comment was saved with the rating.", "info"), "", gr.update(visible=False)

    # ---- briefing note ----------------------------------------------------------------------------------

    def save_note(self, choice: str, session: Session | None) -> tuple[Any, ...]:
        """The conversation's answers as a briefing note to download (Word or Markdown)."""
        from assistant.notes import write_note

        session = session if isinstance(session, Session) else Session()
        if not session.turns:
            return gr.update(value=None, visible=False), _status("Ask a question first: the note holds the answers.", "info")
        suffix = NOTE_FORMATS.get(choice, ".docx")
        self._prune_notes()
        folder = Path(tempfile.mkdtemp(dir=self._notes))
        path = folder / f"briefing-note-{date.today().isoformat()}{suffix}"
        try:
            write_note([t.answer for t in session.turns], path, self.assistant)
        except AssistantError as exc:
            return gr.update(value=None, visible=False), _status(str(exc))
        except Exception:
            self._failed("note")
            return gr.update(value=None, visible=False), _status("The note could not be written. Please try again.")
        count = len(session.turns)
        return gr.update(value=str(path), visible=True), _status(
            f"Note with {count} question{'s' if count != 1 else ''} ready: download it below.", "info"
        )

    def _prune_notes(self) -> None:
        now = time.time()
        for folder in self._notes.glob("*"):
            try:
                if now - folder.stat().st_mtime > NOTE_MAX_AGE:
                    for item in folder.iterdir():
                        item.unlink(missing_ok=True)
                    folder.rmdir()
            except OSError:
                continue

    # ---- search -----------------------------------------------------------------------------------------

    def search(self, query: str, k: float, style: str, session: Session | None) -> tuple[Any, ...]:
        """(results HTML, picker, citation of the first result, session)."""
        session = session if isinstance(session, Session) else Session()
        self._heard("search", query)
        none = gr.update(choices=[], value=None)
        text = query if isinstance(query, str) else ""
        problem = self._too_long(text)
        wait = 0.0 if problem else session.allow(self.settings.rate_per_minute)
        if problem or wait:
            return _status(problem or wait_message(wait)), gr.skip(), gr.skip(), session
        self._fresh()
        try:
            passages = self.assistant.search(text, k=int(k))
        except AssistantError as exc:
            session.results, session.query = [], ""
            return _status(str(exc), "info"), none, "", session
        except Exception:
            self._failed("search")
            return _status(SORRY), none, "", session
        session.results, session.query = passages, text
        labels = render.choice_labels(passages)
        choices = [(label, str(i)) for i, label in enumerate(labels)]
        return (
            render.search_html(text, passages, self.document_of),
            gr.update(choices=choices, value="0" if choices else None),
            self.cite("0", style, session),
            session,
        )

    def cite(self, choice: str | None, style: str, session: Session | None) -> str:
        """The full reference of the chosen result, quoting it, in the chosen style; ready to copy."""
        if not isinstance(session, Session) or choice is None:
            return ""
        try:
            passage = session.results[int(choice)]
        except (ValueError, IndexError, TypeError):
            return ""
        key = "harvard" if str(style).lower().startswith("harvard") else "house"
        return render.citation_text(passage, self.document_of(passage.doc_id), key)

    # ---- API for scripts --------------------------------------------------------------------------------

    def ask(self, message: str, history: list[dict[str, str]] | None = None, request: gr.Request | None = None) -> dict[str, Any]:
        """The answer as JSON (text, state, citations, query, sources); ``{"error": …}`` instead of raising."""
        self._heard("ask", message)
        problem = self._too_long(message) if isinstance(message, str) else ""
        if problem:
            return {"error": problem}
        wait = self.api_rate.allow(_session_id(request))
        if wait:
            return {"error": wait_message(wait)}
        self._fresh()
        try:
            return dict(self.assistant.ask(message, history=history).to_json())
        except AssistantError as exc:
            return {"error": str(exc)}
        except Exception:
            self._failed("ask")
            return {"error": SORRY}

    # ---- library and evaluation -------------------------------------------------------------------------

    def library(self) -> str:
        from assistant.library import library_rows

        self._fresh()
        try:
            rows = library_rows(self.assistant.settings)
        except AssistantError as exc:
            return render.notice_html(str(exc))
        except Exception:
            self._failed("library")
            return render.notice_html("The library cannot be shown right now.")
        return render.library_html(rows, list(getattr(self.assistant, "warnings", [])))

    def upload(self, files: list[str] | None, request: gr.Request | None = None) -> tuple[str, str]:
        """Add uploaded files to the library (uploads on and logged in only); (status, library)."""
        from assistant.api import Assistant
        from assistant.corpus.load import ParseCache
        from assistant.library import add_files

        if not self.uploads or request is None or not getattr(request, "username", None):
            return _status("Adding reports from the browser is switched off."), self.library()
        if not files:
            return _status("Choose one or more files first.", "info"), self.library()
        settings = self.assistant.settings
        existing = {d.id: d for d in self.assistant.documents}
        try:
            added, refused = add_files(
                settings.corpus_dir,
                [Path(f) for f in files],
                existing=existing,
                max_bytes=self.settings.max_upload_mb * 1_000_000,
                cache=ParseCache(settings.index_dir / "parsed"),
            )
            if added:
                fresh = Assistant.load(settings, embedder=self.assistant.embedder, notify=lambda _: None)
                warnings = list(fresh.warnings)
                self._fresh()
            else:
                warnings = []
        except AssistantError as exc:
            return _status(str(exc)), self.library()
        except Exception:
            self._failed("upload")
            return _status("The files could not be added. Please try again."), self.library()
        lines = [f"Added “{a.entry.title}” ({a.document.kind})." for a in added]
        lines += [f"Not added: {message}" for message in refused]
        lines += warnings
        kind = "warning" if refused or warnings else "info"
        return "".join(_status(line, kind) for line in lines), self.library()

    def evaluation(self) -> str:
        """The latest evaluation report: retrieval and answers for each split side by side, and its plot."""
        path = latest_report(REPORTS_DIR)
        if path is None:
            return render.notice_html("No evaluation report yet: run `assistant eval`.", "info")
        try:
            return render.evaluation_html(path)
        except Exception:
            self._failed("evaluation")
            return render.notice_html(f"The report {path.name} cannot be read; run `assistant eval` again.")


def _session_id(request: gr.Request | None) -> str:
    return str(getattr(request, "session_hash", "") or "")
