"""What a user would build in an afternoon, measured in the same run as the project.

* ``langchain-tutorial``: the LangChain RAG tutorial pipeline — raw files, RecursiveCharacterTextSplitter
  (1000 characters, 200 overlap), the same MiniLM embeddings, FAISS similarity search.
* ``bm25-only``: BM25 alone over the project's own passages (no dense retrieval, no expansion).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from langchain_core.embeddings import Embeddings

from assistant.corpus.manifest import read_library
from assistant.passage import Passage
from assistant.retrieval.bm25 import BM25Index


@dataclass(frozen=True)
class Hit:
    """One returned chunk: an id unique within its system, and its text."""

    id: str
    text: str


class System(Protocol):
    name: str

    def retrieve(self, question: str, history: list[dict[str, str]], k: int) -> list[Hit]: ...


def raw_text(path: Path) -> str:
    """A file's text as LangChain's loaders would give it: decoded text, or the PDF's text layer page by page
    (pypdf, as PyPDFLoader), or a Word file's paragraphs (as Docx2txtLoader), or an HTML page's text."""
    data = path.read_bytes()
    if data[:5] == b"%PDF-":
        import pypdf

        return "\n".join(page.extract_text() or "" for page in pypdf.PdfReader(path).pages)
    if data[:2] == b"PK":
        import docx

        return "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
    text = data.decode("utf-8", errors="replace")
    if path.suffix.lower() in (".html", ".htm"):
        from selectolax.lexbor import LexborHTMLParser as HTMLParser

        tree = HTMLParser(text)
        return tree.body.text(separator="\n") if tree.body else text
    return text


class EmbedderEmbeddings(Embeddings):
    """The project's embedder behind LangChain's Embeddings interface (the same model, no second copy).

    ``cache`` (text → vector) may be shared by several stores: the unseen-report libraries repeat the
    shipped library's chunks, which are then embedded once for all of them."""

    def __init__(self, embedder: Any, cache: dict[str, Any] | None = None):
        self.embedder = embedder
        self.cache = {} if cache is None else cache

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        missing = list(dict.fromkeys(t for t in texts if t not in self.cache))
        if missing:
            self.cache.update(zip(missing, self.embedder.embed(missing), strict=True))
        return [list(map(float, self.cache[t])) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return list(map(float, self.embedder.embed([text])[0]))


class LangChainTutorial:
    name = "langchain-tutorial"

    def __init__(self, corpus_dir: Path, embedder: Any, cache: dict[str, Any] | None = None):
        from langchain_core.documents import Document
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from langchain_community.vectorstores import FAISS

        docs = [
            Document(page_content=raw_text(corpus_dir / e.file), metadata={"source": e.file})
            for e in read_library(corpus_dir).entries
        ]
        splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
        self.chunks = splitter.split_documents(docs)
        for i, chunk in enumerate(self.chunks):
            chunk.id = f"lc#{i}"
        self.store = FAISS.from_documents(self.chunks, EmbedderEmbeddings(embedder, cache))

    @property
    def all_hits(self) -> list[Hit]:
        return [Hit(str(c.id), c.page_content) for c in self.chunks]

    def retrieve(self, question: str, history: list[dict[str, str]], k: int) -> list[Hit]:
        return [Hit(str(d.id), d.page_content) for d in self.store.similarity_search(question, k=k)]


class BM25Only:
    name = "bm25-only"

    def __init__(self, passages: list[Passage]):
        self.passages = passages
        self.index = BM25Index([p.embed_text for p in passages])

    @property
    def all_hits(self) -> list[Hit]:
        return [Hit(p.id, p.text) for p in self.passages]

    def retrieve(self, question: str, history: list[dict[str, str]], k: int) -> list[Hit]:
        return [Hit(self.passages[i].id, self.passages[i].text) for i, _ in self.index.search(question, k)]
