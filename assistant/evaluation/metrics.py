"""Retrieval metrics: standard IR measures from ir-measures (trec_eval's code), plus the context-budget and
multi-hop checks.

ir-measures replaced ranx: the same figures (checked on every split), but ranx's numba functions cost 5–6 s
to load in each evaluating process, and about 30 s to compile on a fresh install."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from assistant.evaluation.baselines import Hit
from assistant.evaluation.questions import Question
from assistant.evaluation.relevance import content_words, covered, is_relevant

K_MAX = 10
CONTEXT_BUDGET = 2000
# the names the reports use → ir-measures' names
IR_METRICS = {
    **{f"hit_rate@{k}": f"Success@{k}" for k in range(1, K_MAX + 1)},
    "recall@5": "R@5",
    "recall@10": "R@10",
    "mrr@10": "RR@10",
    "ndcg@10": "nDCG@10",
}
MISSING = "__no_relevant_chunk__"


@dataclass
class Outcome:
    """What one system returned for one question, and how it was judged."""

    question: Question
    hits: list[Hit]
    relevant: list[bool]
    ms: float
    hit_in_budget: bool
    all_evidence_at5: bool
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def rank(self) -> int | None:
        return next((i + 1 for i, r in enumerate(self.relevant) if r), None)


def qrels_for(questions: list[Question], all_hits: list[Hit]) -> dict[str, dict[str, int]]:
    """Every chunk of a system that supports each question (judged by the relevance rule)."""
    qrels: dict[str, dict[str, int]] = {}
    for q in questions:
        if not q.answerable:
            continue
        words = [set(content_words(e)) for e in q.evidence]
        relevant: dict[str, int] = {}
        for hit in all_hits:
            chunk_words = set(content_words(hit.text))
            if any(w and len(w & chunk_words) >= 0.7 * len(w) for w in words) and is_relevant(q.evidence, hit.text):
                relevant[hit.id] = 1
        qrels[q.id] = relevant or {MISSING: 1}
    return qrels


def judge(question: Question, hits: list[Hit], ms: float) -> Outcome:
    relevant = [is_relevant(question.evidence, h.text) for h in hits] if question.answerable else [False] * len(hits)
    context = "\n\n".join(h.text for h in hits)[:CONTEXT_BUDGET]
    in_budget = question.answerable and is_relevant(question.evidence, context)
    found: set[int] = set()
    for h in hits[:5]:
        found |= covered(question.evidence, h.text)
    all5 = question.answerable and len(found) == len(question.evidence)
    return Outcome(question, hits, relevant, ms, bool(in_budget), bool(all5))


def ir_scores(outcomes: list[Outcome], qrels: dict[str, dict[str, int]]) -> dict[str, float]:
    """Mean hit rate@1–10, recall@5/10, MRR@10 and nDCG@10 over the answerable questions (a question with no
    hits scores 0, not left out)."""
    import ir_measures

    answerable = [o for o in outcomes if o.question.answerable]
    if not answerable:
        return {}
    run = []
    for o in answerable:
        ranked = list(dict.fromkeys(h.id for h in o.hits)) or ["__empty__"]  # a passage counts at its first rank
        run += [ir_measures.ScoredDoc(o.question.id, doc, 1.0 / (i + 1)) for i, doc in enumerate(ranked)]
    judged = [ir_measures.Qrel(o.question.id, doc, rel) for o in answerable for doc, rel in qrels[o.question.id].items()]
    measures = {name: ir_measures.parse_measure(spec) for name, spec in IR_METRICS.items()}
    scores = ir_measures.calc_aggregate(list(measures.values()), judged, run)
    return {name: round(float(scores[measure]), 4) for name, measure in measures.items()}


def summarise(outcomes: list[Outcome], qrels: dict[str, dict[str, int]]) -> dict[str, float]:
    """All retrieval metrics for a set of questions (unanswerable ones excluded)."""
    answerable = [o for o in outcomes if o.question.answerable]
    summary: dict[str, float] = {"n": float(len(answerable))}
    if not answerable:
        return summary
    summary.update(ir_scores(answerable, qrels))
    summary["hit_in_2000_chars"] = round(sum(o.hit_in_budget for o in answerable) / len(answerable), 4)
    multi = [o for o in answerable if len(o.question.evidence) > 1]
    if multi:
        summary["multi_evidence_any@5"] = round(sum(bool(o.rank and o.rank <= 5) for o in multi) / len(multi), 4)
        summary["multi_evidence_all@5"] = round(sum(o.all_evidence_at5 for o in multi) / len(multi), 4)
    return summary


def latency(outcomes: list[Outcome]) -> dict[str, float]:
    times = sorted(o.ms for o in outcomes)
    if not times:
        return {}
    return {"p50_ms": round(percentile(times, 50), 2), "p95_ms": round(percentile(times, 95), 2)}


def percentile(sorted_values: list[float], pct: float) -> float:
    if len(sorted_values) == 1:
        return sorted_values[0]
    quantiles = statistics.quantiles(sorted_values, n=100, method="inclusive")
    return quantiles[min(98, max(0, int(pct) - 1))]
