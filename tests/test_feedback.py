"""Feedback: whole lines under concurrent writers, torn lines skipped, 👎 answers drafted as reference questions."""

from __future__ import annotations

import fcntl
import json
import multiprocessing
import threading
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from assistant import feedback
from assistant.answers.types import Answer
from assistant.cli import EXIT_ERROR, main
from assistant.errors import FeedbackError
from assistant.evaluation.questions import load_questions

WRITES = 50
# Long enough that one record is more than a pipe's atomic write: only the lock keeps lines whole.
LONG_COMMENT = "The answer quoted the wrong year and missed the 2018/19 figure entirely. " * 26


def _answer(question: str = "Are mutuals actually making money?") -> Answer:
    return Answer(question, "96% of mutuals were profitable in 2018. [1]", [], "answered", question)


def _write_many(data_dir: str, writer: str, barrier: Any) -> None:
    answer = _answer().to_json()
    barrier.wait()
    for i in range(WRITES):
        feedback.record(
            Path(data_dir), question=f"{writer} question {i}", answer=answer, rating="down", comment=LONG_COMMENT, session=writer
        )


def test_threads_and_processes_writing_at_once_leave_every_line_whole(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    context = multiprocessing.get_context("spawn")  # a clean interpreter: no fork of a process holding model threads
    barrier = context.Barrier(4, timeout=300)
    processes = [context.Process(target=_write_many, args=(str(data_dir), f"process-{i}", barrier)) for i in range(2)]
    threads = [threading.Thread(target=_write_many, args=(str(data_dir), f"thread-{i}", barrier)) for i in range(2)]
    for worker in [*processes, *threads]:
        worker.start()
    for thread in threads:
        thread.join()
    for process in processes:
        process.join(300)
        assert process.exitcode == 0
    lines = feedback.feedback_file(data_dir).read_bytes().split(b"\n")
    assert lines[-1] == b"" and len(lines) == 4 * WRITES + 1
    records = [json.loads(line) for line in lines[:-1]]
    assert records == feedback.read(data_dir)
    assert Counter(r["session"] for r in records) == {"process-0": 50, "process-1": 50, "thread-0": 50, "thread-1": 50}
    assert all(r["comment"] == LONG_COMMENT.strip() for r in records)
    assert len({r["id"] for r in records}) == 4 * WRITES


def test_a_writer_waits_for_the_lock_another_writer_holds(tmp_path: Path) -> None:
    feedback.record(tmp_path, question="What is the Teckal exemption?", answer=_answer(), rating="down")
    path = feedback.feedback_file(tmp_path)
    with path.open("ab") as holder:
        fcntl.flock(holder.fileno(), fcntl.LOCK_EX)
        writer = threading.Thread(
            target=feedback.record,
            kwargs={"data_dir": tmp_path, "question": "Are mutuals actually making money?", "answer": _answer(), "rating": "up"},
        )
        writer.start()
        writer.join(0.5)
        assert writer.is_alive() and len(path.read_bytes().splitlines()) == 1
    writer.join(10)
    assert [r["rating"] for r in feedback.read(tmp_path)] == ["down", "up"]


def test_a_torn_line_is_skipped_and_the_next_record_starts_a_line_of_its_own(tmp_path: Path) -> None:
    feedback.record(tmp_path, question="What is the Teckal exemption?", answer=_answer(), rating="down")
    with feedback.feedback_file(tmp_path).open("ab") as handle:
        handle.write(b'{"time": "2026-01-01T00:00:00+00:00", "id": "torn", "quest')  # a writer that died mid-line
    feedback.record(tmp_path, question="How many mutuals are there in Scotland?", answer=_answer(), rating="up")
    with feedback.feedback_file(tmp_path).open("ab") as handle:
        handle.write(b"\xff\xfe not json\n[1, 2]\n{}\n")
    records = feedback.read(tmp_path)
    assert [r["question"] for r in records] == ["What is the Teckal exemption?", "How many mutuals are there in Scotland?"]


def test_reading_without_any_feedback_gives_nothing(tmp_path: Path) -> None:
    assert feedback.read(tmp_path / "never-written") == []


def test_a_record_keeps_what_was_asked_searched_answered_and_quoted(assistant, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    answer = assistant.ask("How many mutuals are there in Scotland?")
    entry = feedback.record(
        tmp_path / "new" / "data", question=answer.question, answer=answer, rating="down", comment="Wrong country", session="s1"
    )
    assert feedback.read(tmp_path / "new" / "data") == [entry]
    assert datetime.fromisoformat(entry["time"]).utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert len(entry["id"]) == 16
    assert entry["question"] == "How many mutuals are there in Scotland?"
    assert (entry["query"], entry["answer"], entry["state"]) == (answer.query, answer.text, "partial")
    assert [(c["passage"], c["quote"]) for c in entry["citations"]] == [(c.passage.id, c.quote) for c in answer.citations]
    assert (entry["rating"], entry["comment"], entry["session"]) == ("down", "Wrong country", "s1")
    as_json = feedback.record(tmp_path, question=answer.question, answer=answer.to_json(), rating="down")
    same = ("query", "answer", "state", "citations")
    assert {k: as_json[k] for k in same} == {k: entry[k] for k in same}


def test_a_comment_is_capped_and_stripped_of_control_characters(tmp_path: Path) -> None:
    entry = feedback.record(
        tmp_path, question="Q\x00?", answer=_answer(), rating="down", comment="bad\x1b[31m\nanswer\u202e" + "x" * 5000
    )
    assert entry["question"] == "Q?"
    assert entry["comment"].startswith("bad[31m answer") and len(entry["comment"]) == feedback.MAX_COMMENT
    assert not any(ord(ch) < 32 for ch in entry["comment"])


def test_a_rating_other_than_up_or_down_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FeedbackError) as caught:
        feedback.record(tmp_path, question="Q?", answer=_answer(), rating="meh")  # type: ignore[arg-type]
    assert "\n" not in str(caught.value)
    assert not feedback.feedback_file(tmp_path).exists()


def test_only_down_ratings_become_draft_questions(tmp_path: Path) -> None:
    long_answer = Answer("What is the Teckal exemption?", "word " * 100, [], "answered", "What is the Teckal exemption?")
    follow_up = Answer(
        "And in Scotland?", "96% of mutuals were profitable. [1]", [], "answered", "mutuals profitable in Scotland?"
    )
    down = feedback.record(
        tmp_path, question="What is the Teckal exemption?", answer=long_answer, rating="down", comment="too long"
    )
    feedback.record(tmp_path, question="Are mutuals actually making money?", answer=_answer(), rating="up")
    silent = feedback.record(tmp_path, question="And in Scotland?", answer=follow_up, rating="down")
    drafts = feedback.to_questions(feedback.read(tmp_path))
    assert [d["id"] for d in drafts] == [f"feedback-{down['id']}", f"feedback-{silent['id']}"]
    assert drafts[0] == {
        "id": f"feedback-{down['id']}",
        "question": "What is the Teckal exemption?",
        "history": [],
        "answer": "",
        "evidence": [],
        "doc": "",
        "kind": "fact",
        "split": "dev",
        "note": "from feedback: too long; the assistant answered: " + ("word " * 40).strip(),
    }
    assert drafts[1]["note"] == (
        "from feedback: no comment; the assistant answered: 96% of mutuals were profitable. [1]; "
        "it read the question as: mutuals profitable in Scotland?"
    )


def test_drafts_load_as_reference_questions(tmp_path: Path) -> None:
    feedback.record(tmp_path, question="What is the Teckal exemption?", answer=_answer(), rating="down", comment="vague")
    path = feedback.write_questions(tmp_path / "drafts.jsonl", feedback.to_questions(feedback.read(tmp_path)))
    [question] = load_questions(path)
    assert question.question == "What is the Teckal exemption?"
    assert (question.kind, question.split, question.evidence, question.history) == ("fact", "dev", (), [])


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_feedback_command_lists_flagged_answers_newest_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ASSISTANT_DATA", str(tmp_path))
    first = feedback.record(tmp_path, question="What is the Teckal exemption?", answer=_answer(), rating="down", comment="vague")
    feedback.record(tmp_path, question="Are mutuals actually making money?", answer=_answer(), rating="up")
    last = feedback.record(tmp_path, question="How many mutuals are there in Scotland?", answer=_answer(), rating="down")
    code, out, _ = _cli(["feedback", "--json"], capsys)
    assert code == 0 and [r["id"] for r in json.loads(out)] == [last["id"], first["id"]]
    code, out, _ = _cli(["feedback", "--all", "--json"], capsys)
    assert [r["rating"] for r in json.loads(out)] == ["down", "up", "down"]
    code, out, _ = _cli(["feedback"], capsys)
    assert code == 0 and "Teckal" in out and "vague" in out and "making money" not in out
    assert out.index("Scotland") < out.index("Teckal")


def test_feedback_command_writes_draft_questions_and_will_not_overwrite_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("ASSISTANT_DATA", str(data))
    target = tmp_path / "drafts.jsonl"
    code, _, err = _cli(["feedback", "--to-questions", str(target)], capsys)
    assert code == 0 and "nothing was written" in err and not target.exists()
    for question in ("What is the Teckal exemption?", "How many mutuals are there in Scotland?"):
        feedback.record(data, question=question, answer=_answer(question), rating="down", comment="missed it")
    code, out, _ = _cli(["feedback", "--to-questions", str(target)], capsys)
    assert code == 0 and "2 draft questions" in out
    assert [q.question for q in load_questions(target)] == [
        "What is the Teckal exemption?",
        "How many mutuals are there in Scotland?",
    ]
    feedback.record(data, question="Are mutuals actually making money?", answer=_answer(), rating="down")
    code, _, err = _cli(["feedback", "--to-questions", str(target)], capsys)
    assert code == EXIT_ERROR and err.startswith("Error: ") and "--force" in err and err.count("\n") == 1
    assert len(load_questions(target)) == 2
    code, _, _ = _cli(["feedback", "--to-questions", str(target), "--force"], capsys)
    assert code == 0 and len(load_questions(target)) == 3
