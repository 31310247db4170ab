"""Corpus: the manifest, cleaning of each kind of source, and document structure."""

from assistant.corpus.document import Block, Document
from assistant.corpus.load import load_documents

__all__ = ["Block", "Document", "load_documents"]
