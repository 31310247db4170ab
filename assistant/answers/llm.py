"""The optional LLM answerer: any OpenAI-compatible endpoint through LangChain, its output checked in code.

Passages go in numbered and delimited, stripped of links, images and instruction-like sentences (the
retrieved text is data, never instructions). What comes back is verified sentence by sentence: citation
numbers that do not exist are dropped, a sentence must share most of its content words with a passage it
cites or it is removed, links and images are removed, and an answer left without a valid citation — or an
error, a timeout — falls back to the extractive answer with a note saying so.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any

from assistant.answers.safety import IMAGE, INJECTION, LINK, TAG, URL
from assistant.answers.types import REFUSAL_TEXT, Answer, Citation
from assistant.config import Settings
from assistant.passage import Passage
from assistant.retrieval.bm25 import content_terms

_MARKER = re.compile(r"\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9“\"‘(£-])|\n+")
MIN_SUPPORT = 0.5
MAX_QUERY_CHARS = 400


def _prompt(name: str) -> str:
    return resources.files("assistant.answers").joinpath(f"prompts/{name}.txt").read_text(encoding="utf-8")


def sanitise_passage(text: str) -> str:
    """Passage text as the LLM sees it: no images, links, tags or sentences that read as instructions."""
    text = IMAGE.sub(" ", text)
    text = LINK.sub(r"\1", text)
    text = TAG.sub(" ", text)
    kept = [s for s in _SENTENCE.split(text) if not INJECTION.search(s)]
    return html.escape(" ".join(kept), quote=False)


def format_passages(passages: list[Passage]) -> str:
    return "\n".join(
        f'<passage n="{n}" source="{html.escape(p.title)}" section="{html.escape(p.section)}">\n'
        f"{sanitise_passage(p.text)}\n</passage>"
        for n, p in enumerate(passages, start=1)
    )


@dataclass(frozen=True)
class Checked:
    text: str
    citations: list[Citation]
    dropped: int


def verify(raw: str, passages: list[Passage]) -> Checked:
    """Keep only sentences that cite an existing passage which supports them; renumber citations 1..m."""
    raw = IMAGE.sub(" ", raw)
    raw = LINK.sub(r"\1", raw)
    raw = TAG.sub(" ", URL.sub(" ", raw))
    terms = [content_terms(p.text) for p in passages]
    kept: list[tuple[str, list[int]]] = []
    dropped = 0
    for sentence in (s.strip() for s in _SENTENCE.split(raw)):
        if not sentence:
            continue
        cited = [int(n) for group in _MARKER.findall(sentence) for n in group.split(",")]
        valid = sorted({n for n in cited if 1 <= n <= len(passages)})
        claim = re.sub(r"\s+([.,;:!?])", r"\1", " ".join(_MARKER.sub(" ", sentence).split()))
        words = content_terms(claim)
        supporting = [n for n in valid if words and len(words & terms[n - 1]) / len(words) >= MIN_SUPPORT]
        if not supporting or len(claim.split()) < 3:
            dropped += 1
            continue
        kept.append((claim, supporting))
    order: list[int] = []
    for _, ns in kept:
        order.extend(n for n in ns if n not in order)
    number = {old: new for new, old in enumerate(order, start=1)}
    lines = []
    for claim, ns in kept:
        markers = "".join(f"[{number[n]}]" for n in ns)
        end = claim[-1] if claim[-1] in ".!?" else ""
        lines.append(f"{claim[: len(claim) - len(end)]} {markers}{end}")
    citations = []
    for old in order:
        passage = passages[old - 1]
        citations.append(
            Citation(number[old], passage, passage.start, passage.end, passage.text, ((passage.start, passage.end),))
        )
    return Checked(" ".join(lines), citations, dropped)


def _history_text(history: list[dict[str, str]]) -> str:
    return "\n".join(f"{m['role']}: {m['content'][:600]}" for m in history[-6:])


class LLMAnswerer:
    """Answers through a chat model at an OpenAI-compatible URL (Ollama, vLLM, llama.cpp server, hosted APIs)."""

    def __init__(self, settings: Settings, chat: Any | None = None):
        self.settings = settings
        if chat is None:
            from langchain_openai import ChatOpenAI

            chat = ChatOpenAI(
                base_url=settings.llm_url,
                model=settings.llm_model or "local-model",
                api_key=settings.llm_api_key or "not-needed",  # type: ignore[arg-type]
                timeout=settings.llm_timeout,
                max_retries=0,
                temperature=0,
                max_tokens=300,  # type: ignore[call-arg]
            )
        self.chat = chat

    def _messages(self, system: str, user: str) -> list[tuple[str, str]]:
        return [("system", system), ("human", user)]

    def condense(self, question: str, history: list[dict[str, str]], fallback: str) -> str:
        """LangChain's history-aware pattern: the LLM rewrites a follow-up as a standalone question."""
        try:
            reply = self.chat.invoke(
                self._messages(
                    _prompt("condense_system"),
                    _prompt("condense_user").format(history=_history_text(history), question=question),
                )
            )
        except Exception:  # any failure of the endpoint: keep the offline rewrite
            return fallback
        text = " ".join(str(getattr(reply, "content", "")).split())
        text = TAG.sub(" ", URL.sub(" ", text)).strip()
        if not text or len(text) > MAX_QUERY_CHARS or not any(ch.isalpha() for ch in text):
            return fallback
        return text

    def answer_messages(self, question: str, passages: list[Passage]) -> list[tuple[str, str]]:
        return self._messages(
            _prompt("answer_system"),
            _prompt("answer_user").format(passages=format_passages(passages), question=html.escape(question, quote=False)),
        )

    def _finish(self, raw: str, question: str, query: str, passages: list[Passage], fallback: Answer) -> Answer:
        if REFUSAL_TEXT.rstrip(".").lower() in raw.lower() and not _MARKER.search(raw):
            return replace(fallback, note="The LLM found no answer in the passages; showing the extractive answer.")
        checked = verify(raw, passages)
        if not checked.citations:
            return replace(fallback, note="The LLM answer carried no valid citation; showing the extractive answer.")
        note = f"{checked.dropped} unsupported sentence(s) removed." if checked.dropped else ""
        return Answer(question, checked.text, checked.citations, False, query, mode="llm", note=note, passages=passages)

    def answer(self, question: str, query: str, passages: list[Passage], fallback: Answer) -> Answer:
        try:
            reply = self.chat.invoke(self.answer_messages(question, passages))
        except Exception as exc:  # down, slow, refused, malformed: the extractive answer stands
            return replace(fallback, note=f"The LLM did not answer ({type(exc).__name__}); showing the extractive answer.")
        return self._finish(str(getattr(reply, "content", "")), question, query, passages, fallback)

    def stream(self, question: str, query: str, passages: list[Passage], fallback: Answer) -> Iterator[str | Answer]:
        """Yield the raw text as it arrives, then the verified Answer (which replaces it)."""
        raw = ""
        try:
            for chunk in self.chat.stream(self.answer_messages(question, passages)):
                piece = str(getattr(chunk, "content", ""))
                if piece:
                    raw += piece
                    yield raw
        except Exception as exc:
            yield replace(fallback, note=f"The LLM did not answer ({type(exc).__name__}); showing the extractive answer.")
            return
        yield self._finish(raw, question, query, passages, fallback)
