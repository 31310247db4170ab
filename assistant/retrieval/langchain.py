"""The hybrid search as a LangChain retriever, for chains and agents built on langchain-core."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever

from assistant.passage import Passage


def to_langchain(passage: Passage) -> LCDocument:
    return LCDocument(
        id=passage.id,
        page_content=passage.text,
        metadata={
            "id": passage.id,
            "doc_id": passage.doc_id,
            "title": passage.title,
            "section": passage.section,
            "start": passage.start,
            "end": passage.end,
            "score": passage.score,
            "kind": passage.kind,
            "also_in": list(passage.also_in),
            "footnotes": list(passage.footnotes),
        },
    )


class AssistantRetriever(BaseRetriever):
    """``Assistant.search`` behind LangChain's retriever interface (``invoke(query)`` → Documents)."""

    assistant: Any
    k: int = 5

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[LCDocument]:
        return [to_langchain(p) for p in self.assistant.search(query, k=self.k)]
