"""Answer metrics: honest refusals and near misses, gold evidence in the answer, supporting citations, no
repeated sentence, follow-ups resolved and stand-alone questions left alone, span integrity, latency.

The evaluation asks through the public boundary only (``Assistant.ask``), as a user would.
"""

from __future__ import annotations

import re
import time
from dataclasses import replace
from typing import Any

from assistant.answers.types import Answer
from assistant.evaluation.metrics import percentile
from assistant.evaluation.questions import Question
from assistant.evaluation.relevance import fold, is_relevant

_MARKERS = re.compile(r"\s*\[\d+\]")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9“\"‘(£])")
WARM_UP = 3


def answer_text(answer: Answer) -> str:
    """The answer as prose: citation markers and list dashes removed."""
    lines = [line[2:] if line.startswith("- ") else line for line in answer.text.split("\n")]
    return _MARKERS.sub("", " ".join(lines))


def repeats_a_sentence(answer: Answer) -> bool:
    """The same sentence (after folding case, spacing, quotes and markers) appears twice in the answer."""
    sentences = [fold(s) for line in answer.text.split("\n") for s in _SENTENCE.split(_MARKERS.sub("", line.removeprefix("- ")))]
    sentences = [s for s in sentences if len(s) > 20]
    return len(sentences) != len(set(sentences))


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


def honest(q: Question, answer: Answer) -> bool:
    """A near miss is answered honestly when refused, or partial with the missing part named; an off-topic
    question when refused."""
    if answer.refused:
        return True
    if answer.partial and q.off_topic:
        return True
    if answer.partial:
        named = fold(answer.missing)
        return any(fold(term) in named for term in q.missing)
    return False


def borrowed(question: str, query: str) -> bool:
    """The query searched holds words the question does not: it was read with an earlier topic."""
    asked = set(re.findall(r"[a-z0-9]+", question.casefold()))
    return any(w not in asked for w in re.findall(r"[a-z0-9]+", query.casefold()))


def _rate(values: list[bool]) -> float:
    return round(sum(values) / len(values), 4) if values else 0.0


def summarise_answers(rows: list[dict[str, Any]]) -> dict[str, float]:
    answerable = [r for r in rows if r["answerable"]]
    off_topic = [r for r in rows if r["kind"] == "unanswerable"]
    near = [r for r in rows if r["kind"] == "near_miss"]
    followups = [r for r in answerable if r["kind"] == "followup"]
    standalone = [r for r in rows if r["standalone"]]
    times = sorted(r["ms"] for r in rows)
    return {
        "answer_contains_evidence": _rate([r["contains_evidence"] for r in answerable]),
        "supporting_citation": _rate([r["supporting_citation"] for r in answerable]),
        "false_refusals": _rate([r["refused"] for r in answerable]),
        "false_partials": _rate([r["state"] == "partial" for r in answerable]),
        "near_miss_honest": _rate([r["honest"] for r in near]),
        "off_topic_refused": _rate([r["refused"] for r in off_topic]),
        "off_topic_honest": _rate([r["honest"] for r in off_topic]),
        "repeated_sentence_answers": float(sum(r["repeats"] for r in rows)),
        "followup_evidence_top5": _rate([r["followup_top5"] for r in followups]),
        "standalone_left_alone": _rate([not r["borrowed"] for r in standalone]),
        "citation_span_integrity": _rate([r["spans_intact"] for r in rows]),
        "ask_p50_ms": round(percentile(times, 50), 2) if times else 0.0,
        "ask_p95_ms": round(percentile(times, 95), 2) if times else 0.0,
        "n_answerable": float(len(answerable)),
        "n_near_miss": float(len(near)),
        "n_off_topic": float(len(off_topic)),
        "n_followup": float(len(followups)),
        "n_standalone": float(len(standalone)),
    }


def _row(assistant: Any, q: Question) -> dict[str, Any]:
    started = time.perf_counter()
    answer = assistant.ask(q.question, history=q.history)
    ms = (time.perf_counter() - started) * 1000
    prose = answer_text(answer)
    followup_top5 = False
    if q.kind == "followup" and q.answerable:
        followup_top5 = any(is_relevant(q.evidence, p.text) for p in assistant.search(q.question, k=5, history=q.history))
    return {
        "id": q.id,
        "kind": q.kind,
        "split": q.split,
        "answerable": q.answerable,
        "state": answer.state,
        "refused": answer.refused,
        "honest": honest(q, answer),
        "missing": answer.missing,
        "contains_evidence": q.answerable and not answer.refused and is_relevant(q.evidence, prose),
        "supporting_citation": q.answerable and any(is_relevant(q.evidence, c.passage.text) for c in answer.citations),
        "nearest_cited": bool(q.nearest) and any(is_relevant(q.nearest, c.passage.text) for c in answer.citations),
        "repeats": repeats_a_sentence(answer),
        "spans_intact": spans_intact(assistant, answer),
        "followup_top5": followup_top5,
        "standalone": q.standalone,
        "rewritten": answer.rewritten,
        "borrowed": borrowed(q.question, answer.query),
        "ms": ms,
        "query": answer.query,
    }


def answer_rows(
    assistant: Any, questions: list[Question], progress: bool = False, split: str | None = None
) -> list[dict[str, Any]]:
    for q in questions[:WARM_UP]:
        assistant.ask(q.question, history=q.history)
    from tqdm import tqdm

    rows = [_row(assistant, q) for q in tqdm(questions, desc="answers", unit="q", disable=not progress, leave=False)]
    if split is not None:
        for row in rows:
            row["split"] = split
    return rows


def refusal_tradeoff(assistant: Any, questions: list[Question]) -> list[dict[str, float]]:
    """Honest answers to near-miss and off-topic questions vs false refusals on answerable ones, across
    refusal thresholds: the same assistant with only the threshold changed."""
    rows = []
    for threshold in (0.40, 0.45, 0.50, 0.55, 0.60):
        variant = assistant.with_settings(
            replace(assistant.settings, answers=replace(assistant.settings.answers, refusal_min_cosine=threshold))
        )
        outcomes = [(q, variant.ask(q.question, history=q.history)) for q in questions]
        rows.append(
            {
                "min_cosine": threshold,
                "honest": _rate([honest(q, a) for q, a in outcomes if not q.answerable]),
                "false_refusals": _rate([a.refused for q, a in outcomes if q.answerable]),
            }
        )
    return rows
