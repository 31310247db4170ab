"""The library manifest: which files make up the corpus and what is known about each (title, authors…).

``corpus/manifest.json`` lists the documents; relations between them are detected from their text, and
their format from their content, so neither is declared here. The manifest is only ever replaced whole
(written to a temporary file, flushed, then renamed), so a crash never leaves half a manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from assistant.errors import CorpusError, LibraryError

MANIFEST_NAME = "manifest.json"
PROFILE_NAME = "profile.toml"
FORMAT = 2
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
IGNORED = {MANIFEST_NAME, PROFILE_NAME, "readme.md", "readme.txt"}


@dataclass(frozen=True)
class Entry:
    """One library document as the manifest records it."""

    id: str
    file: str
    title: str = ""
    authors: str = ""
    publisher: str = ""
    date: str = ""
    url: str = ""
    aliases: tuple[str, ...] = ()
    added: str = ""
    sha256: str = ""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["aliases"] = list(self.aliases)
        return {k: v for k, v in data.items() if v not in ("", [])}

    @classmethod
    def from_json(cls, data: dict[str, Any], where: str) -> Entry:
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {}
        for name in known:
            value = data.get(name, "" if name != "aliases" else [])
            if name == "aliases":
                if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
                    raise CorpusError(f"The manifest entry {where} has malformed aliases.")
                values[name] = tuple(value)
            elif not isinstance(value, str):
                raise CorpusError(f"The manifest entry {where} has a malformed '{name}'.")
            else:
                values[name] = value.strip()
        for required in ("id", "file"):
            if not values[required]:
                raise CorpusError(f"The manifest entry {where} has no '{required}'.")
        if not is_valid_id(values["id"]):
            raise CorpusError(f"The manifest entry {where} has an invalid id (lower-case letters, digits and dashes).")
        if Path(values["file"]).name != values["file"] or values["file"].startswith("."):
            raise CorpusError(f"The manifest entry '{values['id']}' names a file outside the corpus folder.")
        return cls(**values)


@dataclass(frozen=True)
class Library:
    """The manifest's entries, and what is wrong with the folder (missing or unlisted files)."""

    folder: Path
    entries: tuple[Entry, ...]
    missing: tuple[str, ...] = field(default=())  # listed files that are not there
    stray: tuple[str, ...] = field(default=())  # files in the folder the manifest does not list (ignored)

    def entry(self, doc_id: str) -> Entry:
        for entry in self.entries:
            if entry.id == doc_id:
                return entry
        raise LibraryError(f"There is no document '{doc_id}' in the library (see `assistant list`).")


def read_library(folder: Path) -> Library:
    """Read and check the manifest. Raises CorpusError when there is no usable manifest at all; a missing or
    unlisted file is a problem reported with the library, not an error."""
    if not folder.is_dir():
        raise CorpusError(f"The corpus folder {folder} does not exist.")
    path = folder / MANIFEST_NAME
    if not path.is_file():
        raise CorpusError(f"The corpus folder {folder} has no {MANIFEST_NAME} (add documents with `assistant add`).")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorpusError(f"The corpus manifest {MANIFEST_NAME} is not valid JSON ({exc}).") from exc
    raw_entries = manifest.get("documents") if isinstance(manifest, dict) else None
    if not isinstance(raw_entries, list):
        raise CorpusError(f"The corpus manifest {MANIFEST_NAME} has no list of documents.")
    entries: list[Entry] = []
    seen: set[str] = set()
    for position, raw in enumerate(raw_entries, start=1):
        if not isinstance(raw, dict):
            raise CorpusError(f"The manifest entry #{position} is not an object.")
        entry = Entry.from_json(raw, f"#{position}")
        if entry.id in seen:
            raise CorpusError(f"The corpus manifest lists the id '{entry.id}' twice.")
        seen.add(entry.id)
        entries.append(entry)
    missing = [
        f"{e.file} is listed in the library but missing from {folder} (restore it, or `assistant remove {e.id}`)."
        for e in entries
        if not (folder / e.file).is_file()
    ]
    listed = {e.file for e in entries}
    stray = [
        f"{p.name} is in the corpus folder but not in the library (add it with `assistant add`, or move it away); ignored."
        for p in sorted(folder.iterdir())
        if p.is_file() and p.name not in listed and p.name.lower() not in IGNORED and not p.name.startswith(".")
    ]
    return Library(folder, tuple(entries), tuple(missing), tuple(stray))


def write_manifest(folder: Path, entries: list[Entry]) -> None:
    """Replace the manifest atomically."""
    data = {"format": FORMAT, "documents": [e.to_json() for e in entries]}
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    try:
        handle, name = tempfile.mkstemp(prefix=".manifest-", suffix=".tmp", dir=folder)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(name, 0o644)  # readable like the files it lists (mkstemp makes it private)
        os.replace(name, folder / MANIFEST_NAME)
    except OSError as exc:
        raise LibraryError(f"The library manifest cannot be written ({exc.strerror or exc}).") from exc


def is_valid_id(doc_id: str) -> bool:
    """Lower-case letters, digits and dashes, starting with a letter or digit, at most 64."""
    return bool(_ID.fullmatch(doc_id))


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def corpus_fingerprint(folder: Path) -> dict[str, str]:
    """sha256 of the manifest and of every file it lists (missing files as ""): what a built index is checked
    against. Files the manifest does not list are not part of the corpus."""
    path = folder / MANIFEST_NAME
    if not path.is_file():
        return {}
    data = path.read_bytes()
    prints = {MANIFEST_NAME: sha256_bytes(data)}
    try:
        library = read_library(folder)
    except CorpusError:
        return prints
    for entry in library.entries:
        file = folder / entry.file
        prints[entry.file] = sha256_file(file) if file.is_file() else ""
    return prints


def sha256_file(path: Path) -> str:
    """The file's sha256, read a megabyte at a time."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
