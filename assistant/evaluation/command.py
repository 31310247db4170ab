"""The ``assistant eval`` command: run, report, compare, ablate, gate."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from assistant.errors import AssistantError


class RegressionError(AssistantError):
    """A gate (--min-hit5, --min-mrr) was not met."""


GATE_SPLITS = ("dev", "test")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("eval", help="evaluate retrieval and answers against the reference questions")
    p.add_argument(
        "--questions",
        type=Path,
        action="append",
        help="a questions file (JSONL); repeat for several (default: dev/test and blind, and every unseen report)",
    )
    p.add_argument("--compare", type=Path, help="previous report to diff against (default: the latest saved)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--ablate", action="store_true", help="also switch each rule off in turn and report what it earns")
    p.add_argument(
        "--variant",
        choices=["html", "docx", "pdf"],
        help="replace the full report by its rendering in this format (LibreOffice) first",
    )
    p.add_argument("--min-hit5", type=float, help="exit non-zero if project hit@5 falls below this")
    p.add_argument("--min-mrr", type=float, help="exit non-zero if project MRR@10 falls below this")
    p.add_argument("--gate-split", default="dev", help="split the gates apply to: dev or test (never blind or unseen)")
    p.add_argument("--no-baselines", action="store_true", help="skip the baselines (faster)")
    p.add_argument("--no-answers", action="store_true", help="skip answer metrics")
    p.add_argument("--no-unseen", action="store_true", help="skip the unseen reports")
    p.add_argument("--no-save", action="store_true", help="do not write eval/reports/")
    p.add_argument(
        "--sample",
        type=int,
        metavar="N",
        help="only the first N questions of each split: checks the run, gives no figures to report",
    )
    p.add_argument("--out", type=Path, help="folder for the reports (default eval/reports)")
    p.set_defaults(func=run)


def check_gate_split(split: str) -> None:
    if split not in GATE_SPLITS:
        raise AssistantError(
            f"The {split} split cannot be a gate: blind and unseen questions are scored only to report, never to pass or fail a change (use dev or test)."
        )


def _variant_assistant(assistant: Any, fmt: str, stack: Any) -> Any:
    """The same library with the full report replaced by its ``fmt`` rendering, in a temporary folder."""
    import shutil
    from dataclasses import replace

    from assistant.api import Assistant
    from assistant.corpus.manifest import read_library, sha256_bytes, write_manifest
    from assistant.evaluation.variants import make_variants

    report = max(assistant.documents, key=lambda d: len(d.text))
    root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="assistant-variant-")))
    shutil.copytree(assistant.settings.corpus_dir, root / "corpus", ignore=shutil.ignore_patterns(".*"))
    made = make_variants(report, root / "made", (fmt,))[fmt]
    library = read_library(root / "corpus")
    entries = []
    for entry in library.entries:
        if entry.id == report.id:
            (root / "corpus" / entry.file).unlink()
            shutil.copy(made, root / "corpus" / made.name)
            entry = replace(entry, file=made.name, sha256=sha256_bytes(made.read_bytes()))
        entries.append(entry)
    write_manifest(root / "corpus", entries)
    shutil.copytree(assistant.index.path.parent.parent, root / "index", ignore=shutil.ignore_patterns(".lock", ".tmp-*"))
    settings = replace(assistant.settings, corpus_dir=root / "corpus", index_dir=root / "index")
    return Assistant.load(settings, embedder=assistant.embedder, notify=lambda _m: None)


def run(args: argparse.Namespace) -> int:
    from contextlib import ExitStack

    from assistant.api import Assistant
    from assistant.evaluation import report as reports
    from assistant.evaluation.run import Group, compare, evaluate, question_sets, sampled

    check_gate_split(args.gate_split)
    if args.sample is not None and args.sample < 1:
        raise AssistantError("--sample must be at least 1.")
    assistant = Assistant.load(progress=sys.stderr.isatty())
    progress = sys.stderr.isatty()
    with ExitStack() as stack:
        if args.variant:
            assistant = _variant_assistant(assistant, args.variant, stack)
        result = evaluate(
            assistant,
            args.questions,
            with_baselines=not args.no_baselines,
            with_answers=not args.no_answers,
            with_unseen=not args.no_unseen and not args.variant,
            progress=progress,
            sample=args.sample,
        )
        if args.variant:
            result["variant"] = args.variant
        if not args.no_answers:
            from assistant.evaluation.answers import refusal_tradeoff

            dev = sampled([q for _, qs in question_sets(args.questions) for q in qs if q.split == "dev"], args.sample)
            result["answers"]["refusal_tradeoff"] = refusal_tradeoff(assistant, dev)
        if args.ablate:
            from assistant.evaluation.ablation import ablate
            from assistant.evaluation.questions import load_questions, unseen_reports
            from assistant.evaluation.unseen import library_with

            groups = [Group("shipped", assistant, [q for _, qs in question_sets(args.questions) for q in qs])]
            if not args.no_unseen and not args.questions:
                for folder in unseen_reports():
                    groups.append(
                        Group(
                            f"unseen:{folder.name}",
                            stack.enter_context(library_with(folder, assistant)),
                            load_questions(folder / "questions.jsonl"),
                        )
                    )
            result["ablation"] = ablate(groups, progress=progress)
    directory = args.out or reports.REPORTS_DIR
    previous_path = args.compare or reports.latest_report(directory)
    if previous_path is not None:
        try:
            previous = json.loads(previous_path.read_text(encoding="utf-8"))
            result["compare"] = {"previous": previous_path.name, **compare(result, previous)}
        except (OSError, json.JSONDecodeError, KeyError) as exc:
            raise AssistantError(f"The report to compare with ({previous_path.name}) cannot be read.") from exc
    if not args.no_save:
        result["saved"] = str(reports.save(result, directory))
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        reports.terminal(result)
        if "saved" in result:
            print(f"Report: {result['saved']} (+ .md, .png)")
    gate = result["systems"]["project"]["splits"].get(args.gate_split, {})
    failures = []
    if args.min_hit5 is not None and gate.get("hit_rate@5", 0) < args.min_hit5:
        failures.append(f"hit@5 {gate.get('hit_rate@5', 0):.3f} < {args.min_hit5}")
    if args.min_mrr is not None and gate.get("mrr@10", 0) < args.min_mrr:
        failures.append(f"MRR@10 {gate.get('mrr@10', 0):.3f} < {args.min_mrr}")
    if failures:
        raise RegressionError(f"Retrieval regressed on the {args.gate_split} split: {'; '.join(failures)}.")
    return 0
