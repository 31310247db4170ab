"""Full references: house style and Harvard, with full and with missing metadata, pages, and exact quotes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from assistant.corpus.document import Block, Document, render
from assistant.passage import Passage
from assistant.references import Reference, citation_reference, harvard, house_style, reference_for

SECTION = "High potential service areas › Primary Care"
URL = "https://www.gov.uk/government/publications/our-mutual-interest"


def _document(**changes: object) -> Document:
    blocks = [
        Block("heading", "Primary Care", level=2, page=23),
        Block("para", "Mutuals in primary care are few. Those that exist report strong staff engagement.", page=23),
        Block("para", "Their GP partners are cautious. Several now plan to expand into community services.", page=24),
    ]
    text = render(blocks)
    document = Document(
        id="report",
        title="Our Mutual Interest in Health and Social Care (full report)",
        kind="pdf",
        authors="Baxendale and Mutual Ventures",
        publisher="Department for Digital, Culture, Media and Sport",
        date="2019-11-04",
        url=URL,
        file="report.pdf",
        sha256="",
        relations=(),
        text=text,
        blocks=tuple(blocks),
        pages=40,
    )
    return replace(document, **changes)  # type: ignore[arg-type]


def _passage(document: Document) -> Passage:
    start = document.blocks[1].start
    end = document.blocks[2].end
    return Passage(
        id="report#12",
        doc_id=document.id,
        title=document.title,
        section=SECTION,
        text=document.text[start:end],
        start=start,
        end=end,
        page=23,
        page_end=24,
    )


def test_house_style_gives_authors_year_title_publisher_section_page_quote_and_address() -> None:
    document = _document()
    ref = reference_for(_passage(document), document, "Those that exist report strong staff engagement.")
    assert house_style(ref) == (
        "Baxendale and Mutual Ventures (2019). Our Mutual Interest in Health and Social Care (full report). "
        "Department for Digital, Culture, Media and Sport. Section: High potential service areas › Primary Care; p. 23. "
        f"“Those that exist report strong staff engagement.” Available at: {URL}"
    )


def test_house_style_leaves_out_what_the_library_does_not_know() -> None:
    document = _document(authors="", publisher="", date="", url="")
    ref = reference_for(_passage(document), document)
    assert ref.year == "" and ref.quote == ""
    assert house_style(ref) == (
        "Our Mutual Interest in Health and Social Care (full report). Section: High potential service areas › Primary Care; pp. 23–24."
    )


def test_house_style_puts_the_year_after_the_title_when_no_author_is_known() -> None:
    document = _document(authors="", url="")
    ref = reference_for(_passage(document), document, "Mutuals in primary care are few.")
    assert house_style(ref).startswith("Our Mutual Interest in Health and Social Care (full report) (2019). Department")


def test_no_full_stop_is_doubled_after_a_title_or_quote_that_ends_a_sentence() -> None:
    document = _document(title="Are mutuals working?", publisher="")
    ref = reference_for(_passage(document), document, "Mutuals in primary care are few.")
    styled = house_style(ref)
    assert "Are mutuals working? Section:" in styled
    assert "“Mutuals in primary care are few.” Available" in styled
    assert ".." not in styled and ".”." not in styled and ".”." not in harvard(ref, quote=True)


def test_a_quote_without_a_final_stop_is_followed_by_one() -> None:
    document = _document(url="")
    ref = reference_for(_passage(document), document, "Mutuals in primary care are few")
    assert house_style(ref).endswith("“Mutuals in primary care are few”.")


def test_a_publisher_that_only_repeats_the_authors_is_named_once() -> None:
    document = _document(authors="Baxendale", publisher="Baxendale", url="")
    ref = reference_for(_passage(document), document)
    assert house_style(ref).count("Baxendale") == 1
    assert harvard(ref).count("Baxendale") == 1


def test_harvard_with_full_metadata() -> None:
    document = _document()
    ref = reference_for(_passage(document), document, "Their GP partners are cautious.")
    assert harvard(ref) == (
        "Baxendale and Mutual Ventures (2019) Our Mutual Interest in Health and Social Care. "
        f"Department for Digital, Culture, Media and Sport, p. 24. Available at: {URL}."
    )
    assert harvard(ref, quote=True).endswith(f"Available at: {URL}. “Their GP partners are cautious.”")


def test_harvard_with_missing_metadata_says_no_date_and_leads_with_the_title() -> None:
    document = _document(authors="", date="", publisher="", url="")
    ref = reference_for(_passage(document), document)
    assert harvard(ref) == "Our Mutual Interest in Health and Social Care (n.d.) pp. 23–24."
    no_pages = replace(ref, pages="")
    assert harvard(no_pages) == "Our Mutual Interest in Health and Social Care (n.d.)."
    assert harvard(replace(no_pages, authors="Baxendale")) == "Baxendale (n.d.) Our Mutual Interest in Health and Social Care."


@pytest.mark.parametrize(
    ("quote", "pages"),
    [
        ("Those that exist report strong staff engagement.", "p. 23"),
        ("Several now plan to expand into community services.", "p. 24"),
        ("strong staff engagement.\n\nTheir GP partners", "pp. 23–24"),
        ("A sentence the passage does not hold.", "pp. 23–24"),  # cannot be placed: the passage's pages
    ],
)
def test_pages_are_those_the_quote_is_on(quote: str, pages: str) -> None:
    document = _document()
    assert reference_for(_passage(document), document, quote).pages == pages


def test_a_document_without_pages_gives_no_page() -> None:
    document = _document()
    passage = replace(_passage(document), page=0, page_end=0)
    blocks = tuple(replace(b, page=0) for b in document.blocks)
    ref = reference_for(passage, replace(document, blocks=blocks), "Their GP partners are cautious.")
    assert ref.pages == ""
    assert "Section: High potential service areas › Primary Care." in house_style(ref)
    assert harvard(ref) == (
        "Baxendale and Mutual Ventures (2019) Our Mutual Interest in Health and Social Care. "
        f"Department for Digital, Culture, Media and Sport. Available at: {URL}."
    )


@pytest.mark.parametrize(("date", "year"), [("2019-11-04", "2019"), ("November 2019", "2019"), ("2019", "2019"), ("", "")])
def test_the_year_comes_from_the_document_date(date: str, year: str) -> None:
    document = _document(date=date)
    assert reference_for(_passage(document), document).year == year


def test_reference_fields_are_the_library_metadata() -> None:
    document = _document()
    ref = reference_for(_passage(document), document, "Mutuals in primary care are few.")
    assert ref == Reference(
        authors="Baxendale and Mutual Ventures",
        year="2019",
        title="Our Mutual Interest in Health and Social Care (full report)",
        publisher="Department for Digital, Culture, Media and Sport",
        section=SECTION,
        pages="p. 23",
        url=URL,
        quote="Mutuals in primary care are few.",
        doc_id="report",
    )


def test_a_citation_reference_quotes_exactly_the_span_the_answer_cites(assistant) -> None:  # type: ignore[no-untyped-def]
    answer = assistant.ask("Are mutuals actually making money?")
    assert answer.citations
    for citation in answer.citations:
        document = assistant.document(citation.passage.doc_id)
        ref = citation_reference(citation, document)
        assert ref.quote == document.text[citation.quote_start : citation.quote_end]
        assert ref.quote in document.text
        for start, end in citation.spans:
            assert document.text[start:end] in ref.quote  # every sentence the answer quotes, in the one span
        assert ref.authors == "Baxendale and Mutual Ventures" or ref.authors == "Baxendale"
        assert ref.year == "2019" and ref.section == citation.passage.section
