"""``assistant eval``: run the reference questions through the project and the baselines, side by side."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant.evaluation.baselines import BM25Only, Hit, LangChainTutorial, System
from assistant.evaluation.metrics import K_MAX, Outcome, judge, latency, qrels_for, summarise
from assistant.evaluation.questions import Question, QuestionsError, load_questions, validate
from assistant.index.embedder import bundled_model_path

PROJECT = "project"


class ProjectSystem:
    name = PROJECT

    def __init__(self, assistant: Any):
        self.assistant = assistant

    @property
    def all_hits(self) -> list[Hit]:
        return [Hit(p.id, p.text) for p in self.assistant.passages if not p.duplicate_of]

    def retrieve(self, question: str, history: list[dict[str, str]], k: int) -> list[Hit]:
        return [Hit(p.id, p.text) for p in self.assistant.search(question, k=k, history=history)]


def _run_system(system: System, questions: list[Question], tick: Callable[[], None]) -> list[Outcome]:
    outcomes = []
    for q in questions:
        started = time.perf_counter()
        hits = system.retrieve(q.question, q.history, K_MAX)
        ms = (time.perf_counter() - started) * 1000
        outcomes.append(judge(q, hits, ms))
        tick()
    return outcomes


def _system_report(outcomes: list[Outcome], qrels: dict[str, dict[str, int]]) -> dict[str, Any]:
    splits = {
        "all": summarise(outcomes, qrels),
        "dev": summarise([o for o in outcomes if o.question.split == "dev"], qrels),
        "test": summarise([o for o in outcomes if o.question.split == "test"], qrels),
    }
    kinds = sorted({o.question.kind for o in outcomes if o.question.answerable})
    per_kind = {kind: summarise([o for o in outcomes if o.question.kind == kind], qrels) for kind in kinds}
    per_question = {
        o.question.id: {
            "kind": o.question.kind,
            "split": o.question.split,
            "rank": o.rank,
            "hit_in_2000_chars": o.hit_in_budget,
            "top": [h.id for h in o.hits[:3]],
            "ms": round(o.ms, 2),
        }
        for o in outcomes
        if o.question.answerable
    }
    return {"splits": splits, "per_kind": per_kind, "latency": latency(outcomes), "per_question": per_question}


def evaluate(
    assistant: Any,
    questions_path: Path,
    with_baselines: bool = True,
    progress: bool = True,
) -> dict[str, Any]:
    """Run every system over the questions and return the report (a JSON-ready dict)."""
    questions = load_questions(questions_path)
    problems = validate(questions, {d.id: d.text for d in assistant.documents})
    if problems:
        raise QuestionsError(f"The questions file has {len(problems)} problems, first: {problems[0]}")
    started = time.perf_counter()
    systems: list[System] = [ProjectSystem(assistant)]
    if with_baselines:
        systems.append(BM25Only(assistant.passages))
        systems.append(LangChainTutorial(assistant.settings.corpus_dir, str(bundled_model_path())))

    from tqdm import tqdm

    bar = tqdm(total=len(systems) * len(questions), desc="eval", unit="q", disable=not progress, leave=False)
    report_systems: dict[str, Any] = {}
    all_outcomes: dict[str, list[Outcome]] = {}
    for system in systems:
        bar.set_description(f"eval {system.name}")
        outcomes = _run_system(system, questions, lambda: bar.update(1))
        qrels = qrels_for(questions, system.all_hits)  # type: ignore[attr-defined]
        report_systems[system.name] = _system_report(outcomes, qrels)
        all_outcomes[system.name] = outcomes
    bar.close()

    manifest = assistant.index.manifest
    return {
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "questions_file": str(questions_path),
        "counts": {
            "questions": len(questions),
            "answerable": sum(q.answerable for q in questions),
            "dev": sum(q.split == "dev" for q in questions),
            "test": sum(q.split == "test" for q in questions),
            "by_kind": {k: sum(q.kind == k for q in questions) for k in sorted({q.kind for q in questions})},
        },
        "index": {
            "model": manifest.get("model"),
            "passages": len(assistant.passages),
            "index_type": manifest.get("index_type"),
            "chunking": manifest.get("chunking"),
        },
        "systems": report_systems,
        "seconds": round(time.perf_counter() - started, 1),
    }


def _answer_score(row: dict[str, Any]) -> int:
    """How well one question was answered: right refusal or evidence in the text, then a supporting citation."""
    if not row.get("answerable", True):
        return 2 * bool(row.get("refused"))
    return int(bool(row.get("contains_evidence"))) + int(bool(row.get("supporting_citation")))


def _answer_changes(current: dict[str, Any], previous: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    now = current.get("answers", {}).get("per_question", {})
    before = previous.get("answers", {}).get("per_question", {})
    better, worse = [], []
    for qid, row in now.items():
        if qid not in before:
            continue
        old, new = _answer_score(before[qid]), _answer_score(row)
        change = {"id": qid, "kind": row.get("kind", ""), "from": _answer_label(before[qid]), "to": _answer_label(row)}
        if new > old:
            better.append(change)
        elif new < old:
            worse.append(change)
    return better, worse


def _answer_label(row: dict[str, Any]) -> str:
    if not row.get("answerable", True):
        return "refused" if row.get("refused") else "answered"
    if row.get("refused"):
        return "refused"
    parts = ["evidence" if row.get("contains_evidence") else "no evidence"]
    parts.append("supporting citation" if row.get("supporting_citation") else "no supporting citation")
    return ", ".join(parts)


def compare(current: dict[str, Any], previous: dict[str, Any], system: str = PROJECT) -> dict[str, list[dict[str, Any]]]:
    """Questions whose first relevant rank got better or worse since ``previous``, and (when both reports
    have answers) questions whose answer gained or lost its evidence, its supporting citation or its refusal."""
    now = current["systems"][system]["per_question"]
    before = previous.get("systems", {}).get(system, {}).get("per_question", {})
    better, worse = [], []
    for qid, row in now.items():
        if qid not in before:
            continue
        old, new = before[qid].get("rank"), row.get("rank")
        old_key = old if old is not None else K_MAX + 1
        new_key = new if new is not None else K_MAX + 1
        if new_key < old_key:
            better.append({"id": qid, "kind": row["kind"], "from": old, "to": new})
        elif new_key > old_key:
            worse.append({"id": qid, "kind": row["kind"], "from": old, "to": new})
    answers_better, answers_worse = _answer_changes(current, previous)
    return {"better": better, "worse": worse, "answers_better": answers_better, "answers_worse": answers_worse}
