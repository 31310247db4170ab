"""The library: adding, listing and removing documents. Uses the formats and the manifest; never the index.

Adding parses the file completely before anything is written, so a file that cannot be read (encrypted,
scanned, truncated, not a document, too big, already there) changes nothing. A file is copied into the
corpus folder under a name made from its id — never a name taken from outside — and the manifest is then
replaced atomically. The caller rebuilds the index, which embeds only the new document's passages.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from assistant.config import Settings
from assistant.corpus.document import Document
from assistant.corpus.load import ParseCache, parse_file
from assistant.corpus.manifest import MANIFEST_NAME, Entry, is_valid_id, read_library, sha256_bytes, write_manifest
from assistant.corpus.relations import containment, shingles
from assistant.errors import AssistantError, CorpusError, DocumentError, LibraryError

SUFFIXES = {"pdf": ".pdf", "docx": ".docx", "html": ".html", "markdown": ".md", "text": ".txt"}
ACCEPTED = (".pdf", ".docx", ".html", ".htm", ".md", ".markdown", ".txt")
SAME_TEXT = 0.98  # a new document whose text is this much inside an existing one (and vice versa) is a copy


@dataclass(frozen=True)
class Metadata:
    """What the person adding a file says about it; blanks are read from the file."""

    title: str = ""
    authors: str = ""
    publisher: str = ""
    date: str = ""
    url: str = ""
    doc_id: str = ""


@dataclass(frozen=True)
class Added:
    entry: Entry
    document: Document


def slug(text: str, limit: int = 48) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    words = re.findall(r"[a-z0-9]+", text)
    out = ""
    for word in words:
        if len(out) + len(word) + 1 > limit:
            break
        out = f"{out}-{word}" if out else word
    return out or "document"


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files as given, and the supported files inside folders (recursively, in name order)."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out += sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in ACCEPTED and not p.name.startswith(".")
            )
        else:
            out.append(path)
    return out


def _ensure_library(folder: Path) -> list[Entry]:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LibraryError(f"The corpus folder {folder} cannot be created ({exc.strerror or exc}).") from exc
    if not (folder / MANIFEST_NAME).is_file():
        write_manifest(folder, [])
    return list(read_library(folder).entries)


def shown_name(path: Path) -> str:
    """The file's name as messages show it: control characters (a line break, a terminal escape) as "?"."""
    return "".join(c if c.isprintable() else "?" for c in path.name)


def read_checked(path: Path, max_bytes: int) -> bytes:
    """The file's bytes, refusing what is not a regular readable file or is over the size limit."""
    name = shown_name(path)
    if not path.exists():
        raise DocumentError(f"{name} does not exist.")
    if not path.is_file():
        raise DocumentError(f"{name} is not a file.")
    size = path.stat().st_size
    if size > max_bytes:
        raise DocumentError(f"{name} is {size / 1e6:.0f} MB; the limit is {max_bytes / 1e6:.0f} MB.")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"{name} cannot be read ({exc.strerror or exc}).") from exc


def prepare(
    data: bytes,
    name: str,
    meta: Metadata,
    entries: list[Entry],
    existing: dict[str, Document],
    occupied: Iterable[str] = (),
) -> Added:
    """Parse and check one file against the library; nothing is written. ``occupied``: names of files already
    in the corpus folder (listed or not), which the new file's name must not take."""
    if meta.doc_id and not is_valid_id(meta.doc_id):
        raise LibraryError(f"{name} cannot take the id '{meta.doc_id}': an id is lower-case letters, digits and dashes.")
    sha = sha256_bytes(data)
    for entry in entries:
        if entry.sha256 == sha:
            raise DocumentError(f"{name} is already in the library as '{entry.id}'.")
    draft = Entry(id="draft", file=name)
    document = parse_file(draft, data)
    grams = shingles(document.text)
    for doc in existing.values():
        theirs = shingles(doc.text)
        if containment(grams, theirs) >= SAME_TEXT and containment(theirs, grams) >= SAME_TEXT:
            raise DocumentError(f"{name} has the same text as '{doc.id}', already in the library.")
    suffix = SUFFIXES[document.kind]
    files = {n.lower() for n in occupied}
    taken = {e.id for e in entries} | {n[: -len(suffix)] for n in files if n.endswith(suffix)}
    title = meta.title or document.title
    doc_id = meta.doc_id or slug(title if title != Path(name).stem else Path(name).stem)
    if meta.doc_id and meta.doc_id in taken:
        raise LibraryError(f"The id '{meta.doc_id}' is already in the library or names a file in the corpus folder.")
    base, n = doc_id, 2
    while doc_id in taken:
        doc_id, n = f"{base}-{n}", n + 1
    entry = Entry(
        id=doc_id,
        file=doc_id + suffix,
        title=title,
        authors=meta.authors or document.authors,
        publisher=meta.publisher or document.publisher,
        date=meta.date or document.date,
        url=meta.url or document.url,
        added=time.strftime("%Y-%m-%d"),
        sha256=sha,
    )
    return Added(entry, replace(document, id=entry.id, file=entry.file, title=entry.title))


def _write_file(folder: Path, name: str, data: bytes) -> None:
    target = folder / name
    if target.resolve().parent != folder.resolve():
        raise LibraryError(f"Refusing to write {name} outside the corpus folder.")
    handle, tmp = tempfile.mkstemp(prefix=".add-", dir=folder)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)  # readable like any other library file (mkstemp makes it private)
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise LibraryError(f"{name} cannot be written to the corpus folder ({exc.strerror or exc}).") from exc


def add_files(
    folder: Path,
    paths: list[Path],
    meta: Metadata = Metadata(),
    existing: dict[str, Document] | None = None,
    max_bytes: int = 50_000_000,
    cache: ParseCache | None = None,
) -> tuple[list[Added], list[str]]:
    """Add each file (folders expanded); returns what was added and a one-line message per file refused.

    Metadata given applies to every file (meant for one file at a time). The manifest is written once, after
    all files are copied; a file refused leaves no trace.
    """
    entries = _ensure_library(folder)
    known = dict(existing or {})
    added: list[Added] = []
    refused: list[str] = []
    files = expand_paths(paths)
    if not files:
        names = ", ".join(shown_name(p) for p in paths)
        raise LibraryError(f"No files to add in {names} (folders are searched for .pdf, .docx, .html, .md and .txt files).")
    for path in files:
        try:
            data = read_checked(path, max_bytes)
            present = [p.name for p in folder.iterdir()]
            item = prepare(data, shown_name(path), meta if len(files) == 1 else Metadata(), entries, known, present)
            _write_file(folder, item.entry.file, data)
        except (DocumentError, LibraryError) as exc:
            refused.append(str(exc))
            continue
        entries.append(item.entry)
        known[item.entry.id] = item.document
        added.append(item)
        if cache is not None:
            cache.put(replace(item.document, sha256=item.entry.sha256))
    if added:
        try:
            write_manifest(folder, entries)
        except LibraryError:
            for item in added:
                (folder / item.entry.file).unlink(missing_ok=True)
            raise
    return added, refused


def remove_document(folder: Path, doc_id: str) -> Entry:
    """Take a document out of the library: the manifest first (atomically), then its file."""
    try:
        library = read_library(folder)
    except CorpusError as exc:
        raise LibraryError(str(exc)) from exc
    entry = library.entry(doc_id)
    write_manifest(folder, [e for e in library.entries if e.id != doc_id])
    (folder / entry.file).unlink(missing_ok=True)
    return entry


def library_rows(settings: Settings | None = None) -> list[dict[str, object]]:
    """One row per document for `assistant list` and the app's Library view: id, title, kind, pages,
    passages, repeats (passages that repeat another document's and are searched through it), date added,
    file hash — counts from the current index when it has the document."""
    from assistant.index import store

    settings = settings or Settings.from_env()
    library = read_library(settings.corpus_dir)
    counts: dict[str, int] = {}
    repeats: dict[str, int] = {}
    kinds: dict[str, tuple[str, int]] = {}
    try:
        build = store.current_build(settings.index_dir)
        for row in store.read_jsonl(build / "passages.jsonl"):
            tally = repeats if row.get("duplicate_of") else counts
            tally[row["doc_id"]] = tally.get(row["doc_id"], 0) + 1
        for doc in json.loads((build / "documents.json").read_text(encoding="utf-8")):
            kinds[doc["id"]] = (doc.get("kind", ""), int(doc.get("pages", 0)))
    except (AssistantError, OSError, ValueError, KeyError):
        pass  # no index yet: the library alone
    return [
        {
            "id": e.id,
            "title": e.title or e.file,
            "kind": kinds.get(e.id, ("", 0))[0] or Path(e.file).suffix.lstrip("."),
            "pages": kinds.get(e.id, ("", 0))[1] or "",
            "passages": counts.get(e.id, 0),
            "repeats": repeats.get(e.id, 0),
            "added": e.added,
            "sha256": e.sha256,
            "file": e.file,
            "authors": e.authors,
            "date": e.date,
        }
        for e in library.entries
    ]
