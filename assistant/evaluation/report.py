"""Evaluation reports: a terminal table, JSON and Markdown files, and a PNG plot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from assistant.config import REPO_ROOT

REPORTS_DIR = REPO_ROOT / "eval" / "reports"
BENCH_DIR = REPO_ROOT / "eval" / "bench"
HEADLINE = ["hit_rate@1", "hit_rate@3", "hit_rate@5", "hit_rate@10", "recall@10", "mrr@10", "ndcg@10", "hit_in_2000_chars"]
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


def latest_report(directory: Path = REPORTS_DIR) -> Path | None:
    reports = sorted(directory.glob("[0-9]*.json")) if directory.is_dir() else []  # <timestamp>.json
    return reports[-1] if reports else None


def save(report: dict[str, Any], directory: Path = REPORTS_DIR) -> Path:
    """Write <timestamp>.json, .md and .png; returns the JSON path."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = report["created"].replace(":", "").replace("-", "")
    path = directory / f"{stamp}.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    path.with_suffix(".md").write_text(markdown(report), encoding="utf-8")
    plot(report, path.with_suffix(".png"))
    return path


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}×" if a is not None and b else "–"


def markdown(report: dict[str, Any]) -> str:
    systems = report["systems"]
    lines = [f"# Evaluation report {report['created']}", ""]
    counts = report["counts"]
    lines.append(
        f"{counts['questions']} questions ({counts['answerable']} answerable; {counts['dev']} dev, {counts['test']} test) "
        f"from `{Path(report['questions_file']).name}`; index: {report['index']['passages']} passages, "
        f"{report['index']['model']}, {report['index']['index_type']} FAISS. Run took {report['seconds']} s."
    )
    for split in ("dev", "test", "all"):
        lines += ["", f"## Retrieval — {split} split", ""]
        lines.append("| system | " + " | ".join(SHORT[m] for m in HEADLINE) + " | search p50 / p95 ms |")
        lines.append("|---" * (len(HEADLINE) + 2) + "|")
        for name, data in systems.items():
            row = data["splits"][split]
            lat = data["latency"]
            cells = [f"{row.get(m, 0):.3f}" for m in HEADLINE]
            lines.append(f"| {name} | " + " | ".join(cells) + f" | {lat.get('p50_ms', 0):.1f} / {lat.get('p95_ms', 0):.1f} |")
        if "langchain-tutorial" in systems and "project" in systems:
            p = systems["project"]["splits"][split]
            b = systems["langchain-tutorial"]["splits"][split]
            lines.append("")
            lines.append(
                f"Project vs LangChain tutorial: hit@5 {p.get('hit_rate@5', 0):.3f} vs {b.get('hit_rate@5', 0):.3f} "
                f"(+{p.get('hit_rate@5', 0) - b.get('hit_rate@5', 0):.3f}, {_ratio(p.get('hit_rate@5'), b.get('hit_rate@5'))}); "
                f"MRR@10 {_ratio(p.get('mrr@10'), b.get('mrr@10'))}."
            )
    lines += ["", "## Per kind of question (hit@5 / MRR@10, all splits)", ""]
    names = list(systems)
    lines.append("| kind | n | " + " | ".join(names) + " |")
    lines.append("|---" * (len(names) + 2) + "|")
    for kind, row in systems["project"]["per_kind"].items():
        cells = []
        for name in names:
            r = systems[name]["per_kind"].get(kind, {})
            cells.append(f"{r.get('hit_rate@5', 0):.2f} / {r.get('mrr@10', 0):.2f}")
        lines.append(f"| {kind} | {int(row.get('n', 0))} | " + " | ".join(cells) + " |")
    project_all = systems["project"]["splits"]["all"]
    if "multi_evidence_all@5" in project_all:
        lines += [
            "",
            f"Multi-evidence questions: any evidence in top 5 {project_all['multi_evidence_any@5']:.3f}, "
            f"all evidence in top 5 {project_all['multi_evidence_all@5']:.3f}.",
        ]
    answers = report.get("answers")
    if answers:
        lines += ["", "## Answers (project, extractive)", "", "| metric | dev | test | all |", "|---|---|---|---|"]
        for metric in answers["all"]:
            lines.append(f"| {metric} | " + " | ".join(f"{answers[s].get(metric, 0):.3f}" for s in ("dev", "test", "all")) + " |")
        lines += ["", "Refusal trade-off (min cosine of the best sentence; the unknown-name rule unchanged):", ""]
        lines += ["| min cosine | unanswerable refused | false refusals |", "|---|---|---|"]
        for row in answers.get("refusal_tradeoff", []):
            lines.append(f"| {row['min_cosine']:.2f} | {row['refused_unanswerable']:.3f} | {row['false_refusals']:.3f} |")
    diff = report.get("compare")
    if diff:
        lines += ["", f"## Change since {diff['previous']}", ""]
        lines.append(f"Better: {', '.join(d['id'] for d in diff['better']) or 'none'}.")
        lines.append(f"Worse: {', '.join(d['id'] for d in diff['worse']) or 'none'}.")
        for word, key in (("better", "answers_better"), ("worse", "answers_worse")):
            rows = diff.get(key, [])
            lines.append(f"Answers {word}: " + (", ".join(f"{d['id']} ({d['from']} → {d['to']})" for d in rows) or "none") + ".")
    return "\n".join(lines) + "\n"


def plot(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    systems = report["systems"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    for name, data in systems.items():
        row = data["splits"]["all"]
        ks = list(range(1, 11))
        left.plot(ks, [row.get(f"hit_rate@{k}", 0) for k in ks], marker="o", label=name)
    left.set_xlabel("k")
    left.set_ylabel("hit@k")
    left.set_ylim(0, 1.02)
    left.set_title("hit@k, all answerable questions")
    left.grid(alpha=0.3)
    left.legend()
    kinds = list(systems["project"]["per_kind"])
    width = 0.8 / max(1, len(systems))
    for i, (name, data) in enumerate(systems.items()):
        values = [data["per_kind"].get(k, {}).get("hit_rate@5", 0) for k in kinds]
        right.bar([x + i * width for x in range(len(kinds))], values, width=width, label=name)
    right.set_xticks([x + width * (len(systems) - 1) / 2 for x in range(len(kinds))])
    right.set_xticklabels(kinds, rotation=30, ha="right")
    right.set_ylim(0, 1.05)
    right.set_title("hit@5 per kind of question")
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def terminal(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for split in ("dev", "test"):
        table = Table(
            title=f"Retrieval — {split} split ({int(report['systems']['project']['splits'][split].get('n', 0))} answerable)"
        )
        table.add_column("system")
        for m in HEADLINE:
            table.add_column(SHORT[m], justify="right")
        table.add_column("p50/p95 ms", justify="right")
        for name, data in report["systems"].items():
            row = data["splits"][split]
            lat = data["latency"]
            table.add_row(
                name, *(f"{row.get(m, 0):.3f}" for m in HEADLINE), f"{lat.get('p50_ms', 0):.0f}/{lat.get('p95_ms', 0):.0f}"
            )
        console.print(table)
    kinds = Table(title="hit@5 per kind (all splits)")
    kinds.add_column("kind")
    kinds.add_column("n", justify="right")
    for name in report["systems"]:
        kinds.add_column(name, justify="right")
    for kind, row in report["systems"]["project"]["per_kind"].items():
        kinds.add_row(
            kind,
            str(int(row.get("n", 0))),
            *(f"{report['systems'][n]['per_kind'].get(kind, {}).get('hit_rate@5', 0):.2f}" for n in report["systems"]),
        )
    console.print(kinds)
    answers = report.get("answers")
    if answers:
        table = Table(title="Answers (project)")
        table.add_column("metric")
        for split in ("dev", "test", "all"):
            table.add_column(split, justify="right")
        for metric in answers["all"]:
            table.add_row(metric, *(f"{answers[s].get(metric, 0):.3f}" for s in ("dev", "test", "all")))
        console.print(table)
        tradeoff = Table(title="Refusal trade-off")
        for column in ("min cosine", "unanswerable refused", "false refusals"):
            tradeoff.add_column(column, justify="right")
        for row in answers.get("refusal_tradeoff", []):
            tradeoff.add_row(f"{row['min_cosine']:.2f}", f"{row['refused_unanswerable']:.3f}", f"{row['false_refusals']:.3f}")
        console.print(tradeoff)
    diff = report.get("compare")
    if diff:
        console.print(f"Since {diff['previous']}: {len(diff['better'])} better, {len(diff['worse'])} worse")
        for row in diff["better"]:
            console.print(f"  [green]better[/green] {row['id']} ({row['kind']}): rank {row['from']} → {row['to']}")
        for row in diff["worse"]:
            console.print(f"  [red]worse[/red]  {row['id']} ({row['kind']}): rank {row['from']} → {row['to']}")
        better, worse = diff.get("answers_better", []), diff.get("answers_worse", [])
        console.print(f"Answers since {diff['previous']}: {len(better)} better, {len(worse)} worse")
        for row in better:
            console.print(f"  [green]better[/green] {row['id']} ({row['kind']}): {row['from']} → {row['to']}")
        for row in worse:
            console.print(f"  [red]worse[/red]  {row['id']} ({row['kind']}): {row['from']} → {row['to']}")
