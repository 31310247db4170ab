"""Structure-aware chunking of cleaned documents into citable passages."""

from assistant.chunks.chunker import chunk_documents
from assistant.chunks.duplicates import mark_duplicates

__all__ = ["chunk_documents", "mark_duplicates"]
