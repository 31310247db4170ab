"""The ``assistant eval`` command: run, report, compare, gate."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from assistant.errors import AssistantError


class RegressionError(AssistantError):
    """A gate (--min-hit5, --min-mrr) was not met."""


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from assistant.evaluation.questions import DEFAULT_QUESTIONS

    p = sub.add_parser("eval", help="evaluate retrieval (and answers) against reference questions")
    p.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS, help="questions file (JSONL)")
    p.add_argument("--compare", type=Path, help="previous report to diff against (default: the latest saved)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--min-hit5", type=float, help="exit non-zero if project hit@5 falls below this")
    p.add_argument("--min-mrr", type=float, help="exit non-zero if project MRR@10 falls below this")
    p.add_argument("--gate-split", choices=["dev", "test", "all"], default="all", help="split the gates apply to")
    p.add_argument("--no-baselines", action="store_true", help="skip the baselines (faster)")
    p.add_argument("--no-answers", action="store_true", help="skip answer metrics")
    p.add_argument("--no-save", action="store_true", help="do not write eval/reports/")
    p.add_argument("--out", type=Path, help="folder for the reports (default eval/reports)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from assistant.api import Assistant
    from assistant.evaluation import report as reports
    from assistant.evaluation.run import compare, evaluate

    assistant = Assistant.load(progress=sys.stderr.isatty())
    result = evaluate(assistant, args.questions, with_baselines=not args.no_baselines, progress=sys.stderr.isatty())
    if not args.no_answers:
        from assistant.evaluation.answers import evaluate_answers

        result["answers"] = evaluate_answers(assistant, args.questions, progress=sys.stderr.isatty())
    directory = args.out or reports.REPORTS_DIR
    previous_path = args.compare or reports.latest_report(directory)
    if previous_path is not None:
        try:
            previous = json.loads(previous_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise AssistantError(f"The report to compare with ({previous_path.name}) cannot be read.") from exc
        result["compare"] = {"previous": previous_path.name, **compare(result, previous)}
    if not args.no_save:
        saved = reports.save(result, directory)
        result["saved"] = str(saved)
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        reports.terminal(result)
        if "saved" in result:
            print(f"Report: {result['saved']} (+ .md, .png)")
    gate = result["systems"]["project"]["splits"][args.gate_split]
    failures = []
    if args.min_hit5 is not None and gate.get("hit_rate@5", 0) < args.min_hit5:
        failures.append(f"hit@5 {gate.get('hit_rate@5', 0):.3f} < {args.min_hit5}")
    if args.min_mrr is not None and gate.get("mrr@10", 0) < args.min_mrr:
        failures.append(f"MRR@10 {gate.get('mrr@10', 0):.3f} < {args.min_mrr}")
    if failures:
        raise RegressionError(f"Retrieval regressed on the {args.gate_split} split: {'; '.join(failures)}.")
    return 0
