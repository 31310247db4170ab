"""``assistant eval --ablate``: every hand-written cue, bonus and rule switched off in turn, in the same run.

A rule earns its place by what is lost without it on every split — above all on test, blind and unseen,
which nothing was tuned on. Each row re-runs retrieval and answers for all questions with one setting
changed; the table shows the change against the full system.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from assistant.evaluation.answers import answer_rows, summarise_answers
from assistant.evaluation.metrics import K_MAX, judge, summarise

HEADLINE = ("hit@5", "mrr@10", "evidence", "citation", "honest", "false_refusals")


@dataclass(frozen=True)
class Rule:
    name: str
    part: str  # "retrieval" or "answers"
    off: dict[str, Any]


RULES = (
    Rule("sentence-level dense score", "retrieval", {"sentence_weight": 0.0}),
    Rule("term coverage (retrieval)", "retrieval", {"coverage_weight": 0.0}),
    Rule("footnote speaks for the passage citing it", "retrieval", {"footnote_inheritance": False}),
    Rule("footnote and bibliography penalty", "retrieval", {"reference_penalty": 0.0}),
    Rule("glossary entry for 'what is X?'", "retrieval", {"definition_boost": 0.0}),
    Rule("document named by an alias", "retrieval", {"document_boost": 0.0}),
    Rule("recommending passages for 'should…?' (retrieval)", "retrieval", {"recommendation_boost": 0.0}),
    Rule("front matter for questions about a document", "retrieval", {"about_boost": 0.0}),
    Rule("sentences stating a figure or date for 'how many…?', 'when…?'", "retrieval", {"answer_type_weight": 0.0}),
    Rule("acronym expansion from the documents", "retrieval", {"acronym_expansion": False}),
    Rule("synonyms in the corpus profile", "retrieval", {"profile_synonyms": False}),
    Rule("two-part questions searched part by part", "retrieval", {"decompose": False}),
    Rule("a rewritten follow-up also searched as asked", "retrieval", {"as_asked_weight": 0.0}),
    Rule("names whose words no passage holds together", "retrieval", {"unplaced_names": False}),
    Rule("term coverage (answers)", "answers", {"coverage_weight": 0.0}),
    Rule("answer-type bonus (figure, date, name)", "answers", {"type_weight": 0.0, "direct_weight": 0.0}),
    Rule("direct-answer bonus (the figure of what was asked about)", "answers", {"direct_weight": 0.0}),
    Rule("recommendations for 'should…?' (answers)", "answers", {"recommendation_weight": 0.0}),
    Rule("front matter for questions about a document (answers)", "answers", {"about_weight": 0.0}),
    Rule("signpost penalty", "answers", {"signpost_penalty": 0.0}),
    Rule("bibliography entries quoted only when sources are asked about", "answers", {"reference_lists_quiet": False}),
    Rule("continuation sentences", "answers", {"continuation": False}),
    Rule("list answers", "answers", {"list_answers": False}),
    Rule("lead sentences from the best passage", "answers", {"lead_sentences": 1}),
    Rule("near misses: what is asked and not stated", "answers", {"near_miss": False}),
    Rule("a figure must be of what is asked (30% of its weight, not one word)", "answers", {"focus_share": 0.0}),
    Rule("a date or name may take its subject from the sentence before", "answers", {"lean_back": False}),
    Rule("full-coverage refusal floor", "answers", {"full_coverage_cosine": 1.0}),
)


def _variant(assistant: Any, rule: Rule | None) -> Any:
    if rule is None:
        return assistant
    settings = assistant.settings
    part = getattr(settings, rule.part)
    return assistant.with_settings(replace(settings, **{rule.part: replace(part, **rule.off)}))


def _measure(groups: list[Any], rule: Rule | None) -> dict[str, dict[str, float]]:
    from assistant.evaluation.metrics import qrels_for
    from assistant.evaluation.run import ProjectSystem, split_of

    outcomes: dict[str, list[Any]] = {}
    rows: list[dict[str, Any]] = []
    qrels: dict[str, dict[str, int]] = {}
    for group in groups:
        assistant = _variant(group.assistant, rule)
        system = ProjectSystem(assistant)
        qrels.update(qrels_for(group.questions, system.all_hits))
        for q in group.questions:
            outcomes.setdefault(split_of(group, q), []).append(judge(q, system.retrieve(q.question, q.history, K_MAX), 0.0))
        rows += answer_rows(assistant, group.questions, split=group.name if group.name.startswith("unseen:") else None)
    unseen = [o for name, os in outcomes.items() if name.startswith("unseen:") for o in os]
    if unseen:
        outcomes["unseen"] = unseen
        rows += [{**row, "split": "unseen"} for row in rows if row["split"].startswith("unseen:")]
    out: dict[str, dict[str, float]] = {}
    for split, rs in outcomes.items():
        retrieval = summarise(rs, qrels)
        answers = summarise_answers([r for r in rows if r["split"] == split])
        out[split] = {
            "hit@5": retrieval.get("hit_rate@5", 0.0),
            "mrr@10": retrieval.get("mrr@10", 0.0),
            "evidence": answers["answer_contains_evidence"],
            "citation": answers["supporting_citation"],
            "honest": answers["near_miss_honest"],
            "false_refusals": answers["false_refusals"],
        }
    return out


def ablate(groups: list[Any], rules: tuple[Rule, ...] = RULES, progress: bool = False) -> dict[str, Any]:
    """The full system's figures per split, and for each rule the change when it is off."""
    from tqdm import tqdm

    base = _measure(groups, None)
    rows = []
    for rule in tqdm(rules, desc="ablation", unit="rule", disable=not progress, leave=False):
        measured = _measure(groups, rule)
        delta = {
            split: {m: round(measured[split][m] - base[split][m], 4) for m in HEADLINE} for split in base if split in measured
        }
        rows.append({"rule": rule.name, "part": rule.part, "off": rule.off, "delta": delta})
    return {"base": base, "rules": rows}
