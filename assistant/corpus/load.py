"""From the corpus folder to cleaned, structured documents."""

from __future__ import annotations

from pathlib import Path

from assistant.corpus.clean_extract import parse_extract, vocabulary
from assistant.corpus.clean_report import parse_report
from assistant.corpus.clean_web import parse_web
from assistant.corpus.document import Block, Document, render
from assistant.corpus.manifest import SourceFile, load_corpus
from assistant.corpus.structure import TocEntry, assign_sections
from assistant.corpus.text import strip_invisible


def _footnote_blocks(footnotes: dict[int, str]) -> list[Block]:
    if not footnotes:
        return []
    blocks = [Block(kind="title", text="Footnotes")]
    blocks += [Block(kind="footnote", text=f"Footnote {n}: {text}") for n, text in sorted(footnotes.items())]
    return blocks


def clean_source(source: SourceFile, tocs: dict[str, list[TocEntry]], raws: dict[str, str]) -> Document:
    raw = strip_invisible(source.raw)
    toc: list[TocEntry] = []
    footnotes: dict[int, str] = {}
    if source.kind == "report":
        blocks, footnotes, toc = parse_report(raw)
        tocs[source.id] = toc
    elif source.kind == "chapter extract":
        parents = source.related("part_of")
        toc = tocs.get(parents[0], []) if parents else []
        vocab = vocabulary(" ".join(raws.get(p, "") for p in parents) + raw)
        blocks, footnotes = parse_extract(raw, toc, vocab)
    else:
        blocks = parse_web(raw)
    blocks += _footnote_blocks(footnotes)
    assign_sections(blocks, toc, starts_in=source.starts_in)
    text = render(blocks)
    return Document(
        id=source.id,
        title=source.title,
        kind=source.kind,
        publisher=source.publisher,
        date=source.date,
        file=source.file,
        sha256=source.sha256,
        relations=tuple((r.type, r.target) for r in source.relations),
        text=text,
        blocks=tuple(blocks),
        footnotes=footnotes,
    )


def load_documents(corpus_dir: Path) -> list[Document]:
    """Validate the corpus folder and clean every document (reports first: extracts use their contents)."""
    sources = load_corpus(corpus_dir)
    order = sorted(sources, key=lambda s: 0 if s.kind == "report" else 1)
    tocs: dict[str, list[TocEntry]] = {}
    raws = {s.id: s.raw for s in sources}
    cleaned = {s.id: clean_source(s, tocs, raws) for s in order}
    return [cleaned[s.id] for s in sources]
