"""The corpus folder is validated, and cleaning yields one clean text that all offsets refer to."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from assistant.corpus import load_documents
from assistant.corpus.manifest import load_corpus
from assistant.errors import CorpusError

from .conftest import CORPUS


@pytest.fixture(scope="module")
def docs():  # type: ignore[no-untyped-def]
    return {d.id: d for d in load_documents(CORPUS)}


def test_manifest_lists_five_documents_with_kinds_and_relations() -> None:
    sources = {s.id: s for s in load_corpus(CORPUS)}
    assert set(sources) == {"report", "extract", "web-summary", "web-summary-short", "govuk"}
    assert sources["extract"].related("part_of") == ["report"]
    assert sources["web-summary-short"].related("duplicates") == ["web-summary"]
    assert {s.kind for s in sources.values()} == {"report", "chapter extract", "web summary", "publication page"}


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda c: (c / "web-summary.txt").unlink(), "web-summary.txt listed in the manifest is missing"),
        (lambda c: (c / "notes.txt").write_text("stray"), "notes.txt is not listed"),
        (lambda c: (c / "govuk-publication-page.txt").write_text("  \n"), "govuk-publication-page.txt is empty"),
        (lambda c: (c / "web-summary.txt").write_bytes(b"\xff\xfe caf\xe9"), "web-summary.txt is not UTF-8"),
        (lambda c: (c / "web-summary.txt").write_bytes(b"abc\x00def"), "web-summary.txt is binary"),
        (lambda c: (c / "manifest.json").write_text("{not json"), "not valid JSON"),
    ],
)
def test_bad_corpus_files_raise_a_clear_corpus_error(corpus_copy: Path, damage, message: str) -> None:  # type: ignore[no-untyped-def]
    damage(corpus_copy)
    with pytest.raises(CorpusError, match=re.escape(message)):
        load_corpus(corpus_copy)


def test_empty_corpus_folder_is_reported(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="is empty"):
        load_corpus(tmp_path)


def test_missing_corpus_folder_is_reported(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="does not exist"):
        load_corpus(tmp_path / "nowhere")


def test_unknown_relation_target_is_reported(corpus_copy: Path) -> None:
    manifest = json.loads((corpus_copy / "manifest.json").read_text())
    manifest["documents"][1]["relations"] = [{"type": "part_of", "target": "ghost"}]
    (corpus_copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CorpusError, match="unknown id 'ghost'"):
        load_corpus(corpus_copy)


def test_cleaned_text_has_no_markup_or_html_or_superscripts(docs) -> None:  # type: ignore[no-untyped-def]
    for doc in docs.values():
        assert "**" not in doc.text
        assert "<ul" not in doc.text and "</ul>" not in doc.text
        assert not re.search("[⁰¹²³⁴⁵⁶⁷⁸⁹]", doc.text)


def test_every_block_is_an_exact_span_of_the_cleaned_text(docs) -> None:  # type: ignore[no-untyped-def]
    for doc in docs.values():
        for block in doc.blocks:
            assert doc.text[block.start : block.end] == block.text


def test_report_footnote_markers_are_detached_and_linked(docs) -> None:  # type: ignore[no-untyped-def]
    report = docs["report"]
    assert "score higher than average in their Care Quality Commission ratings." in report.text
    assert report.footnotes[1] == "Social Enterprise UK (2019). Public Service Mutuals: The State of the Sector."
    citing = [b for b in report.blocks if 22 in b.footnotes]
    assert citing and "4-5% growth in workforce productivity" in citing[0].text
    assert "Footnote 22: J. Le Grand and the Mutuals Taskforce (2012)" in report.text


def test_report_paragraph_cut_by_a_page_break_is_rejoined(docs) -> None:  # type: ignore[no-untyped-def]
    text = docs["report"].text
    assert "partners are personally responsible for the liabilities associated with such as medical indemnity" in text
    assert "the same change would have taken months to be put in place in the public sector." in text


def test_extract_lines_hyphens_and_glued_footnotes_are_mended(docs) -> None:  # type: ignore[no-untyped-def]
    text = docs["extract"].text
    assert "people with co-morbidities" in text  # a real compound keeps its hyphen
    assert "rose by 1.4 million between April 2016 and April 2018, and this trend of growth will continue." in text
    assert "2018.38" not in text and "facilities50" not in text
    assert "unaware of the government’s Mutual Support Programme 2." in text
    assert "Funding for Adult Social Care has fallen by 5.2% since 2010-11. Changes" in text
    assert "\n\nto " not in text  # no line broken mid-sentence
    assert docs["extract"].footnotes[38] == "N. Watson, (2019) GP Partnership Review"


def test_tables_become_one_line_rows(docs) -> None:  # type: ignore[no-untyped-def]
    text = docs["report"].text
    assert "PCN: Primary Care Network" in text
    assert "Contractual arrangements: GMS, PMS or APMS contract is transferred to a new entity" in text
    assert "OCS | 2.1. Continue Mutuals Support Programme 2" in text


def test_contents_list_is_used_for_structure_not_kept_as_text(docs) -> None:  # type: ignore[no-untyped-def]
    report = docs["report"]
    assert "Acknowledgements\t4" not in report.text
    sections = {b.section for b in report.blocks}
    assert (
        "High potential service areas",
        "Primary Care",
        "Risks and barriers to increased use of public service mutuals",
    ) in sections
    extract_sections = {b.section for b in docs["extract"].blocks}
    assert ("High potential service areas", "Adult Social Care", "Potential models of delivery") in extract_sections
