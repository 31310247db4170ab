"""Evaluation reports: a terminal table, JSON and Markdown files, and a PNG plot — dev, test, blind and unseen
side by side."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from assistant.config import home

REPORTS_DIR = home() / "eval" / "reports"
BENCH_DIR = home() / "eval" / "bench"
SPLIT_ORDER = ("dev", "test", "blind", "unseen")
HEADLINE = ["hit_rate@1", "hit_rate@3", "hit_rate@5", "hit_rate@10", "mrr@10", "ndcg@10", "hit_in_2000_chars"]
SHORT = {
    "hit_rate@1": "hit@1",
    "hit_rate@3": "hit@3",
    "hit_rate@5": "hit@5",
    "hit_rate@10": "hit@10",
    "recall@10": "recall@10",
    "mrr@10": "MRR@10",
    "ndcg@10": "nDCG@10",
    "hit_in_2000_chars": "hit≤2000ch",
}
# What each answer metric is called for people (the app's Evaluation tab uses these too).
ANSWER_NAMES = {
    "answer_contains_evidence": "Answer contains the gold evidence",
    "supporting_citation": "A citation contains the gold evidence",
    "false_refusals": "Answerable questions refused",
    "false_partials": "Answerable questions answered as partial",
    "near_miss_honest": "Near misses answered honestly",
    "off_topic_refused": "Off-topic questions refused",
    "off_topic_honest": "Off-topic questions refused or answered as partial",
    "repeated_sentence_answers": "Answers repeating a sentence",
    "followup_evidence_top5": "Follow-ups with the evidence in the top 5",
    "standalone_left_alone": "Stand-alone questions not rewritten",
    "citation_span_integrity": "Citations quoting their document exactly",
    "ask_p50_ms": "Ask p50 (ms)",
    "ask_p95_ms": "Ask p95 (ms)",
}
# A rate over a kind of question a split may not have: shown as "–" there, not as 0.
ANSWER_COUNTS = {
    "near_miss_honest": "n_near_miss",
    "off_topic_refused": "n_off_topic",
    "off_topic_honest": "n_off_topic",
    "followup_evidence_top5": "n_followup",
    "standalone_left_alone": "n_standalone",
}
RETRIEVAL_NAMES = {
    "hit_rate@1": "Found first",
    "hit_rate@5": "Found in the top 5",
    "hit_rate@10": "Found in the top 10",
    "mrr@10": "Mean reciprocal rank (top 10)",
    "hit_in_2000_chars": "Found in the first 2,000 characters",
}


def answer_value(row: dict[str, Any], metric: str) -> float | None:
    """``row[metric]``, or None when the split has no question of the kind the metric is about."""
    count = ANSWER_COUNTS.get(metric)
    if count and not row.get(count):
        return None
    value = row.get(metric)
    return float(value) if isinstance(value, (int, float)) else None


def latest_report(directory: Path = REPORTS_DIR) -> Path | None:
    reports = sorted(directory.glob("[0-9]*.json")) if directory.is_dir() else []  # <timestamp>.json
    return reports[-1] if reports else None


def splits_in(report: dict[str, Any]) -> list[str]:
    present = report["systems"]["project"]["splits"]
    return [s for s in SPLIT_ORDER if s in present] + sorted(s for s in present if s.startswith("unseen:"))


def save(report: dict[str, Any], directory: Path = REPORTS_DIR) -> Path:
    """Write <timestamp>.json, .md and .png; returns the JSON path."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = report["created"].replace(":", "").replace("-", "")
    path = directory / f"{stamp}.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    path.with_suffix(".md").write_text(markdown(report), encoding="utf-8")
    plot(report, path.with_suffix(".png"))
    return path


def _fmt(value: float | None, metric: str = "") -> str:
    if value is None:
        return "–"
    if metric.endswith("_ms") or metric.startswith("n_") or metric == "repeated_sentence_answers":
        return f"{value:.0f}" if metric.startswith("n_") or metric == "repeated_sentence_answers" else f"{value:.1f}"
    return f"{value:.3f}"


def markdown(report: dict[str, Any]) -> str:
    systems = report["systems"]
    splits = splits_in(report)
    lines = [f"# Evaluation report {report['created']}", ""]
    if report.get("sample"):
        lines += [f"**A sample: the first {report['sample']} questions of each split. These are not figures to report.**", ""]
    lines.append(
        f"Index: {report['index']['passages']} passages, {report['index']['model']}, {report['index']['index_type']} FAISS. Run took {report.get('seconds', 0)} s."
    )
    lines += [
        "",
        "Question files (the blind and unseen files are never tuned on; their hashes identify the exact set scored):",
        "",
    ]
    lines += ["| file | questions | sha256 |", "|---|---|---|"]
    for path, info in report.get("question_files", {}).items():
        lines.append(
            f"| {Path(path).parent.name + '/' if 'unseen' in path else ''}{Path(path).name} | {info['questions']} | `{info['sha256'][:16]}…` |"
        )
    counts = report.get("counts", {})
    lines += ["", "| split | questions | answerable |", "|---|---|---|"]
    for split in splits:
        if split in counts:
            lines.append(f"| {split} | {counts[split]['questions']} | {counts[split]['answerable']} |")
    overlap = report.get("overlap")
    if overlap:
        lines += ["", "Own words — longest run of words a question copies from its evidence (names and figures aside):", ""]
        lines += ["| questions | 0 | 1 | 2 | 3 | 4+ |", "|---|---|---|---|---|---|"]
        for name, dist in overlap.items():
            lines.append(f"| {name} | " + " | ".join(str(dist.get(k, 0)) for k in ("0", "1", "2", "3", "4+")) + " |")
    lines += ["", "## Retrieval", ""]
    lines.append("| split | system | " + " | ".join(SHORT[m] for m in HEADLINE) + " |")
    lines.append("|---" * (len(HEADLINE) + 2) + "|")
    for split in splits:
        for name, data in systems.items():
            row = data["splits"].get(split)
            if row:
                bold = "**" if name == "project" else ""
                lines.append(
                    f"| {split} | {bold}{name}{bold} | " + " | ".join(f"{bold}{row.get(m, 0):.3f}{bold}" for m in HEADLINE) + " |"
                )
    if "langchain-tutorial" in systems:
        lines.append("")
        for split in splits:
            p = systems["project"]["splits"].get(split, {})
            b = systems["langchain-tutorial"]["splits"].get(split, {})
            if p and b:
                lines.append(
                    f"- {split}: hit@5 {p.get('hit_rate@5', 0):.3f} vs LangChain tutorial {b.get('hit_rate@5', 0):.3f} ({p.get('hit_rate@5', 0) - b.get('hit_rate@5', 0):+.3f})."
                )
    lines += ["", "## Per kind of question (hit@5 / MRR@10; dev, test and blind)", ""]
    names = list(systems)
    lines.append("| kind | n | " + " | ".join(names) + " |")
    lines.append("|---" * (len(names) + 2) + "|")
    for kind, row in systems["project"]["per_kind"].items():
        cells = [
            f"{systems[n]['per_kind'].get(kind, {}).get('hit_rate@5', 0):.2f} / {systems[n]['per_kind'].get(kind, {}).get('mrr@10', 0):.2f}"
            for n in names
        ]
        lines.append(f"| {kind} | {int(row.get('n', 0))} | " + " | ".join(cells) + " |")
    answers = report.get("answers")
    if answers:
        answer_splits = [s for s in splits if s in answers["splits"]]
        lines += [
            "",
            "## Answers (project, extractive)",
            "",
            "| metric | " + " | ".join(answer_splits) + " |",
            "|---" * (len(answer_splits) + 1) + "|",
        ]
        for metric, label in ANSWER_NAMES.items():
            lines.append(
                f"| {label} | "
                + " | ".join(_fmt(answer_value(answers["splits"][s], metric), metric) for s in answer_splits)
                + " |"
            )
        lines.append(
            "| questions (answerable / near miss / off topic / follow-up / stand-alone with history) | "
            + " | ".join(
                "/".join(
                    _fmt(answers["splits"][s].get(k), k)
                    for k in ("n_answerable", "n_near_miss", "n_off_topic", "n_followup", "n_standalone")
                )
                for s in answer_splits
            )
            + " |"
        )
        tradeoff = answers.get("refusal_tradeoff")
        if tradeoff:
            lines += ["", "Refusal trade-off on dev (min cosine of the best sentence):", ""]
            lines += ["| min cosine | near misses and off-topic answered honestly | answerable refused |", "|---|---|---|"]
            lines += [f"| {r['min_cosine']:.2f} | {r['honest']:.3f} | {r['false_refusals']:.3f} |" for r in tradeoff]
    ablation = report.get("ablation")
    if ablation:
        lines += ablation_markdown(ablation)
    diff = report.get("compare")
    if diff:
        lines += ["", f"## Change since {diff['previous']}", ""]
        lines.append(f"Retrieval better: {', '.join(d['id'] for d in diff['better']) or 'none'}.")
        lines.append(f"Retrieval worse: {', '.join(d['id'] for d in diff['worse']) or 'none'}.")
        for word, key in (("better", "answers_better"), ("worse", "answers_worse")):
            rows = diff.get(key, [])
            lines.append(f"Answers {word}: " + (", ".join(f"{d['id']} ({d['from']} → {d['to']})" for d in rows) or "none") + ".")
    return "\n".join(lines) + "\n"


def ablation_markdown(ablation: dict[str, Any]) -> list[str]:
    splits = [s for s in SPLIT_ORDER if s in ablation["base"]]
    lines = ["", "## Ablation: each rule off in turn (change against the full system)", ""]
    lines.append("Columns: hit@5 and answer-contains-evidence per split; a negative number is what the rule earns.")
    lines.append("")
    header = " | ".join(f"{s} hit@5 | {s} evidence" for s in splits)
    lines += [f"| rule | {header} | blind honest |", "|---" * (2 * len(splits) + 2) + "|"]
    base = ablation["base"]
    lines.append(
        "| (full system) | "
        + " | ".join(f"{base[s]['hit@5']:.3f} | {base[s]['evidence']:.3f}" for s in splits)
        + f" | {base.get('blind', {}).get('honest', 0):.3f} |"
    )
    for row in ablation["rules"]:
        d = row["delta"]
        cells = " | ".join(f"{d.get(s, {}).get('hit@5', 0):+.3f} | {d.get(s, {}).get('evidence', 0):+.3f}" for s in splits)
        lines.append(f"| {row['rule']} | {cells} | {d.get('blind', {}).get('honest', 0):+.3f} |")
    return lines


def plot(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    systems = report["systems"]
    splits = [s for s in SPLIT_ORDER if s in systems["project"]["splits"]]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    width = 0.8 / max(1, len(systems))
    for i, (name, data) in enumerate(systems.items()):
        values = [data["splits"].get(s, {}).get("hit_rate@5", 0) for s in splits]
        left.bar([x + i * width for x in range(len(splits))], values, width=width, label=name)
    left.set_xticks([x + width * (len(systems) - 1) / 2 for x in range(len(splits))])
    left.set_xticklabels([s.replace(":", "\n") for s in splits], fontsize=8)
    left.set_ylim(0, 1.0)
    left.set_ylabel("found in the top 5")
    left.set_title("Retrieval, per split")
    left.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=len(systems), frameon=False)
    answers = report.get("answers", {}).get("splits", {})
    metrics = ["answer_contains_evidence", "supporting_citation", "near_miss_honest"]
    labels = ["evidence in answer", "supporting citation", "near misses honest"]
    width = 0.8 / len(metrics)
    for i, metric in enumerate(metrics):
        values = [answers.get(s, {}).get(metric, 0) for s in splits]
        right.bar([x + i * width for x in range(len(splits))], values, width=width, label=labels[i])
    right.set_xticks([x + width * (len(metrics) - 1) / 2 for x in range(len(splits))])
    right.set_xticklabels([s.replace(":", "\n") for s in splits], fontsize=8)
    right.set_ylim(0, 1.0)
    right.set_title("Answers, per split")
    right.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=len(metrics), frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def terminal(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    splits = splits_in(report)
    table = Table(title="Retrieval (hit@5 / MRR@10)")
    table.add_column("system")
    for split in splits:
        table.add_column(split, justify="right")
    for name, data in report["systems"].items():
        table.add_row(
            name,
            *(
                f"{data['splits'].get(s, {}).get('hit_rate@5', 0):.3f} / {data['splits'].get(s, {}).get('mrr@10', 0):.3f}"
                for s in splits
            ),
        )
    console.print(table)
    answers = report.get("answers")
    if answers:
        answer_splits = [s for s in splits if s in answers["splits"]]
        table = Table(title="Answers (project)")
        table.add_column("metric")
        for split in answer_splits:
            table.add_column(split, justify="right")
        for metric, label in ANSWER_NAMES.items():
            table.add_row(label, *(_fmt(answers["splits"][s].get(metric), metric) for s in answer_splits))
        console.print(table)
    ablation = report.get("ablation")
    if ablation:
        table = Table(title="Ablation: change in hit@5 / answer evidence with the rule off")
        table.add_column("rule")
        abl_splits = [s for s in SPLIT_ORDER if s in ablation["base"]]
        for split in abl_splits:
            table.add_column(split, justify="right")
        for row in ablation["rules"]:
            table.add_row(
                row["rule"],
                *(
                    f"{row['delta'].get(s, {}).get('hit@5', 0):+.3f} / {row['delta'].get(s, {}).get('evidence', 0):+.3f}"
                    for s in abl_splits
                ),
            )
        console.print(table)
    diff = report.get("compare")
    if diff:
        console.print(
            f"Since {diff['previous']}: retrieval {len(diff['better'])} better, {len(diff['worse'])} worse; answers {len(diff.get('answers_better', []))} better, {len(diff.get('answers_worse', []))} worse"
        )
        for row in diff["worse"]:
            console.print(f"  [red]worse[/red]  {row['id']} ({row['split']}, {row['kind']}): rank {row['from']} → {row['to']}")
        for row in diff.get("answers_worse", []):
            console.print(f"  [red]worse[/red]  {row['id']} ({row['split']}, {row['kind']}): {row['from']} → {row['to']}")
