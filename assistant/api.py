"""The public entry point: ``Assistant.load()`` then ``search``, ``ask`` (and ``add``, ``remove``, ``documents``).

Loading never takes the service down for a fault in the library: when a listed document cannot be read,
when the storage cannot be written or when a rebuild would be very large, the last good index keeps serving
and ``Assistant.warnings`` says why and what to do.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

from assistant.answers.base import Answerer
from assistant.answers.extractive import ExtractiveAnswerer
from assistant.answers.followup import FollowUpRewriter
from assistant.answers.types import Answer
from assistant.config import Settings
from assistant.corpus import Document
from assistant.corpus.manifest import read_library
from assistant.corpus.profile import Profile, read_profile
from assistant.errors import (
    AssistantError,
    BadQuestion,
    CorpusError,
    IndexBusy,
    IndexCorrupt,
    IndexMissing,
    IndexStale,
    IndexUnwritable,
    RebuildTooLarge,
)
from assistant.index import store
from assistant.index.build import BuildPlan, expected_settings, plan_build, run_build
from assistant.index.embedder import Embedder, default_embedder
from assistant.passage import Passage
from assistant.retrieval.hits import Hits
from assistant.retrieval.hybrid import HybridRetriever
from assistant.retrieval.query import clean_history, clean_query

Notify = Callable[[str], None]
Confirm = Callable[[BuildPlan], bool]
MAX_K = 50


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def open_index(settings: Settings, embedder: Embedder, allow_stale: bool = False) -> store.IndexData:
    """The current build, verified (IndexMissing, IndexStale, IndexCorrupt otherwise)."""
    build = store.current_build(settings.index_dir)
    manifest = store.read_manifest(build)
    if not allow_stale:
        store.check_fresh(manifest, expected_settings(settings, embedder), settings.corpus_dir)
    elif manifest.get("model") != embedder.name or manifest.get("dimension") != embedder.dimension:
        raise IndexStale("the embedding model changed")
    store.check_artifacts(build, manifest)
    return store.read_build(build, manifest, embedder.dimension)


def _estimate(plan: BuildPlan) -> str:
    minutes = len(plan.missing) / 60 / 60  # about 60 texts a second on two cores
    return f"{len(plan.missing):,} passages and sentences to embed (about {max(1, round(minutes))} min)"


class Assistant:
    """Retrieval and answers over the library's index.

    >>> a = Assistant.load()
    >>> a.search("how many mutuals are there in health and social care?", k=3)[0].section
    """

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        index: store.IndexData,
        load_seconds: float = 0.0,
        warnings: list[str] | None = None,
    ):
        self.settings = settings
        self.embedder = embedder
        self.index = index
        self.load_seconds = load_seconds
        self.warnings = list(warnings or [])
        try:
            self.profile = read_profile(settings.corpus_dir)
        except CorpusError as exc:
            self.profile = Profile()
            self.warnings.append(str(exc))
        self.retriever = HybridRetriever(
            index.passages,
            index.vectors,
            embedder,
            settings.retrieval,
            index.sentences,
            index.sentence_vectors,
            index.documents,
            self.profile,
        )
        glossary = self.retriever.glossary.pairs
        self.rewriter = FollowUpRewriter(index.passages, [*glossary.values(), *glossary.keys()])
        self.extractive = ExtractiveAnswerer(settings.answers)
        self._llm: Answerer | None = None

    # ---- loading ---------------------------------------------------------------------------------------

    @classmethod
    def load(
        cls,
        settings: Settings | None = None,
        *,
        rebuild: bool = False,
        notify: Notify = _stderr,
        progress: bool = False,
        embedder: Embedder | None = None,
        confirm: Confirm | None = None,
    ) -> Assistant:
        """Load the index, building it when missing and rebuilding it when stale or damaged.

        A rebuild embedding more than ``settings.confirm_embeds_over`` texts runs only if ``confirm(plan)``
        says yes. When a rebuild is not possible (a listed document unreadable, storage read-only, another
        build running, not confirmed) the last good index serves and ``warnings`` say why; with no index at
        all the reason is raised (an AssistantError).
        """
        started = time.perf_counter()
        settings = settings or Settings.from_env()
        embedder = embedder or default_embedder(settings)
        warnings: list[str] = []
        with contextlib.suppress(CorpusError):  # a broken library is reported by the build below
            warnings += list(read_library(settings.corpus_dir).stray)
        data: store.IndexData | None = None
        reason = "as asked"
        if not rebuild:
            try:
                data = open_index(settings, embedder)
            except IndexMissing:
                reason = "there is none yet"
            except (IndexStale, IndexCorrupt) as exc:
                reason = str(exc).rstrip(".")
        if data is None:
            data = cls._rebuild(settings, embedder, reason, notify, progress, confirm, warnings)
        return cls(settings, embedder, data, load_seconds=time.perf_counter() - started, warnings=warnings)

    @classmethod
    def _rebuild(
        cls,
        settings: Settings,
        embedder: Embedder,
        reason: str,
        notify: Notify,
        progress: bool,
        confirm: Confirm | None,
        warnings: list[str],
    ) -> store.IndexData:
        previous: store.IndexData | None = None
        try:
            previous = open_index(settings, embedder, allow_stale=True)
        except AssistantError:
            previous = None

        def keep(error: AssistantError) -> store.IndexData:
            if previous is None:
                raise error
            built = previous.manifest.get("built_at", "earlier")
            warnings.append(f"{error} The index built {built} keeps serving.")
            return previous

        try:
            with store.build_lock(settings.index_dir, wait_seconds=settings.lock_wait_seconds):
                plan = plan_build(settings, embedder)
                if plan.faults and previous is not None:
                    warnings.extend(plan.faults)
                    return keep(CorpusError("The library has documents that cannot be read, so the index was not rebuilt."))
                if len(plan.missing) > settings.confirm_embeds_over and not (confirm and confirm(plan)):
                    return keep(
                        RebuildTooLarge(f"The library changed: {_estimate(plan)}. Run `assistant index --yes` to rebuild.")
                    )
                notify(f"Building the index ({reason})…")
                data = run_build(plan, settings, embedder, notify, progress)
                warnings.extend(plan.faults)
                return data
        except (IndexUnwritable, IndexBusy, CorpusError) as exc:
            return keep(exc)

    def refresh(self) -> bool:
        """Serve a build another process published (``assistant add`` while the app runs). True if reloaded."""
        name = store.current_name(self.settings.index_dir)
        if not name or name == self.index.name:
            return False
        try:
            data = open_index(self.settings, self.embedder)
        except AssistantError:
            return False
        self.__init__(self.settings, self.embedder, data, self.load_seconds, self.warnings)  # type: ignore[misc]
        return True

    # ---- reading ---------------------------------------------------------------------------------------

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

    @staticmethod
    def _k(k: object) -> int:
        if isinstance(k, bool) or not isinstance(k, int):
            raise BadQuestion(f"The number of passages must be a whole number from 1 to {MAX_K}.")
        if not 1 <= k <= MAX_K:
            raise BadQuestion(f"The number of passages must be from 1 to {MAX_K} (got {k}).")
        return k

    def retrieve(self, query: str, k: int = 5, history: list[dict[str, str]] | None = None) -> Hits:
        """What retrieval finds for ``query`` (read in the context of ``history``), as one Hits result."""
        text, _, standalone = self._question(query, history)
        return self.retriever.retrieve(standalone, self._k(k), as_asked=text)

    def search(self, query: str, k: int = 5, history: list[dict[str, str]] | None = None) -> list[Passage]:
        """Passages that answer ``query``, best first, each a span-exact quote of its document.

        Raises BadQuestion for an empty or over-long query or a k outside 1–50, BadHistory for a history
        that is not a list.
        """
        text, _, standalone = self._question(query, history)
        return self.retriever.search(standalone, self._k(k), as_asked=text)

    def _question(self, query: str, history: list[dict[str, str]] | None) -> tuple[str, list[dict[str, str]], str]:
        """The query and history checked and cleaned, and the query as it stands alone in that history."""
        text = clean_query(query, self.settings.max_query_chars)
        messages = clean_history(history, self.settings.max_history_turns)
        return text, messages, self.standalone_query(text, messages)

    def standalone_query(self, question: str, history: list[dict[str, str]]) -> str:
        """The question rewritten to stand alone given the conversation (unchanged when it already does)."""
        return self.rewriter.rewrite(question, history).query if history else question

    # ---- answering -------------------------------------------------------------------------------------

    @property
    def llm(self) -> Answerer | None:
        """The optional LLM answerer, when ASSISTANT_LLM_URL (or --llm-url) configures one."""
        if self._llm is None and self.settings.llm.url:
            from assistant.answers.llm import LLMAnswerer

            self._llm = LLMAnswerer(self.settings.llm, fallback=self.extractive)
        return self._llm

    def _read(self, question: str, history: list[dict[str, str]] | None) -> tuple[str, Hits, Answerer]:
        text, messages, query = self._question(question, history)
        answerer = self.llm or self.extractive
        if self.llm is not None and messages:
            query = self.llm.condense(text, messages, fallback=query)  # type: ignore[attr-defined]
        return text, self.retriever.retrieve(query, self.settings.answers.passages, as_asked=text), answerer

    def ask(self, question: str, history: list[dict[str, str]] | None = None) -> Answer:
        """A short answer whose every sentence cites the passage it comes from; or, when the reports give only
        part of what is asked, what is missing and the nearest they say; or an honest refusal."""
        text, hits, answerer = self._read(question, history)
        return answerer.answer(text, hits)

    def ask_stream(self, question: str, history: list[dict[str, str]] | None = None) -> Iterator[str | Answer]:
        """Like ``ask``; with an LLM on, yields checked text as it is ready, then the Answer."""
        text, hits, answerer = self._read(question, history)
        yield from answerer.stream(text, hits)

    def answer_with(self, question: str, hits: Hits) -> Answer:
        """The extractive answer to ``question`` from ``hits`` (evaluation calls this through the boundary)."""
        return self.extractive.answer(question, hits)

    # ---- the rest ------------------------------------------------------------------------------------

    def as_retriever(self, k: int = 5):  # type: ignore[no-untyped-def]
        """A LangChain ``BaseRetriever`` over this assistant's search."""
        from assistant.retrieval.langchain import AssistantRetriever

        return AssistantRetriever(assistant=self, k=k)

    def with_settings(self, settings: Settings) -> Assistant:
        """The same loaded index and model under other retrieval and answer settings (evaluation, ablation)."""
        return Assistant(settings, self.embedder, self.index, self.load_seconds, self.warnings)

    def with_changes(self, **changes: object) -> Assistant:
        return self.with_settings(replace(self.settings, **changes))  # type: ignore[arg-type]

    @property
    def corpus_dir(self) -> Path:
        return self.settings.corpus_dir
