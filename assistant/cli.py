"""The ``assistant`` command: index, search, ask, chat, add, list, remove, feedback, eval, bench, users.

Library errors (AssistantError) become one-line messages and a non-zero exit; nothing else is shown. Heavy
modules are imported only by the commands that need them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from assistant.errors import AssistantError, LoginConfigError

EXIT_ERROR = 2


def _quiet_libraries() -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import warnings

    warnings.filterwarnings("ignore")


def _err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _confirm(assume_yes: bool) -> Callable[[Any], bool]:
    """Ask before a large rebuild: yes with --yes, ask on a terminal, no otherwise."""

    def ask(plan: Any) -> bool:
        if assume_yes:
            return True
        if not sys.stdin.isatty():
            return False
        from assistant.api import _estimate

        answer = input(f"The library changed: {_estimate(plan)}. Rebuild now? [y/N] ")
        return answer.strip().lower() in ("y", "yes")

    return ask


def _load(args: argparse.Namespace, rebuild: bool = False):  # type: ignore[no-untyped-def]
    from assistant.api import Assistant

    assistant = Assistant.load(rebuild=rebuild, progress=sys.stderr.isatty(), confirm=_confirm(getattr(args, "yes", False)))
    for warning in assistant.warnings:
        _err(f"Warning: {warning}")
    return assistant


def cmd_index(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    assistant = _load(args, rebuild=args.rebuild)
    manifest = assistant.index.manifest
    counts = manifest.get("counts", {})
    print(
        f"Index ready: {counts.get('documents')} documents, {counts.get('passages')} passages "
        f"({assistant.settings.index_type} FAISS, {manifest.get('model')}, built {manifest.get('built_at')}; "
        f"{counts.get('embedded', 0)} texts embedded) in {time.perf_counter() - started:.1f} s."
    )
    return 0


def _snippet(text: str, width: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _where(p: Any) -> str:
    return " › ".join(part for part in (p.title, p.section, p.pages) if part)


def cmd_search(args: argparse.Namespace) -> int:
    assistant = _load(args)
    started = time.perf_counter()
    passages = assistant.search(args.query, k=args.k)
    elapsed = time.perf_counter() - started
    if args.json:
        print(
            json.dumps(
                {"query": args.query, "ms": round(elapsed * 1000, 1), "results": [p.to_json() for p in passages]},
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"{len(passages)} passages for “{escape(args.query)}” ({elapsed * 1000:.0f} ms)", show_lines=True)
    table.add_column("#", justify="right")
    table.add_column("Document / section / page", max_width=48)
    table.add_column("Passage")
    for i, p in enumerate(passages, start=1):
        where = f"[bold]{escape(p.title)}[/bold]\n{escape(p.section)}" + (f"\n{p.pages}" if p.pages else "")
        if p.also_in:
            where += f"\n[dim]also in: {escape(', '.join(p.also_in))}[/dim]"
        table.add_row(str(i), where, escape(_snippet(p.text, 400)))
    Console().print(table)
    return 0


def _llm_overrides(args: argparse.Namespace) -> None:
    """--llm-url/--llm-model/--llm-key override the ASSISTANT_LLM_* environment for this run."""
    for flag, name in (
        ("llm_url", "ASSISTANT_LLM_URL"),
        ("llm_model", "ASSISTANT_LLM_MODEL"),
        ("llm_key", "ASSISTANT_LLM_API_KEY"),
    ):
        value = getattr(args, flag, None)
        if value:
            os.environ[name] = value


def _print_answer(answer: Any, as_json: bool) -> None:
    if as_json:
        print(json.dumps(answer.to_json(), ensure_ascii=False, indent=2))
        return
    if answer.rewritten:
        print(f"(understood as: {answer.query})")
    print(answer.text)
    if answer.note:
        print(f"({answer.note})")
    if answer.refused and answer.passages:
        print("\nClosest passages:")
        for p in answer.passages:
            print(f"  - {_where(p)}: {_snippet(p.text, 140)}")
    for c in answer.citations:
        print(f"  [{c.n}] {_where(c.passage)}")
        print(f"      “{_snippet(c.quote, 220)}”")


def cmd_ask(args: argparse.Namespace) -> int:
    _llm_overrides(args)
    if args.note:
        from assistant.notes import check_note_path

        check_note_path(Path(args.note))  # before the answers are worked out, not after
    assistant = _load(args)
    answers = [assistant.ask(q) for q in args.question]
    if args.note:
        from assistant.notes import write_note

        path = write_note(answers, Path(args.note), assistant)
        _err(f"Note written to {path}.")
    if args.json and len(answers) > 1:
        print(json.dumps([a.to_json() for a in answers], ensure_ascii=False, indent=2))
        return 0
    for i, answer in enumerate(answers):
        if i:
            print()
        if len(answers) > 1 and not args.json:
            print(f"Q: {answer.question}")
        _print_answer(answer, args.json)
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    _llm_overrides(args)
    assistant = _load(args)
    history: list[dict[str, str]] = []
    print("Ask about the reports; an empty line or Ctrl-D ends the conversation.")
    while True:
        try:
            question = input("\nyou › ").strip()
        except EOFError:
            break
        if not question:
            break
        try:
            answer = assistant.ask(question, history=history)
        except AssistantError as exc:
            print(f"Error: {exc}")
            continue
        print()
        _print_answer(answer, as_json=False)
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer.text}]
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    from assistant.config import Settings
    from assistant.corpus.load import ParseCache
    from assistant.library import Metadata, add_files

    settings = Settings.from_env()
    meta = Metadata(
        title=args.title or "",
        authors=args.authors or "",
        publisher=args.publisher or "",
        date=args.date or "",
        url=args.url or "",
        doc_id=args.id or "",
    )
    if len(args.paths) > 1 and any((args.title, args.id)):
        raise AssistantError("--title and --id apply to one file at a time.")
    existing = _existing_documents(settings)
    added, refused = add_files(
        settings.corpus_dir,
        [Path(p) for p in args.paths],
        meta,
        existing,
        settings.app.max_upload_mb * 1_000_000,
        ParseCache(settings.index_dir / "parsed"),
    )
    for message in refused:
        _err(f"Not added: {message}")
    for item in added:
        pages = f", {item.document.pages} pages" if item.document.pages else ""
        print(f"Added '{item.entry.id}': {item.entry.title} ({item.document.kind}{pages}).")
    if added and not args.no_index:
        started = time.perf_counter()
        assistant = _load(args)
        counts = assistant.index.manifest.get("counts", {})
        print(
            f"Index updated in {time.perf_counter() - started:.1f} s ({counts.get('embedded', 0)} passages and sentences embedded)."
        )
    return 0 if not refused else EXIT_ERROR


def _existing_documents(settings: Any) -> dict[str, Any]:
    """The library's documents as the current index holds them (for duplicate checks); empty if none."""
    from assistant.corpus.load import ParseCache, load_documents
    from assistant.corpus.manifest import MANIFEST_NAME

    if not (settings.corpus_dir / MANIFEST_NAME).is_file():
        return {}
    try:
        loaded = load_documents(settings.corpus_dir, ParseCache(settings.index_dir / "parsed"))
    except AssistantError:
        return {}
    return {d.id: d for d in loaded.documents}


def cmd_list(args: argparse.Namespace) -> int:
    from assistant.library import library_rows

    rows = library_rows()
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"Library ({len(rows)} documents)")
    for column in ("id", "title", "kind", "pages", "passages", "repeats", "added", "sha256"):
        table.add_column(column, justify="right" if column in ("pages", "passages", "repeats") else "left")
    for row in rows:
        table.add_row(
            *(
                escape(str(row[c])) if c != "sha256" else str(row[c])[:12]
                for c in ("id", "title", "kind", "pages", "passages", "repeats", "added", "sha256")
            )
        )
    Console().print(table)
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    from assistant.config import Settings
    from assistant.library import remove_document

    settings = Settings.from_env()
    entry = remove_document(settings.corpus_dir, args.id)
    print(f"Removed '{entry.id}': {entry.title or entry.file}.")
    if not args.no_index:
        _load(args)
        print("Index updated.")
    return 0


def cmd_feedback(args: argparse.Namespace) -> int:
    from assistant import feedback
    from assistant.config import Settings

    records = feedback.read(Settings.from_env().data_dir)
    if args.to_questions:
        drafts = feedback.to_questions(records)
        if not drafts:
            _err("No answer has been flagged 👎; nothing was written.")
            return 0
        feedback.write_questions(Path(args.to_questions), drafts, force=args.force)
        print(
            f"Wrote {len(drafts)} draft question{'s' if len(drafts) != 1 else ''} to {args.to_questions}; add evidence before use."
        )
        return 0
    flagged = [r for r in records if args.all or r.get("rating") == "down"]
    # newest first; records of the same millisecond in the reverse of the order they were written
    shown = sorted(reversed(flagged), key=lambda r: str(r.get("time", "")), reverse=True)
    if args.json:
        print(json.dumps(shown, ensure_ascii=False, indent=2))
        return 0
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    what = (
        ("rating" if args.all else "answer flagged 👎") if len(shown) == 1 else ("ratings" if args.all else "answers flagged 👎")
    )
    table = Table(title=f"Feedback: {len(shown)} {what}, newest first", show_lines=True)
    for column in ("time", "rating", "question", "comment"):
        table.add_column(column)
    for r in shown:
        time_ = str(r.get("time", ""))[:19].replace("T", " ")
        rating = "👎" if r.get("rating") == "down" else "👍"
        table.add_row(time_, rating, escape(_snippet(str(r.get("question", "")), 200)), escape(str(r.get("comment", ""))))
    Console().print(table)
    return 0


def _users_file(args: argparse.Namespace) -> Path:
    from assistant.config import AppSettings

    path = args.file or AppSettings.from_env().users_file
    if path is None:
        raise LoginConfigError("Say which users file: --file PATH or ASSISTANT_APP_USERS=PATH.")
    return Path(path)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    import getpass

    password = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != password:
        raise LoginConfigError("The two passwords differ; nothing was changed.")
    return password


def cmd_users_add(args: argparse.Namespace) -> int:
    from assistant.app.accounts import set_password

    path = _users_file(args)
    known = set_password(path, args.name, _read_password(args.password_stdin))
    done = f"Changed the password of {args.name} in" if known else f"Added {args.name} to"
    print(f"{done} {path}; restart the app to apply.")
    return 0


def cmd_users_remove(args: argparse.Namespace) -> int:
    from assistant.app.accounts import remove_user

    path = _users_file(args)
    remove_user(path, args.name)
    print(f"Removed {args.name} from {path}; restart the app to apply.")
    return 0


def _add_llm_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--llm-url", help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:11434/v1 (or ASSISTANT_LLM_URL)")
    p.add_argument("--llm-model", help="model name at that endpoint (or ASSISTANT_LLM_MODEL)")
    p.add_argument("--llm-key", help="API key if the endpoint needs one (or ASSISTANT_LLM_API_KEY)")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a whole number") from None
    if not 1 <= value <= 50:
        raise argparse.ArgumentTypeError("must be from 1 to 50")
    return value


def build_parser(extras: bool = True) -> argparse.ArgumentParser:
    """The command line; ``extras=False`` leaves out eval and bench, whose modules take 0.1 s to import."""
    parser = argparse.ArgumentParser(prog="assistant", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="build (or verify and load) the index")
    p.add_argument("--rebuild", action="store_true", help="rebuild even if the index is current")
    p.add_argument("--yes", action="store_true", help="go ahead with a large rebuild without asking")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("search", help="search passages")
    p.add_argument("query")
    p.add_argument("-k", type=_positive, default=5, help="number of passages, 1–50 (default 5)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("ask", help="answer questions with numbered citations")
    p.add_argument("question", nargs="+", help="one or more questions")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--note", help="also write a briefing note (.md or .docx) with the answers and references")
    _add_llm_flags(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("chat", help="a conversation in the terminal (follow-ups keep their context)")
    _add_llm_flags(p)
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("add", help="add PDF, Word, HTML, Markdown or text reports (files or folders) to the library")
    p.add_argument("paths", nargs="+")
    p.add_argument("--title")
    p.add_argument("--authors")
    p.add_argument("--publisher")
    p.add_argument("--date", help="publication date, e.g. 2024-03-01")
    p.add_argument("--url")
    p.add_argument("--id", help="the document's id in the library (default: from its title)")
    p.add_argument("--no-index", action="store_true", help="only add to the library; index later")
    p.add_argument("--yes", action="store_true", help="go ahead with a large rebuild without asking")
    p.set_defaults(func=cmd_add)

    p = sub.add_parser("list", help="the documents in the library")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("remove", help="take a document out of the library")
    p.add_argument("id")
    p.add_argument("--no-index", action="store_true")
    p.set_defaults(func=cmd_remove)

    p = sub.add_parser("feedback", help="answers people flagged (👎), and draft reference questions from them")
    p.add_argument("--all", action="store_true", help="include answers rated 👍")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--to-questions", metavar="FILE", help="write draft questions (JSONL, eval/QUESTIONS.md) for the 👎 answers")
    p.add_argument("--force", action="store_true", help="with --to-questions: replace FILE if it exists")
    p.set_defaults(func=cmd_feedback)

    p = sub.add_parser("users", help="who may log in to the app (a users file of bcrypt hashes)")
    users = p.add_subparsers(dest="action", required=True)
    for action, func, what in (
        ("add", cmd_users_add, "add a user, or change their password"),
        ("remove", cmd_users_remove, "remove a user"),
    ):
        q = users.add_parser(action, help=what)
        q.add_argument("name")
        q.add_argument("--file", type=Path, help="the users file (default: ASSISTANT_APP_USERS)")
        if action == "add":
            q.add_argument("--password-stdin", action="store_true", help="read the password from one line of stdin")
        q.set_defaults(func=func)

    if extras:
        for register in _EXTRA_COMMANDS:
            register(sub)
    return parser


def _register_eval(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from assistant.evaluation.command import register

    register(sub)


def _register_bench(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from assistant.evaluation.bench import register

    register(sub)


_CORE_COMMANDS = frozenset({"index", "search", "ask", "chat", "add", "list", "remove", "feedback", "users"})
_EXTRA_COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [_register_eval, _register_bench]  # type: ignore[type-arg]


def main(argv: Sequence[str] | None = None) -> int:
    _quiet_libraries()
    given = list(sys.argv[1:] if argv is None else argv)
    # A core command (search, ask…) skips registering the extras: each call then starts 0.1 s sooner.
    parser = build_parser(extras=not given or given[0] not in _CORE_COMMANDS)
    args = parser.parse_args(given)
    try:
        return int(args.func(args) or 0)
    except AssistantError as exc:
        _err(f"Error: {exc}")
        return EXIT_ERROR
    except KeyboardInterrupt:
        _err("Interrupted.")
        return 130
    except BrokenPipeError:
        # the reader went away (`assistant search … | head`): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as exc:  # a fault of ours: one line, never a traceback (ASSISTANT_DEBUG=1 shows it)
        if os.environ.get("ASSISTANT_DEBUG"):
            raise
        _err(
            f"Error: the assistant failed unexpectedly ({type(exc).__name__}: {exc}). "
            "Please report this (run again with ASSISTANT_DEBUG=1 for the details)."
        )
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
