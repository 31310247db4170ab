"""The corpus manifest: which files make up the corpus, what each one is, and how they relate.

Loading validates the manifest against the folder, so a missing, unlisted, empty or non-UTF-8 file is a
clear error before anything is cleaned, embedded or written.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import CorpusError

MANIFEST_NAME = "manifest.json"
KINDS = ("report", "chapter extract", "web summary", "publication page")
RELATION_TYPES = ("part_of", "duplicates", "summary_of", "describes")


@dataclass(frozen=True)
class Relation:
    type: str
    target: str


@dataclass(frozen=True)
class SourceFile:
    """One corpus file as listed in the manifest, with its raw text and hash."""

    id: str
    file: str
    title: str
    kind: str
    publisher: str
    date: str
    relations: tuple[Relation, ...]
    raw: str
    sha256: str
    starts_in: str = ""

    def related(self, relation_type: str) -> list[str]:
        return [r.target for r in self.relations if r.type == relation_type]


def _require(entry: dict[str, object], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise CorpusError(f"The corpus manifest entry {where} has no '{key}'.")
    return value


def load_corpus(corpus_dir: Path) -> list[SourceFile]:
    """Read and validate the manifest and every file it lists, in manifest order."""
    if not corpus_dir.is_dir():
        raise CorpusError(f"The corpus folder {corpus_dir} does not exist.")
    manifest_path = corpus_dir / MANIFEST_NAME
    if not manifest_path.is_file():
        if not any(corpus_dir.iterdir()):
            raise CorpusError(f"The corpus folder {corpus_dir} is empty.")
        raise CorpusError(f"The corpus folder {corpus_dir} has no {MANIFEST_NAME}.")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorpusError(f"The corpus manifest {manifest_path.name} is not valid JSON ({exc}).") from exc
    entries = manifest.get("documents") if isinstance(manifest, dict) else None
    if not isinstance(entries, list) or not entries:
        raise CorpusError("The corpus manifest lists no documents.")

    sources: list[SourceFile] = []
    seen_ids: set[str] = set()
    listed: set[str] = set()
    for position, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise CorpusError(f"The corpus manifest entry #{position} is not an object.")
        where = f"#{position}"
        doc_id = _require(entry, "id", where)
        where = f"'{doc_id}'"
        if doc_id in seen_ids:
            raise CorpusError(f"The corpus manifest lists the id '{doc_id}' twice.")
        seen_ids.add(doc_id)
        kind = _require(entry, "kind", where)
        if kind not in KINDS:
            raise CorpusError(f"The corpus manifest entry {where} has unknown kind '{kind}'.")
        file_name = _require(entry, "file", where)
        listed.add(file_name)
        path = corpus_dir / file_name
        if not path.is_file():
            raise CorpusError(f"The corpus file {file_name} listed in the manifest is missing.")
        data = path.read_bytes()
        try:
            raw = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CorpusError(f"The corpus file {file_name} is not UTF-8 text.") from exc
        if "\x00" in raw:
            raise CorpusError(f"The corpus file {file_name} is binary, not text.")
        if not raw.strip():
            raise CorpusError(f"The corpus file {file_name} is empty.")
        relations = []
        for rel in entry.get("relations") or []:
            if not isinstance(rel, dict) or rel.get("type") not in RELATION_TYPES or not rel.get("target"):
                raise CorpusError(f"The corpus manifest entry {where} has a malformed relation.")
            relations.append(Relation(str(rel["type"]), str(rel["target"])))
        sources.append(
            SourceFile(
                id=doc_id,
                file=file_name,
                title=_require(entry, "title", where),
                kind=kind,
                publisher=str(entry.get("publisher", "")),
                date=str(entry.get("date", "")),
                relations=tuple(relations),
                raw=raw,
                sha256=hashlib.sha256(data).hexdigest(),
                starts_in=str(entry.get("starts_in", "")),
            )
        )
    for source in sources:
        for rel in source.relations:
            if rel.target not in seen_ids:
                raise CorpusError(f"The corpus manifest entry '{source.id}' relates to unknown id '{rel.target}'.")
    unlisted = sorted(
        p.name for p in corpus_dir.iterdir() if p.is_file() and p.name != MANIFEST_NAME and not p.name.startswith(".")
    )
    unlisted = [name for name in unlisted if name not in listed and name.lower() != "readme.md"]
    if unlisted:
        raise CorpusError(f"The corpus file {unlisted[0]} is not listed in the manifest.")
    return sources


def corpus_fingerprint(corpus_dir: Path) -> dict[str, str]:
    """sha256 of the manifest and of every file in the corpus folder (cheap: used to detect a stale index)."""
    if not corpus_dir.is_dir():
        return {}
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(corpus_dir.iterdir())
        if p.is_file() and not p.name.startswith(".")
    }
