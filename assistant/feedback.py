"""Feedback on answers, kept to feed the evaluation: 👍 or 👎, a comment, and what was answered.

Records are JSON lines appended to ``<data_dir>/feedback.jsonl``. Several app workers (threads and
processes) may record at once: each record is written as one complete line under an exclusive lock on a file
opened for appending, so lines never interleave. A line torn by a crash is skipped when reading, and the next
record starts on a line of its own. ``to_questions`` turns 👎 records into draft reference questions
(eval/QUESTIONS.md) for a maintainer to complete with evidence.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from assistant.answers.types import Answer
from assistant.errors import FeedbackError

FILE_NAME = "feedback.jsonl"
RATINGS = ("up", "down")
MAX_COMMENT = 2000
MAX_QUESTION = 2000
MAX_SESSION = 200
MAX_ANSWER = 20_000  # an answer may come from a browser as JSON: keep a record's size bounded
MAX_CITATIONS = 50
DRAFT_ANSWER_CHARS = 200
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

Rating = Literal["up", "down"]


def feedback_file(data_dir: Path) -> Path:
    return Path(data_dir) / FILE_NAME


def _clean(text: object, limit: int) -> str:
    """Text without control or direction-override characters (tabs and newlines become spaces), capped."""
    flat = _CONTROL.sub("", str(text or "").replace("\t", " ").replace("\n", " ").replace("\r", " "))
    return flat.strip()[:limit]


def _answer_fields(answer: Answer | dict[str, Any]) -> dict[str, Any]:
    """What a record keeps of the answer; ``answer`` is an Answer or its ``to_json()`` form."""
    data = answer.to_json() if isinstance(answer, Answer) else answer
    if not isinstance(data, dict):
        raise FeedbackError("Feedback must be about an answer.")
    citations = []
    for citation in list(data.get("citations") or [])[:MAX_CITATIONS]:
        if not isinstance(citation, dict):
            continue
        passage = citation.get("passage")
        passage = passage if isinstance(passage, dict) else {}
        citations.append(
            {
                "n": citation.get("n") if isinstance(citation.get("n"), int) else None,
                "passage": str(passage.get("id", ""))[:MAX_SESSION],
                "doc": str(passage.get("doc_id", ""))[:MAX_SESSION],
                "quote": str(citation.get("quote", ""))[:MAX_ANSWER],
            }
        )
    return {
        "query": str(data.get("query", ""))[:MAX_QUESTION],
        "answer": str(data.get("text", ""))[:MAX_ANSWER],
        "state": str(data.get("state", ""))[:20],
        "citations": citations,
    }


def _append_line(path: Path, line: bytes) -> None:
    """Append one whole line under an exclusive lock (O_APPEND alone does not keep long writes whole)."""
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            line = b"\n" + line  # a writer died mid-line: its fragment keeps a line of its own
        view = memoryview(line)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)  # closing releases the lock


def record(
    data_dir: Path,
    *,
    question: str,
    answer: Answer | dict[str, Any],
    rating: Rating,
    comment: str = "",
    session: str = "",
    amends: str = "",
) -> dict[str, Any]:
    """Append one rating of ``answer`` to ``data_dir/feedback.jsonl`` (created with its folder); return the record.

    ``rating`` is "up" or "down"; the comment is capped at 2,000 characters with control characters removed.
    ``amends`` names an earlier record this one replaces (a comment added after the rating): ``read`` then
    returns only the newer. Raises FeedbackError for another rating or a folder that cannot be written.
    """
    if rating not in RATINGS:
        raise FeedbackError(f"A rating is 'up' or 'down', not '{_clean(rating, 20)}'.")
    entry: dict[str, Any] = {
        "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "id": secrets.token_hex(8),
        "question": _clean(question, MAX_QUESTION),
        **_answer_fields(answer),
        "rating": rating,
        "comment": _clean(comment, MAX_COMMENT),
        "session": _clean(session, MAX_SESSION),
    }
    if amends:
        entry["amends"] = _clean(amends, MAX_SESSION)
    line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
    path = feedback_file(data_dir)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _append_line(path, line)
    except OSError as exc:
        raise FeedbackError(f"Feedback cannot be saved in {path.parent} ({exc.strerror or exc}).") from None
    return entry


def read(data_dir: Path) -> list[dict[str, Any]]:
    """Every intact record, oldest first, without those a later record amends; a torn or unreadable line is
    skipped. Empty when there is no file."""
    path = feedback_file(data_dir)
    try:
        with path.open("rb") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_SH)  # never read a line while it is being written
            raw = handle.read()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise FeedbackError(f"Feedback cannot be read from {path} ({exc.strerror or exc}).") from None
    records: list[dict[str, Any]] = []
    for line in raw.split(b"\n"):
        try:
            data = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            continue
        if isinstance(data, dict) and data.get("rating") in RATINGS and isinstance(data.get("question"), str):
            records.append(data)
    amended = {r["amends"] for r in records if isinstance(r.get("amends"), str)}
    return [r for r in records if r.get("id") not in amended]


def to_questions(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Draft reference questions (eval/QUESTIONS.md) for each 👎 record, in the dev split, evidence to be filled in.

    A maintainer reads each draft, finds the evidence (or makes it a near miss or unanswerable) and moves it into
    eval/questions.jsonl.
    """
    drafts: list[dict[str, Any]] = []
    for entry in records:
        if entry.get("rating") != "down" or not str(entry.get("question", "")).strip():
            continue
        answered = " ".join(str(entry.get("answer", "")).split())[:DRAFT_ANSWER_CHARS].rstrip()
        note = f"from feedback: {entry.get('comment') or 'no comment'}; the assistant answered: {answered}"
        query = str(entry.get("query", ""))
        if query and query != entry["question"]:
            note += f"; it read the question as: {query}"
        drafts.append(
            {
                "id": f"feedback-{entry.get('id', '')}",
                "question": entry["question"],
                "history": [],
                "answer": "",
                "evidence": [],
                "doc": "",
                "kind": "fact",
                "split": "dev",
                "note": note,
            }
        )
    return drafts


def write_questions(path: Path, drafts: list[dict[str, Any]], *, force: bool = False) -> Path:
    """Write draft questions as JSON Lines to ``path`` (atomically); an existing file is replaced only with ``force``.

    Raises FeedbackError when ``path`` exists without ``force`` or cannot be written.
    """
    path = Path(path)
    if path.exists() and not force:
        raise FeedbackError(f"{path} already exists; add --force to replace it.")
    text = "".join(json.dumps(draft, ensure_ascii=False) + "\n" for draft in drafts)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.chmod(name, 0o644)
            os.replace(name, path)
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise FeedbackError(f"{path} cannot be written ({exc.strerror or exc}).") from None
    return path
