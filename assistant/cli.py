"""The ``assistant`` command: index, search, ask, chat, eval, bench, users.

Library errors (AssistantError) become one-line messages and a non-zero exit; nothing else is shown.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from assistant.errors import AssistantError, LoginConfigError

EXIT_ERROR = 2


def _quiet_libraries() -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import warnings

    warnings.filterwarnings("ignore")
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:
        pass


def _load(args: argparse.Namespace, rebuild: bool = False):  # type: ignore[no-untyped-def]
    from assistant.api import Assistant

    return Assistant.load(rebuild=rebuild, progress=sys.stderr.isatty())


def cmd_index(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    assistant = _load(args, rebuild=args.rebuild)
    manifest = assistant.index.manifest
    counts = manifest.get("counts", {})
    print(
        f"Index ready: {counts.get('documents')} documents, {counts.get('passages')} passages "
        f"({assistant.settings.index_type} FAISS, {manifest.get('model')}, built {manifest.get('built_at')}) "
        f"in {time.perf_counter() - started:.1f} s."
    )
    return 0


def _snippet(text: str, width: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


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
    from rich.table import Table

    table = Table(title=f"{len(passages)} passages for “{args.query}” ({elapsed * 1000:.0f} ms)", show_lines=True)
    table.add_column("#", justify="right")
    table.add_column("Document / section", max_width=48)
    table.add_column("Passage")
    for i, p in enumerate(passages, start=1):
        where = f"[bold]{p.title}[/bold]\n{p.section}"
        if p.also_in:
            where += f"\n[dim]also in: {', '.join(p.also_in)}[/dim]"
        table.add_row(str(i), where, _snippet(p.text, 400))
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


def _print_answer(answer, as_json: bool) -> None:  # type: ignore[no-untyped-def]
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
            print(f"  - {p.title} › {p.section}: {_snippet(p.text, 140)}")
    for c in answer.citations:
        print(f"  [{c.n}] {c.passage.title} › {c.passage.section}")
        print(f"      “{_snippet(c.quote, 220)}”")


def cmd_ask(args: argparse.Namespace) -> int:
    _llm_overrides(args)
    assistant = _load(args)
    _print_answer(assistant.ask(args.question), args.json)
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assistant", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="build (or verify and load) the index")
    p.add_argument("--rebuild", action="store_true", help="rebuild even if the index is current")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("search", help="search passages")
    p.add_argument("query")
    p.add_argument("-k", type=int, default=5, help="number of passages (default 5)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("ask", help="answer a question with numbered citations")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    _add_llm_flags(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("chat", help="a conversation in the terminal (follow-ups keep their context)")
    _add_llm_flags(p)
    p.set_defaults(func=cmd_chat)

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

    for register in _EXTRA_COMMANDS:
        register(sub)
    return parser


def _register_eval(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from assistant.evaluation.command import register

    register(sub)


def _register_bench(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from assistant.evaluation.bench import register

    register(sub)


_EXTRA_COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [_register_eval, _register_bench]  # type: ignore[type-arg]


def main(argv: Sequence[str] | None = None) -> int:
    _quiet_libraries()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except AssistantError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
