"""The public entry point: ``Assistant.load()`` then ``search`` (and ``ask``, ``document``)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

from assistant.answers.extractive import ExtractiveAnswerer
from assistant.answers.followup import FollowUpRewriter
from assistant.answers.llm import LLMAnswerer
from assistant.answers.refusal import RefusalPolicy
from assistant.answers.types import REFUSAL_TEXT, Answer
from assistant.config import Settings
from assistant.corpus import Document
from assistant.errors import AssistantError, IndexCorrupt, IndexMissing, IndexStale
from assistant.index.embedder import Embedder, SentenceTransformerEmbedder
from assistant.index.store import IndexData, build_index, open_index
from assistant.passage import Passage
from assistant.retrieval.hybrid import FusionSettings, HybridRetriever
from assistant.retrieval.query import clean_history, clean_query

Notify = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Assistant:
    """Retrieval (and answers) over the bundled reports.

    >>> a = Assistant.load()
    >>> a.search("how many mutuals are there in health and social care?", k=3)[0].section
    """

    def __init__(self, settings: Settings, embedder: Embedder, index: IndexData, load_seconds: float = 0.0):
        self.settings = settings
        self.embedder = embedder
        self.index = index
        self.load_seconds = load_seconds
        self.retriever = HybridRetriever(
            index.passages,
            index.vectors,
            embedder,
            FusionSettings(candidates=settings.candidates, rrf_k=settings.rrf_k),
            index.sentences,
            index.sentence_vectors,
            {doc_id: doc.kind for doc_id, doc in index.documents.items()},
        )
        glossary = self.retriever.glossary.pairs
        self.rewriter = FollowUpRewriter(index.passages, [*glossary.values(), *glossary.keys()])
        self.extractive = ExtractiveAnswerer(self.retriever)
        self.refusal = RefusalPolicy(min_cosine=settings.refusal_min_cosine)
        self._llm: LLMAnswerer | None = None

    @classmethod
    def load(
        cls,
        settings: Settings | None = None,
        *,
        rebuild: bool = False,
        notify: Notify = _stderr,
        progress: bool = False,
        embedder: Embedder | None = None,
    ) -> Assistant:
        """Load ``index/``, building it when missing and rebuilding it when stale or damaged.

        Raises CorpusError or ModelMissing (both AssistantError) when that cannot be done; an existing
        index is never touched by a failed build.
        """
        started = time.perf_counter()
        settings = settings or Settings.from_env()
        embedder = embedder or SentenceTransformerEmbedder(settings.model, settings.batch_size)
        if rebuild:
            notify("Rebuilding the index as asked…")
            data = build_index(settings, embedder, notify, progress=progress)
        else:
            try:
                data = open_index(settings, embedder)
            except IndexMissing:
                notify("No index yet: building it from the corpus…")
                data = build_index(settings, embedder, notify, progress=progress)
            except IndexStale as exc:
                notify(f"The index is out of date ({exc}): rebuilding it…")
                data = build_index(settings, embedder, notify, progress=progress)
            except IndexCorrupt as exc:
                notify(f"The index is damaged ({exc}): rebuilding it…")
                data = build_index(settings, embedder, notify, progress=progress)
        return cls(settings, embedder, data, load_seconds=time.perf_counter() - started)

    @property
    def passages(self) -> list[Passage]:
        return self.index.passages

    def document(self, doc_id: str) -> Document:
        try:
            return self.index.documents[doc_id]
        except KeyError:
            raise AssistantError(f"There is no document '{doc_id}'.") from None

    @property
    def documents(self) -> list[Document]:
        return list(self.index.documents.values())

    def search(self, query: str, k: int = 5, history: list[dict[str, str]] | None = None) -> list[Passage]:
        """Passages that answer ``query``, best first, each a span-exact quote of its document.

        ``history`` (Gradio message dicts) lets a follow-up lean on earlier turns.
        Raises BadQuestion for empty or over-long queries, BadHistory for a history that is not a list.
        """
        text = clean_query(query, self.settings.max_query_chars)
        messages = clean_history(history, self.settings.max_history_turns)
        standalone = self.standalone_query(text, messages)
        k = max(1, min(int(k), 50))
        return self.retriever.search(standalone, k)

    def standalone_query(self, question: str, history: list[dict[str, str]]) -> str:
        """The question rewritten to stand alone given the conversation (unchanged when it already does)."""
        return self.rewriter.rewrite(question, history).query if history else question

    ANSWER_PASSAGES = 6

    @property
    def llm(self) -> LLMAnswerer | None:
        """The optional LLM answerer, when ASSISTANT_LLM_URL (or --llm-url) configures one."""
        if self._llm is None and self.settings.llm_url:
            self._llm = LLMAnswerer(self.settings)
        return self._llm

    def ask(self, question: str, history: list[dict[str, str]] | None = None) -> Answer:
        """A short answer whose every sentence cites the passage it comes from, or an honest refusal.

        Extractive (offline, verbatim) by default; with an LLM configured, the LLM writes the answer
        and its citations are checked in code, falling back to the extractive answer when they fail.
        """
        text, query, llm = self._read(question, history)
        return self.answer_query(text, query, llm=llm)

    def _read(self, question: str, history: list[dict[str, str]] | None) -> tuple[str, str, LLMAnswerer | None]:
        """Validated question, the standalone query it stands for (LLM-condensed when one is on), the LLM."""
        text = clean_query(question, self.settings.max_query_chars)
        messages = clean_history(history, self.settings.max_history_turns)
        query = self.standalone_query(text, messages)
        llm = self.llm
        if llm is not None and messages:
            query = llm.condense(text, messages, fallback=query)
        return text, query, llm

    def answer_query(self, question: str, query: str, llm: LLMAnswerer | None = None) -> Answer:
        passages, vector = self.retriever.search_with_vector(query, self.ANSWER_PASSAGES)
        scored = self.extractive.score_sentences(query, vector, passages)
        if self.refusal.refuse(self.extractive.evidence(query, scored)):
            return Answer(question, REFUSAL_TEXT, [], True, query, passages=passages[:3])
        chosen = self.extractive.select(query, scored, passages)
        body, citations = self.extractive.compose(query, chosen, passages)
        extractive = Answer(question, body, citations, False, query, passages=passages)
        if llm is None:
            return extractive
        return llm.answer(question, query, passages, fallback=extractive)

    def ask_stream(self, question: str, history: list[dict[str, str]] | None = None) -> Iterator[str | Answer]:
        """Like ``ask``, but with an LLM configured yields its text as it arrives, then the checked Answer."""
        text, query, llm = self._read(question, history)
        if llm is None:
            yield self.answer_query(text, query)
            return
        extractive = self.answer_query(text, query)
        if extractive.refused:
            yield extractive
            return
        yield from llm.stream(text, query, extractive.passages, fallback=extractive)

    def as_retriever(self, k: int = 5):  # type: ignore[no-untyped-def]
        """A LangChain ``BaseRetriever`` over this assistant's search."""
        from assistant.retrieval.langchain import AssistantRetriever

        return AssistantRetriever(assistant=self, k=k)

    def with_settings(self, **changes: object) -> Assistant:
        """The same loaded index and model under other retrieval settings (for evaluation and tuning)."""
        return Assistant(replace(self.settings, **changes), self.embedder, self.index, self.load_seconds)  # type: ignore[arg-type]
