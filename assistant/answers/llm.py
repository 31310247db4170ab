"""The optional LLM answerer: any OpenAI-compatible endpoint through LangChain, its output checked in code.

Passages go in numbered and delimited, stripped of links, images and instruction-like sentences (the
retrieved text is data, never instructions). What comes back is checked sentence by sentence before anyone
sees it: a sentence is kept only if it cites a passage that exists and supports it — most of its content
words, every figure and every name it states are in that passage — and it gives no instruction and carries
no link or markup. An answer left without a valid citation, an error or a timeout falls back to the
extractive answer with a note saying so. Streaming shows only sentences that have passed.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any

from assistant.answers.base import Answerer, register
from assistant.answers.safety import IMAGE, INJECTION, LINK, TAG, URL
from assistant.answers.types import REFUSAL_TEXT, Answer, Citation
from assistant.config import LLMSettings
from assistant.passage import Passage
from assistant.retrieval.bm25 import content_terms
from assistant.retrieval.hits import Hits

_MARKER = re.compile(r"\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")
_SENTENCE_END = re.compile(r"[.!?](?:\s*\[\d{1,3}(?:\s*,\s*\d{1,3})*\])*\s+")
_FIGURE = re.compile(r"\d+(?:[.,]\d+)*")
_WORD = re.compile(r"[A-Za-z][\w’'-]*")
MIN_SUPPORT = 0.6
MAX_QUERY_CHARS = 400


def _prompt(name: str) -> str:
    return resources.files("assistant.answers").joinpath(f"prompts/{name}.txt").read_text(encoding="utf-8")


def sanitise_passage(text: str) -> str:
    """Passage text as the LLM sees it: no images, links, URLs, tags or sentences that read as instructions."""
    text = IMAGE.sub(" ", text)
    text = LINK.sub(r"\1", text)
    text = URL.sub(" ", TAG.sub(" ", text))
    kept = [s for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip() and not INJECTION.search(s)]
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


def supported(claim: str, passage: str) -> bool:
    """The passage supports the claim: most of its content words, all its figures and names are in it."""
    words = content_terms(claim)
    if not words or len(words & content_terms(passage)) / len(words) < MIN_SUPPORT:
        return False
    if any(figure not in passage for figure in _FIGURE.findall(claim)):
        return False
    folded = passage.casefold()
    return all(name.casefold() in folded for name in _names(claim))


def _names(claim: str) -> list[str]:
    """Capitalised words that do not open the sentence or follow a colon: names, which must be in the passage."""
    names = []
    for i, match in enumerate(_WORD.finditer(claim)):
        word = match.group(0)
        before = claim[: match.start()].rstrip()
        if i > 0 and word[0].isupper() and word[1:2].islower() and not before.endswith((":", ".", "!", "?", "“", '"')):
            names.append(word)
    return names


def verify(raw: str, passages: list[Passage]) -> Checked:
    """Keep only sentences that cite an existing passage which supports them; renumber citations 1..m."""
    raw = IMAGE.sub(" ", raw)
    raw = LINK.sub(r"\1", raw)
    raw = TAG.sub(" ", raw)
    kept: list[tuple[str, list[int]]] = []
    dropped = 0
    for sentence in (s.strip() for s in split_sentences(raw)):
        if not sentence:
            continue
        cited = [int(n) for group in _MARKER.findall(sentence) for n in group.split(",")]
        valid = sorted({n for n in cited if 1 <= n <= len(passages)})
        claim = re.sub(r"\s+([.,;:!?])", r"\1", " ".join(_MARKER.sub(" ", sentence).split()))
        unsafe = INJECTION.search(claim) or URL.search(claim)
        backing = [n for n in valid if supported(claim, passages[n - 1].text)]
        if unsafe or not backing or len(claim.split()) < 3:
            dropped += 1
            continue
        kept.append((claim, backing))
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


def split_sentences(raw: str) -> list[str]:
    """Sentences with their citation markers (which may follow the full stop: "… in 2019. [2]")."""
    out, cursor = [], 0
    for match in _SENTENCE_END.finditer(raw):
        out.append(raw[cursor : match.end()])
        cursor = match.end()
    out.append(raw[cursor:])
    return [piece for chunk in out for piece in chunk.split("\n")]


def _history_text(history: list[dict[str, str]]) -> str:
    return "\n".join(f"{m['role']}: {m['content'][:600]}" for m in history[-6:])


@register
class LLMAnswerer(Answerer):
    """Answers through a chat model at an OpenAI-compatible URL (Ollama, vLLM, llama.cpp server, hosted APIs)."""

    name = "llm"

    def __init__(self, settings: LLMSettings, fallback: Answerer, chat: Any | None = None):
        self.settings = settings
        self.fallback = fallback
        if chat is None:
            from langchain_openai import ChatOpenAI

            chat = ChatOpenAI(
                base_url=settings.url,
                model=settings.model or "local-model",
                api_key=settings.api_key or "not-needed",  # type: ignore[arg-type]
                timeout=settings.timeout,
                max_retries=0,
                temperature=0,
                max_tokens=300,  # type: ignore[call-arg]
                # langchain-openai sends this as max_completion_tokens, which local OpenAI-compatible servers
                # (llama.cpp's Python server among them) ignore: they then write until the context is full
                # (2,876 tokens, 111 s, measured). The older name is sent as well.
                extra_body={"max_tokens": 300},
            )
        self.chat = chat

    @staticmethod
    def _messages(system: str, user: str) -> list[tuple[str, str]]:
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

    def _finish(self, raw: str, question: str, hits: Hits, fallback: Answer) -> Answer:
        if REFUSAL_TEXT.rstrip(".").lower() in raw.lower() and not _MARKER.search(raw):
            return replace(fallback, note="The LLM found no answer in the passages; showing the extractive answer.")
        checked = verify(raw, hits.passages)
        if not checked.citations:
            return replace(fallback, note="The LLM answer carried no valid citation; showing the extractive answer.")
        note = f"{checked.dropped} unsupported sentence(s) removed." if checked.dropped else ""
        return Answer(
            question, checked.text, checked.citations, "answered", hits.query, mode="llm", note=note, passages=hits.passages
        )

    def answer(self, question: str, hits: Hits) -> Answer:
        fallback = self.fallback.answer(question, hits)
        if fallback.refused:
            return fallback
        try:
            reply = self.chat.invoke(self.answer_messages(question, hits.passages))
        except Exception as exc:  # down, slow, refused, malformed: the extractive answer stands
            return replace(fallback, note=f"The LLM did not answer ({type(exc).__name__}); showing the extractive answer.")
        return self._finish(str(getattr(reply, "content", "")), question, hits, fallback)

    def stream(self, question: str, hits: Hits) -> Iterator[str | Answer]:
        """Yield the checked answer so far each time a sentence completes and passes, then the final Answer.
        Nothing the model writes is shown before it has been checked."""
        fallback = self.fallback.answer(question, hits)
        if fallback.refused:
            yield fallback
            return
        raw, shown = "", ""
        try:
            for chunk in self.chat.stream(self.answer_messages(question, hits.passages)):
                raw += str(getattr(chunk, "content", ""))
                ends = list(_SENTENCE_END.finditer(raw))
                if not ends:
                    continue
                complete = raw[: ends[-1].end()]
                checked = verify(complete, hits.passages).text
                if checked and checked != shown:
                    shown = checked
                    yield shown
        except Exception as exc:
            yield replace(fallback, note=f"The LLM did not answer ({type(exc).__name__}); showing the extractive answer.")
            return
        yield self._finish(raw, question, hits, fallback)
