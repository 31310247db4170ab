"""The evaluation harness: the reference set is valid, the relevance rule holds on hard cases, and the
retrieval gate runs as a regression check."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.evaluation.questions import DEFAULT_QUESTIONS, KINDS, load_questions, validate
from assistant.evaluation.relevance import exact_match, is_relevant, tolerant_match

from .conftest import REPO

# The gate: a little below the figures in README (dev split), so noise does not fail CI but a real
# regression does.
MIN_HIT5 = 0.95  # the dev-split targets of the evaluation issue
MIN_MRR = 0.85


def test_reference_questions_are_valid(assistant) -> None:  # type: ignore[no-untyped-def]
    questions = load_questions(DEFAULT_QUESTIONS)
    assert len(questions) >= 100
    assert validate(questions, {d.id: d.text for d in assistant.documents}) == []
    kinds = {k: sum(q.kind == k for q in questions) for k in KINDS}
    assert kinds["unanswerable"] >= 8 and kinds["followup"] >= 8 and kinds["multi_hop"] >= 8
    test_share = sum(q.split == "test" for q in questions) / len(questions)
    assert 0.25 <= test_share <= 0.4


def test_validator_catches_bad_questions(assistant) -> None:  # type: ignore[no-untyped-def]
    from assistant.evaluation.questions import Question

    bad = [
        Question("a", "q?", "", ("this evidence string is certainly not in the corpus anywhere",), "report", "fact", "dev"),
        Question("a", "q?", "", (), "", "riddle", "train"),
    ]
    problems = validate(bad, {d.id: d.text for d in assistant.documents})
    assert any("not in the corpus" in p for p in problems)
    assert any("duplicate id" in p for p in problems)
    assert any("unknown kind" in p for p in problems) and any("unknown split" in p for p in problems)


def test_relevance_rule_folds_case_quotes_and_markup() -> None:
    evidence = "contract holders have been unwilling to forgo the lifelong benefits offered by it"
    assert exact_match(
        evidence, "**Legal challenges:** Contract  holders have been\nunwilling to forgo the lifelong benefits offered by it⁴³."
    )
    assert exact_match("the risk of ‘last partner standing’", "the risk of 'last partner standing'")


def test_evidence_cut_by_a_chunk_boundary_still_matches() -> None:
    evidence = "Since January 2018, DCMS has launched a £4 million package of support for new mutuals to emerge and existing ones to grow"
    cut = "Since January 2018, DCMS has launched a £4 million package of support for new mutuals to emerge and"
    assert not exact_match(evidence, cut)
    assert tolerant_match(evidence, "Policy context. " + cut)


def test_a_passage_merely_about_mutuals_does_not_match() -> None:
    evidence = "Since January 2018, DCMS has launched a £4 million package of support for new mutuals to emerge and existing ones to grow"
    topical = "DCMS supports mutuals. Many new mutuals emerge and existing mutuals grow with support packages from government since 2010."
    assert not is_relevant([evidence], topical)
    missing_number = (
        "Since January 2018, DCMS has launched a package of support for new mutuals to emerge and existing ones to grow"
    )
    assert not tolerant_match(evidence, missing_number), "every number must be present"


@pytest.mark.slow
def test_retrieval_gate_passes_and_writes_reports(tmp_path: Path, assistant) -> None:  # type: ignore[no-untyped-def]
    env = {**os.environ, "ASSISTANT_INDEX": str(assistant.settings.index_dir)}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "assistant.cli",
            "eval",
            "--json",
            "--no-answers",
            "--out",
            str(tmp_path),
            "--min-hit5",
            str(MIN_HIT5),
            "--min-mrr",
            str(MIN_MRR),
            "--gate-split",
            "dev",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    project = report["systems"]["project"]["splits"]["dev"]
    baseline = report["systems"]["langchain-tutorial"]["splits"]["dev"]
    assert project["hit_rate@5"] >= baseline["hit_rate@5"] + 0.15
    assert {p.suffix for p in tmp_path.iterdir()} == {".json", ".md", ".png"}


def test_gate_fails_when_retrieval_regresses(tmp_path: Path, assistant) -> None:  # type: ignore[no-untyped-def]
    env = {**os.environ, "ASSISTANT_INDEX": str(assistant.settings.index_dir)}
    result = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "eval", "--no-baselines", "--no-answers", "--no-save", "--min-hit5", "1.01"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode != 0
    assert "Retrieval regressed" in result.stderr and "Traceback" not in result.stderr


def test_compare_lists_questions_that_changed(assistant) -> None:  # type: ignore[no-untyped-def]
    from assistant.evaluation.run import compare

    now = {"systems": {"project": {"per_question": {"a": {"rank": 1, "kind": "fact"}, "b": {"rank": None, "kind": "fact"}}}}}
    before = {"systems": {"project": {"per_question": {"a": {"rank": 3, "kind": "fact"}, "b": {"rank": 2, "kind": "fact"}}}}}
    diff = compare(now, before)
    assert [d["id"] for d in diff["better"]] == ["a"] and [d["id"] for d in diff["worse"]] == ["b"]


def test_compare_lists_answers_that_gained_or_lost_their_evidence() -> None:
    from assistant.evaluation.run import compare

    def report(rows: dict[str, dict[str, object]]) -> dict[str, object]:
        return {"systems": {"project": {"per_question": {}}}, "answers": {"per_question": rows}}

    answered = {"answerable": True, "kind": "fact", "refused": False}
    before = report(
        {
            "a": {**answered, "contains_evidence": False, "supporting_citation": True},
            "b": {**answered, "contains_evidence": True, "supporting_citation": True},
            "c": {"answerable": False, "kind": "unanswerable", "refused": True},
        }
    )
    now = report(
        {
            "a": {**answered, "contains_evidence": True, "supporting_citation": True},
            "b": {**answered, "refused": True, "contains_evidence": False, "supporting_citation": False},
            "c": {"answerable": False, "kind": "unanswerable", "refused": True},
        }
    )
    diff = compare(now, before)
    assert [d["id"] for d in diff["answers_better"]] == ["a"]
    assert [(d["id"], d["to"]) for d in diff["answers_worse"]] == [("b", "refused")]
