"""Hybrid search: best passage first, glossary expansion, duplicates collapsed, a LangChain retriever."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import replace

from langchain_core.retrievers import BaseRetriever

from assistant.retrieval.glossary import build_glossary
from assistant.retrieval.hybrid import reciprocal_rank_fusion


def test_search_returns_k_span_exact_passages_best_first(assistant) -> None:  # type: ignore[no-untyped-def]
    results = assistant.search("how many mutuals are there in health and social care?", k=5)
    assert len(results) == 5
    assert [p.score for p in results] == sorted((p.score for p in results), reverse=True)
    for p in results:
        assert assistant.document(p.doc_id).text[p.start : p.end] == p.text
        assert p.title and p.section is not None


def test_search_finds_the_passage_that_answers(assistant) -> None:  # type: ignore[no-untyped-def]
    top = assistant.search("What share of mutuals are profitable and how much surplus is reinvested?", k=5)
    assert any("96% of mutuals" in p.text for p in top)
    assert any("92% of mutuals reinvest their profits" in p.text for p in top)


def test_glossary_pairs_come_from_the_reports(assistant) -> None:  # type: ignore[no-untyped-def]
    glossary = build_glossary(assistant.passages)
    for acronym, name in {
        "PCN": "Primary Care Network",
        "CCG": "Clinical Commissioning Group",
        "GMS": "General Medical Services",
        "CIC": "Community Interest Company",
        "STP": "Sustainability and Transformation Partnerships",
        "MSP2": "Mutuals Support Programme 2",
    }.items():
        assert glossary.pairs[acronym] == name
    assert "Primary Care Network" in glossary.expand("what do PCNs do?")
    assert "(MSP2)" in glossary.expand("who runs the Mutuals Support Programme 2?")
    assert glossary.expand("nothing to expand here") == "nothing to expand here"


def test_acronym_query_reaches_the_passage_using_the_full_name(assistant) -> None:  # type: ignore[no-untyped-def]
    results = assistant.search("What is an STP?", k=5)
    assert any("Sustainability and Transformation Partnerships" in p.text for p in results)


def test_question_of_what_ought_to_be_done_puts_the_recommendation_first(assistant) -> None:  # type: ignore[no-untyped-def]
    asks = "Should there be training for mutual leaders?"
    plain = "What is the Mutuals Support Programme?"
    without = assistant.with_settings(
        replace(assistant.settings, retrieval=replace(assistant.settings.retrieval, recommendation_boost=0.0))
    )
    with_cue = assistant.search(asks, k=5)
    plain_with_cue = [p.id for p in assistant.search(plain, k=5)]
    without_cue = without.search(asks, k=5)
    plain_without_cue = [p.id for p in without.search(plain, k=5)]
    assert with_cue[0].text.startswith("Recommendation 3: Support development of visionary mutual leaders")
    assert not without_cue[0].text.startswith("Recommendation")
    # a question that does not ask what ought to be done is ranked exactly as before
    assert plain_with_cue == plain_without_cue


def test_text_in_report_and_extract_comes_back_once_from_the_report(assistant) -> None:  # type: ignore[no-untyped-def]
    query = "PossAbilities has more than doubled its turnover since spinning out in 2014"
    results = assistant.search(query, k=10)
    holders = [p for p in results if "more than doubled its turnover" in p.text]
    assert len(holders) == 1
    assert holders[0].doc_id == "report"
    assert "High Potential Service Areas (chapter extract)" in holders[0].also_in
    assert all(p.doc_id != "extract" or not p.duplicate_of for p in results)


def test_short_web_summary_collapses_into_the_long_one(assistant) -> None:  # type: ignore[no-untyped-def]
    results = assistant.search("rekindle the mutual spark", k=10)
    holders = [p for p in results if "rekindle the mutual spark" in p.text]
    assert [p.doc_id for p in holders] == ["web-summary"]


def test_reciprocal_rank_fusion_rewards_agreement() -> None:
    fused = reciprocal_rank_fusion([[1, 2, 3], [3, 1, 4]], [1.0, 1.0], k=60)
    assert max(fused, key=lambda i: fused[i]) == 1
    assert fused[3] > fused[2] and fused[4] > 0


def test_langchain_retriever_returns_documents_with_metadata(assistant) -> None:  # type: ignore[no-untyped-def]
    retriever = assistant.as_retriever(k=3)
    assert isinstance(retriever, BaseRetriever)
    docs = retriever.invoke("Granta Medical Practices employee ownership trust")
    assert len(docs) == 3
    first = docs[0]
    assert {"doc_id", "title", "section", "start", "end", "score"} <= set(first.metadata)
    text = assistant.document(first.metadata["doc_id"]).text
    assert text[first.metadata["start"] : first.metadata["end"]] == first.page_content


def test_retrieval_hands_answers_one_typed_result(assistant) -> None:  # type: ignore[no-untyped-def]
    hits = assistant.retrieve("What share of mutuals are profitable?", k=4)
    assert len(hits.passages) == 4 and hits.query == "What share of mutuals are profitable?"
    for passage in hits.passages:
        sentences = hits.sentences_of(passage)
        assert sentences and all(passage.start <= s.start < s.end <= passage.end for s in sentences)
        assert all(assistant.document(passage.doc_id).text[s.start : s.end] == s.text for s in sentences)
        assert all(-1.0 <= s.cosine <= 1.0 for s in sentences)
    assert hits.vector.shape == (1, assistant.embedder.dimension)
    assert hits.term_weights and all(w > 0 for w in hits.term_weights.values())


def test_rare_words_count_more_than_common_ones(assistant) -> None:  # type: ignore[no-untyped-def]
    weights = assistant.retriever.bm25.weights({"mutual", "teckal"})
    assert weights["teckal"] > 3 * weights["mutual"], "a word on most pages says little about which one answers"


def test_a_question_about_two_things_finds_both(assistant) -> None:  # type: ignore[no-untyped-def]
    from assistant.retrieval.decompose import parts

    question = "Dissemination versus the wholly owned approach: what are the advantages of each?"
    assert len(parts(question)) == 2
    texts = " ".join(p.text for p in assistant.search(question, k=5))
    assert "dissemination" in texts.lower() and "wholly owned" in texts.lower()


def test_a_question_about_the_document_finds_its_front_matter(assistant) -> None:  # type: ignore[no-untyped-def]
    top = assistant.search("Who wrote the report?", k=5)
    assert any("jointly produced by Baxendale and Mutual Ventures" in p.text or "Authors:" in p.text for p in top)


def test_a_document_named_by_an_alias_competes_with_all_its_passages(assistant) -> None:  # type: ignore[no-untyped-def]
    top = assistant.search("What does the GOV.UK page say about when it was published?", k=5)
    assert any(p.doc_id == "govuk" and "Published 4 November 2019" in p.text for p in top)


def test_a_question_asking_for_a_figure_ranks_the_sentence_stating_one(assistant) -> None:  # type: ignore[no-untyped-def]
    # The passages stating the count share few words with this wording; their sentences with the figure lift them.
    question = "How many mutuals are active in health and social care?"
    states_count = re.compile(r"(?:approximately|c\.)\s?60\b")
    top = assistant.search(question, k=5)
    assert states_count.search(top[0].text)
    off = replace(assistant.settings, retrieval=replace(assistant.settings.retrieval, answer_type_weight=0.0))
    assert not states_count.search(assistant.with_settings(off).search(question, k=5)[0].text)


def test_bm25_leaves_its_optional_backends_unimported_and_importable() -> None:
    # numba and scipy cost 0.6 s of every command's start; they must stay usable for whatever needs them later
    # (numba only where something else installed it).
    code = (
        "import sys; from assistant.retrieval.bm25 import BM25Index; "
        "index = BM25Index(['mutuals in primary care', 'adult social care budgets', 'community transport']); "
        "assert index.search('social care', 2)[0][0] == 1; "
        "assert 'numba' not in sys.modules and 'scipy' not in sys.modules, sorted(sys.modules); "
        "import importlib.util, scipy.sparse; "
        "importlib.util.find_spec('numba') is None or __import__('numba'); print('ok')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]
