"""Corpus: the library manifest, documents and their structure (every format through one path)."""

from assistant.corpus.document import Block, Document
from assistant.corpus.load import load_documents

__all__ = ["Block", "Document", "load_documents"]
