"""The library: every file through the same path, structure recovered, relations found from the text."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from assistant.corpus import load_documents
from assistant.corpus.manifest import read_library
from assistant.corpus.relations import detect_relations
from assistant.errors import CorpusError
from assistant.formats.text import TextParser, is_hard_wrapped

from .conftest import CORPUS


@pytest.fixture(scope="module")
def docs():  # type: ignore[no-untyped-def]
    return {d.id: d for d in load_documents(CORPUS).documents}


def test_every_file_the_manifest_lists_is_read(docs) -> None:  # type: ignore[no-untyped-def]
    library = read_library(CORPUS)
    assert {e.id for e in library.entries} == set(docs)
    assert library.missing == () and library.stray == ()
    for entry in library.entries:
        assert docs[entry.id].title and docs[entry.id].kind == "text"


def test_relations_are_detected_from_the_text_not_declared(docs) -> None:  # type: ignore[no-untyped-def]
    assert "relations" not in (CORPUS / "manifest.json").read_text()
    assert ("part_of", "report") in docs["extract"].relations
    assert ("duplicates", "web-summary") in docs["web-summary-short"].relations
    assert not any(rel in ("part_of", "duplicates") for rel, _ in docs["report"].relations)


def test_relations_hold_for_any_texts() -> None:
    long = " ".join(f"Sentence number {i} says something about community transport schemes and their riders." for i in range(60))
    part = " ".join(long.split()[100:300])
    other = "An unrelated note about library opening hours and the budget for new books in the county."
    found = detect_relations({"long": long, "part": part, "other": other})
    assert found["part"] == (("part_of", "long"),)
    assert found["other"] == ()


@pytest.mark.parametrize(
    ("damage", "kind", "words"),
    [
        (lambda c: (c / "web-summary.txt").unlink(), "missing", "web-summary.txt is listed in the library but missing"),
        (lambda c: (c / "notes.txt").write_text("stray"), "stray", "notes.txt is in the corpus folder but not in the library"),
    ],
)
def test_missing_and_unlisted_files_are_reported_not_fatal(corpus_copy: Path, damage, kind: str, words: str) -> None:  # type: ignore[no-untyped-def]
    damage(corpus_copy)
    library = read_library(corpus_copy)
    assert any(words in p for p in getattr(library, kind))
    loaded = load_documents(corpus_copy, library=library)
    assert loaded.documents, "the readable documents are still loaded"


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"  \n", "is empty"), (b"\xff\xfe caf\xe9 \xff", "not UTF-8"), (b"abc\x00def\x00", "binary")],
)
def test_an_unreadable_listed_file_is_left_out_with_its_reason(corpus_copy: Path, content: bytes, reason: str) -> None:
    (corpus_copy / "web-summary.txt").write_bytes(content)
    loaded = load_documents(corpus_copy)
    assert "web-summary" not in {d.id for d in loaded.documents}
    assert any("web-summary.txt" in f and reason in f for f in loaded.faults), loaded.faults


def test_an_unusable_manifest_is_a_clear_error(corpus_copy: Path, tmp_path: Path) -> None:
    (corpus_copy / "manifest.json").write_text("{not json")
    with pytest.raises(CorpusError, match="not valid JSON"):
        read_library(corpus_copy)
    with pytest.raises(CorpusError, match="does not exist"):
        read_library(tmp_path / "nowhere")
    (corpus_copy / "manifest.json").write_text(json.dumps({"documents": [{"id": "x", "file": "../../etc/passwd"}]}))
    with pytest.raises(CorpusError, match="outside the corpus folder"):
        read_library(corpus_copy)


def test_cleaned_text_has_no_markup_or_html_or_superscripts(docs) -> None:  # type: ignore[no-untyped-def]
    for doc in docs.values():
        assert "**" not in doc.text
        assert "<ul" not in doc.text and "</ul>" not in doc.text
        assert not re.search("[⁰¹²³⁴⁵⁶⁷⁸⁹]", doc.text)


def test_every_block_is_an_exact_span_of_the_cleaned_text(docs) -> None:  # type: ignore[no-untyped-def]
    for doc in docs.values():
        for block in doc.blocks:
            assert doc.text[block.start : block.end] == block.text


def test_footnote_markers_are_detached_and_linked(docs) -> None:  # type: ignore[no-untyped-def]
    report = docs["report"]
    assert "score higher than average in their Care Quality Commission ratings." in report.text
    assert report.footnotes[1] == "Social Enterprise UK (2019). Public Service Mutuals: The State of the Sector."
    citing = [b for b in report.blocks if 22 in b.footnotes]
    assert citing and "4-5% growth in workforce productivity" in citing[0].text
    assert "Footnote 22: J. Le Grand and the Mutuals Taskforce (2012)" in report.text


def test_a_paragraph_cut_by_a_page_break_is_rejoined(docs) -> None:  # type: ignore[no-untyped-def]
    text = docs["report"].text
    assert "partners are personally responsible for the liabilities associated with such as medical indemnity" in text
    assert "the same change would have taken months to be put in place in the public sector." in text


def test_hard_wrapped_text_is_told_by_its_lines_and_mended(docs) -> None:  # type: ignore[no-untyped-def]
    assert is_hard_wrapped((CORPUS / "extract-high-potential-service-areas.txt").read_text())
    assert not is_hard_wrapped((CORPUS / "report-our-mutual-interest.txt").read_text())
    text = docs["extract"].text
    assert "people with co-morbidities" in text  # a real compound keeps its hyphen
    assert "rose by 1.4 million between April 2016 and April 2018, and this trend of growth will continue." in text
    assert "2018.38" not in text and "facilities50" not in text
    assert "\n\nto " not in text  # no line broken mid-sentence
    assert docs["extract"].footnotes[38] == "N. Watson, (2019) GP Partnership Review"


def test_wrapped_text_from_any_report_is_rejoined() -> None:
    lines = []
    for i in range(12):
        lines += [
            f"The community transport scheme number {i} carried many older passengers to",
            "",
            "clinics and shops across the county every week.",
            "",
        ]
    parsed = TextParser().parse("\n".join(lines).encode(), "scheme.txt")
    paragraphs = [b.text for b in parsed.blocks if b.kind == "para"]
    assert (
        paragraphs[0]
        == "The community transport scheme number 0 carried many older passengers to clinics and shops across the county every week."
    )


def test_table_rows_read_as_sentences_not_pipes(docs) -> None:  # type: ignore[no-untyped-def]
    text = docs["report"].text
    assert "PCN: Primary Care Network" in text
    assert "Contractual arrangements: GMS, PMS or APMS contract is transferred to a new entity" in text
    assert "OCS, Key priority: 2.1. Continue Mutuals Support Programme 2" in text
    assert "OCS | 2.1." not in text and "Who | What | Focus" not in text


def test_contents_list_gives_the_structure_and_is_not_kept_as_text(docs) -> None:  # type: ignore[no-untyped-def]
    report = docs["report"]
    assert "Acknowledgements\t4" not in report.text
    sections = {b.section for b in report.blocks}
    assert (
        "High potential service areas",
        "Primary Care",
        "Risks and barriers to increased use of public service mutuals",
    ) in sections


def test_headings_in_capitals_keep_the_documents_own_acronyms(docs) -> None:  # type: ignore[no-untyped-def]
    sections = {part for b in docs["report"].blocks for part in b.section}
    assert "How to replicate mutual models at scale" in sections
    assert any("NHS" in part for part in sections) or any("GP" in part for part in sections)
