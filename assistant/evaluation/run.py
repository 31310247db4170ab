"""``assistant eval``: the reference questions through the project and the baselines, split by split.

The shipped library answers the dev, test and blind questions; each unseen report is added to a temporary
copy of the library and answers its own questions there (split ``unseen:<report>``, and ``unseen`` for all
of them). Retrieval is scored for every system; answers for the project.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.evaluation.answers import answer_rows, summarise_answers
from assistant.evaluation.baselines import BM25Only, Hit, LangChainTutorial, System
from assistant.evaluation.metrics import K_MAX, Outcome, judge, latency, qrels_for, summarise
from assistant.evaluation.questions import (
    BLIND_QUESTIONS,
    DEFAULT_QUESTIONS,
    Question,
    QuestionsError,
    file_hash,
    load_questions,
    overlap_distribution,
    unseen_reports,
    validate,
)

PROJECT = "project"
MAIN_SPLITS = ("dev", "test", "blind")


class ProjectSystem:
    name = PROJECT

    def __init__(self, assistant: Any):
        self.assistant = assistant

    @property
    def all_hits(self) -> list[Hit]:
        return [Hit(p.id, p.text) for p in self.assistant.passages if not p.duplicate_of]

    def retrieve(self, question: str, history: list[dict[str, str]], k: int) -> list[Hit]:
        return [Hit(p.id, p.text) for p in self.assistant.search(question, k=k, history=history)]


@dataclass
class Group:
    """Questions answered by one library: the shipped one, or a copy with one unseen report added."""

    name: str  # "shipped" or "unseen:<report>"
    assistant: Any
    questions: list[Question]


def split_of(group: Group, question: Question) -> str:
    return group.name if group.name.startswith("unseen:") else question.split


def _run_system(system: System, questions: list[Question], tick: Callable[[], None]) -> list[Outcome]:
    outcomes = []
    for q in questions:
        started = time.perf_counter()
        hits = system.retrieve(q.question, q.history, K_MAX)
        outcomes.append(judge(q, hits, (time.perf_counter() - started) * 1000))
        tick()
    return outcomes


def _summaries(outcomes: dict[str, list[Outcome]], qrels: dict[str, dict[str, int]]) -> dict[str, Any]:
    """Summaries for each split, plus "unseen" (every unseen report) when there are any."""
    splits = {name: summarise(rows, qrels) for name, rows in outcomes.items()}
    unseen = [o for name, rows in outcomes.items() if name.startswith("unseen:") for o in rows]
    if unseen:
        splits["unseen"] = summarise(unseen, qrels)
    return splits


def retrieval_report(groups: list[Group], with_baselines: bool, progress: bool) -> dict[str, Any]:
    from tqdm import tqdm

    total = sum(len(g.questions) for g in groups) * (3 if with_baselines else 1)
    bar = tqdm(total=total, desc="retrieval", unit="q", disable=not progress, leave=False)
    systems: dict[str, dict[str, Any]] = {}
    chunk_vectors: dict[str, Any] = {}  # the LangChain baseline's chunks, embedded once across the libraries
    for group in groups:
        candidates: list[System] = [ProjectSystem(group.assistant)]
        if with_baselines:
            candidates.append(BM25Only(group.assistant.passages))
            candidates.append(LangChainTutorial(group.assistant.settings.corpus_dir, group.assistant.embedder, chunk_vectors))
        for system in candidates:
            outcomes = _run_system(system, group.questions, lambda: bar.update(1))
            qrels = qrels_for(group.questions, system.all_hits)  # type: ignore[attr-defined]
            entry = systems.setdefault(system.name, {"outcomes": {}, "qrels": {}})
            for o in outcomes:
                entry["outcomes"].setdefault(split_of(group, o.question), []).append(o)
            entry["qrels"].update(qrels)
    bar.close()
    report: dict[str, Any] = {}
    for name, entry in systems.items():
        outcomes, qrels = entry["outcomes"], entry["qrels"]
        shipped = [o for split in MAIN_SPLITS for o in outcomes.get(split, [])]
        kinds = sorted({o.question.kind for o in shipped if o.question.answerable})
        report[name] = {
            "splits": _summaries(outcomes, qrels),
            "per_kind": {kind: summarise([o for o in shipped if o.question.kind == kind], qrels) for kind in kinds},
            "latency": latency([o for rows in outcomes.values() for o in rows]),
            "per_question": {
                o.question.id: {
                    "kind": o.question.kind,
                    "split": split,
                    "rank": o.rank,
                    "hit_in_2000_chars": o.hit_in_budget,
                    "top": [h.id for h in o.hits[:3]],
                    "ms": round(o.ms, 2),
                }
                for split, rows in outcomes.items()
                for o in rows
                if o.question.answerable
            },
        }
    return report


def answers_report(groups: list[Group], progress: bool) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    for group in groups:
        rows += answer_rows(group.assistant, group.questions, progress, group.name if group.name.startswith("unseen:") else None)
    splits = sorted({r["split"] for r in rows}, key=lambda s: (s not in MAIN_SPLITS, s))
    summary = {split: summarise_answers([r for r in rows if r["split"] == split]) for split in splits}
    unseen = [r for r in rows if r["split"].startswith("unseen:")]
    if unseen:
        summary["unseen"] = summarise_answers(unseen)
    return {"splits": summary, "per_question": {r["id"]: {k: v for k, v in r.items() if k != "id"} for r in rows}}


def question_sets(paths: list[Path] | None) -> list[tuple[Path, list[Question]]]:
    chosen = paths or [p for p in (DEFAULT_QUESTIONS, BLIND_QUESTIONS) if p.is_file()]
    return [(path, load_questions(path)) for path in chosen]


def sampled(questions: list[Question], per_split: int | None) -> list[Question]:
    """The first ``per_split`` questions of each split, in file order (all of them when None)."""
    if per_split is None:
        return questions
    taken: dict[str, int] = {}
    kept = []
    for q in questions:
        if taken.get(q.split, 0) < per_split:
            taken[q.split] = taken.get(q.split, 0) + 1
            kept.append(q)
    return kept


def evaluate(
    assistant: Any,
    paths: list[Path] | None = None,
    with_baselines: bool = True,
    with_answers: bool = True,
    with_unseen: bool = True,
    progress: bool = True,
    sample: int | None = None,
) -> dict[str, Any]:
    """Run every system over the questions and return the report (a JSON-ready dict).

    ``sample`` keeps only the first questions of each split of each file: a quick check that every part of
    the evaluation runs (the tests use it), not figures to report; the report says so."""
    from contextlib import ExitStack

    from assistant.evaluation.unseen import library_with

    started = time.perf_counter()
    sets = [(path, sampled(qs, sample)) for path, qs in question_sets(paths)]
    shipped = [q for _, qs in sets for q in qs]
    problems = validate(shipped, {d.id: d.text for d in assistant.documents})
    if problems:
        raise QuestionsError(f"The questions have {len(problems)} problems, first: {problems[0]}")
    files: dict[str, Any] = {
        str(path): {"sha256": file_hash(path), "questions": len(qs), "splits": sorted({q.split for q in qs})} for path, qs in sets
    }
    groups = [Group("shipped", assistant, shipped)]
    with ExitStack() as stack:
        if with_unseen and paths is None:
            for folder in unseen_reports():
                library = stack.enter_context(library_with(folder, assistant))
                questions = sampled(load_questions(folder / "questions.jsonl"), sample)
                problems = validate(questions, {d.id: d.text for d in library.documents})
                if problems:
                    raise QuestionsError(f"The questions of {folder.name} have {len(problems)} problems, first: {problems[0]}")
                files[str(folder / "questions.jsonl")] = {
                    "sha256": file_hash(folder / "questions.jsonl"),
                    "questions": len(questions),
                }
                groups.append(Group(f"unseen:{folder.name}", library, questions))
        report: dict[str, Any] = {
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "sample": sample,
            "question_files": files,
            "counts": _counts(groups),
            "overlap": {g.name: overlap_distribution(g.questions) for g in groups},
            "index": {
                "model": assistant.index.manifest.get("model"),
                "passages": len(assistant.passages),
                "index_type": assistant.index.manifest.get("index_type"),
                "chunking": assistant.index.manifest.get("chunking"),
                "build": assistant.index.name,
            },
            "systems": retrieval_report(groups, with_baselines, progress),
        }
        if with_answers:
            report["answers"] = answers_report(groups, progress)
    report["seconds"] = round(time.perf_counter() - started, 1)
    return report


def _counts(groups: list[Group]) -> dict[str, Any]:
    counts: dict[str, Any] = {}
    for group in groups:
        for q in group.questions:
            split = split_of(group, q)
            row = counts.setdefault(split, {"questions": 0, "answerable": 0, "by_kind": {}})
            row["questions"] += 1
            row["answerable"] += q.answerable
            row["by_kind"][q.kind] = row["by_kind"].get(q.kind, 0) + 1
    return counts


def _answer_score(row: dict[str, Any]) -> int:
    """How well one question was answered: right refusal or evidence in the text, then a supporting citation."""
    if row.get("kind") in ("unanswerable", "near_miss") or not row.get("answerable", True):
        return 2 * bool(row.get("honest", row.get("refused")))
    return int(bool(row.get("contains_evidence"))) + int(bool(row.get("supporting_citation")))


def _answer_label(row: dict[str, Any]) -> str:
    if row.get("kind") in ("unanswerable", "near_miss") or not row.get("answerable", True):
        return row.get("state", "refused" if row.get("refused") else "answered")
    if row.get("refused"):
        return "refused"
    parts = ["evidence" if row.get("contains_evidence") else "no evidence"]
    parts.append("supporting citation" if row.get("supporting_citation") else "no supporting citation")
    return ", ".join(parts)


def _answer_changes(current: dict[str, Any], previous: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    now = current.get("answers", {}).get("per_question", {})
    before = previous.get("answers", {}).get("per_question", {})
    better, worse = [], []
    for qid, row in now.items():
        if qid not in before:
            continue
        old, new = _answer_score(before[qid]), _answer_score(row)
        change = {
            "id": qid,
            "kind": row.get("kind", ""),
            "split": row.get("split", ""),
            "from": _answer_label(before[qid]),
            "to": _answer_label(row),
        }
        if new > old:
            better.append(change)
        elif new < old:
            worse.append(change)
    return better, worse


def compare(current: dict[str, Any], previous: dict[str, Any], system: str = PROJECT) -> dict[str, list[dict[str, Any]]]:
    """Questions whose first relevant rank got better or worse since ``previous``, and (when both reports have
    answers) questions whose answer gained or lost its evidence, its supporting citation or its honesty."""
    now = current["systems"][system]["per_question"]
    before = previous.get("systems", {}).get(system, {}).get("per_question", {})
    better, worse = [], []
    for qid, row in now.items():
        if qid not in before:
            continue
        old, new = before[qid].get("rank"), row.get("rank")
        old_key = old if old is not None else K_MAX + 1
        new_key = new if new is not None else K_MAX + 1
        change = {"id": qid, "kind": row["kind"], "split": row.get("split", ""), "from": old, "to": new}
        if new_key < old_key:
            better.append(change)
        elif new_key > old_key:
            worse.append(change)
    answers_better, answers_worse = _answer_changes(current, previous)
    return {"better": better, "worse": worse, "answers_better": answers_better, "answers_worse": answers_worse}
