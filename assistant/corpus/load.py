"""From the library folder to cleaned, structured documents: every file through the same path.

bytes → format detected from content → the format's parser → the shared structure step → rendered text.
Relations between the documents are then detected from their text. A file that cannot be read is reported
as a problem (with the reason), never half-parsed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from assistant.corpus.document import Block, Document, Metadata, Parsed, render
from assistant.corpus.manifest import Entry, Library, read_library, sha256_bytes
from assistant.corpus.relations import detect_relations
from assistant.corpus.structure import recover
from assistant.errors import DocumentError

# Bump when parsing or the structure step changes what a file becomes: cached documents are then re-parsed.
PARSE_VERSION = 4


def document_from(entry: Entry, kind: str, parsed: Parsed, sha256: str) -> Document:
    """A library document from a parsed file: the manifest's metadata over what the file says of itself."""
    blocks = recover(parsed)
    text = render(blocks)
    if not text.strip():
        raise DocumentError(f"{entry.file} has no text.")  # a PDF without a text layer is refused by its parser
    own = parsed.metadata.merged(Metadata(title=_first_title(blocks)))
    return Document(
        id=entry.id,
        title=entry.title or own.title or Path(entry.file).stem,
        kind=kind,
        authors=entry.authors or own.authors,
        publisher=entry.publisher or own.publisher,
        date=entry.date or own.date,
        url=entry.url or own.url,
        file=entry.file,
        sha256=sha256,
        relations=(),
        text=text,
        blocks=tuple(blocks),
        footnotes=parsed.footnotes,
        pages=parsed.pages,
        aliases=entry.aliases,
    )


def _first_title(blocks: list[Block]) -> str:
    for block in blocks:
        if block.kind in ("title", "heading") and block.text != "Footnotes":
            return block.text
    return ""


def parse_file(entry: Entry, data: bytes) -> Document:
    """Parse one file's bytes into a document (raises DocumentError with a one-line reason)."""
    from assistant.formats.base import parse_bytes

    kind, parsed = parse_bytes(data, entry.file)
    return document_from(entry, kind, parsed, sha256_bytes(data))


class ParseCache:
    """Cleaned documents kept by the hash of their file, so an unchanged file is never parsed twice."""

    def __init__(self, folder: Path | None):
        self.folder = folder

    def _path(self, sha256: str) -> Path | None:
        return self.folder / f"{sha256}-v{PARSE_VERSION}.json" if self.folder else None

    def get(self, entry: Entry, sha256: str) -> Document | None:
        path = self._path(sha256)
        if path is None or not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            doc = document_from_json(data)
        except (OSError, ValueError, KeyError, TypeError):
            return None  # a damaged cache entry is parsed again
        return replace(
            doc,
            id=entry.id,
            title=entry.title or doc.title,
            authors=entry.authors or doc.authors,
            publisher=entry.publisher or doc.publisher,
            date=entry.date or doc.date,
            url=entry.url or doc.url,
            file=entry.file,
            aliases=entry.aliases,
        )

    def put(self, doc: Document) -> None:
        path = self._path(doc.sha256)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(document_to_json(doc), ensure_ascii=False), encoding="utf-8")
            tmp.replace(path)
        except OSError:
            pass  # a cache that cannot be written only costs time


@dataclass(frozen=True)
class Loaded:
    """The library's readable documents (relations detected); ``faults``: listed documents that could not be
    read (missing, unreadable, no text); ``notices``: files in the folder the library does not list."""

    documents: list[Document]
    faults: list[str]
    notices: list[str]


def load_documents(folder: Path, cache: ParseCache | None = None, library: Library | None = None) -> Loaded:
    """Every readable document of the library, each problem a sentence naming its file."""
    library = library or read_library(folder)
    cache = cache or ParseCache(None)
    faults = list(library.missing)
    docs: list[Document] = []
    for entry in library.entries:
        path = folder / entry.file
        if not path.is_file():
            continue  # already a fault of the library
        try:
            data = path.read_bytes()
        except OSError as exc:
            faults.append(f"{entry.file} cannot be read ({exc.strerror or exc}).")
            continue
        sha = sha256_bytes(data)
        doc = cache.get(entry, sha)
        if doc is None:
            try:
                doc = parse_file(entry, data)
            except DocumentError as exc:
                faults.append(str(exc))
                continue
            cache.put(doc)
        docs.append(doc)
    relations = detect_relations({d.id: d.text for d in docs})
    return Loaded([replace(d, relations=relations.get(d.id, ())) for d in docs], faults, list(library.stray))


def document_to_json(doc: Document) -> dict[str, Any]:
    data = asdict(doc)
    data["blocks"] = [asdict(b) for b in doc.blocks]
    data["footnotes"] = {str(k): v for k, v in doc.footnotes.items()}
    data["relations"] = [list(r) for r in doc.relations]
    data["aliases"] = list(doc.aliases)
    return data


def document_from_json(data: dict[str, Any]) -> Document:
    blocks = tuple(
        Block(
            **{
                **b,
                "footnotes": tuple(b["footnotes"]),
                "cells": tuple(b["cells"]),
                "header": tuple(b["header"]),
                "section": tuple(b["section"]),
            }
        )
        for b in data.get("blocks", [])
    )
    return Document(
        id=data["id"],
        title=data["title"],
        kind=data["kind"],
        authors=data.get("authors", ""),
        publisher=data.get("publisher", ""),
        date=data.get("date", ""),
        url=data.get("url", ""),
        file=data.get("file", ""),
        sha256=data.get("sha256", ""),
        relations=tuple((r[0], r[1]) for r in data.get("relations", [])),
        text=data["text"],
        blocks=blocks,
        footnotes={int(k): v for k, v in data.get("footnotes", {}).items()},
        pages=int(data.get("pages", 0)),
        aliases=tuple(data.get("aliases", [])),
    )
