"""Answer metrics: refusals, gold evidence in the answer, supporting citations, span integrity, latency."""

from __future__ import annotations

import re
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from assistant.answers.types import Answer
from assistant.evaluation.metrics import percentile
from assistant.evaluation.questions import Question, load_questions
from assistant.evaluation.relevance import is_relevant

_MARKERS = re.compile(r"\s*\[\d+\]")
WARM_UP = 3


def answer_text(answer: Answer) -> str:
    """The answer as prose: citation markers and list dashes removed."""
    lines = [line[2:] if line.startswith("- ") else line for line in answer.text.split("\n")]
    return _MARKERS.sub("", " ".join(lines))


def spans_intact(assistant: Any, answer: Answer) -> bool:
    """Every citation quotes its document exactly, and every highlighted span lies inside its passage."""
    for c in answer.citations:
        text = assistant.document(c.passage.doc_id).text
        if text[c.passage.start : c.passage.end] != c.passage.text:
            return False
        for start, end in c.spans:
            if not (c.passage.start <= start < end <= c.passage.end):
                return False
    return True


def _rate(values: list[bool]) -> float:
    return round(sum(values) / len(values), 4) if values else 0.0


def _summary(rows: list[dict[str, Any]]) -> dict[str, float]:
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    followups = [r for r in answerable if r["kind"] == "followup"]
    times = sorted(r["ms"] for r in rows)
    return {
        "refused_unanswerable": _rate([r["refused"] for r in unanswerable]),
        "false_refusals": _rate([r["refused"] for r in answerable]),
        "answer_contains_evidence": _rate([r["contains_evidence"] for r in answerable]),
        "supporting_citation": _rate([r["supporting_citation"] for r in answerable]),
        "citation_span_integrity": _rate([r["spans_intact"] for r in rows]),
        "followup_evidence_top5": _rate([r["followup_top5"] for r in followups]),
        "ask_p50_ms": round(percentile(times, 50), 2) if times else 0.0,
        "ask_p95_ms": round(percentile(times, 95), 2) if times else 0.0,
        "n_answerable": float(len(answerable)),
        "n_unanswerable": float(len(unanswerable)),
    }


def _row(assistant: Any, q: Question) -> dict[str, Any]:
    started = time.perf_counter()
    answer = assistant.ask(q.question, history=q.history)
    ms = (time.perf_counter() - started) * 1000
    prose = answer_text(answer)
    followup_top5 = False
    if q.kind == "followup":
        followup_top5 = any(is_relevant(q.evidence, p.text) for p in assistant.search(q.question, k=5, history=q.history))
    return {
        "id": q.id,
        "kind": q.kind,
        "split": q.split,
        "answerable": q.answerable,
        "refused": answer.refused,
        "contains_evidence": q.answerable and not answer.refused and is_relevant(q.evidence, prose),
        "supporting_citation": q.answerable and any(is_relevant(q.evidence, c.passage.text) for c in answer.citations),
        "spans_intact": spans_intact(assistant, answer),
        "followup_top5": followup_top5,
        "ms": ms,
        "query": answer.query,
    }


def refusal_tradeoff(assistant: Any, questions: list[Question]) -> list[dict[str, float]]:
    """Refusals on unanswerable vs false refusals on answerable questions, across refusal thresholds: the same
    retrieval, answered by answerers that differ only in the threshold (through ``answer(question, hits)``)."""
    from assistant.answers.extractive import ExtractiveAnswerer

    hits = [(q, assistant.retrieve(q.question, assistant.settings.answers.passages, q.history)) for q in questions]
    rows = []
    for threshold in (0.40, 0.45, 0.50, 0.55, 0.60):
        answerer = ExtractiveAnswerer(replace(assistant.settings.answers, refusal_min_cosine=threshold))
        refused = [(q.answerable, answerer.answer(q.question, h).refused) for q, h in hits]
        rows.append(
            {
                "min_cosine": threshold,
                "refused_unanswerable": _rate([r for a, r in refused if not a]),
                "false_refusals": _rate([r for a, r in refused if a]),
            }
        )
    return rows


def evaluate_answers(assistant: Any, questions_path: Path, progress: bool = False) -> dict[str, Any]:
    questions = load_questions(questions_path)
    for q in questions[:WARM_UP]:
        assistant.ask(q.question, history=q.history)
    from tqdm import tqdm

    rows = [_row(assistant, q) for q in tqdm(questions, desc="answers", unit="q", disable=not progress, leave=False)]
    return {
        "dev": _summary([r for r in rows if r["split"] == "dev"]),
        "test": _summary([r for r in rows if r["split"] == "test"]),
        "all": _summary(rows),
        "refusal_tradeoff": refusal_tradeoff(assistant, questions),
        "per_question": {r["id"]: {k: v for k, v in r.items() if k != "id"} for r in rows},
    }
