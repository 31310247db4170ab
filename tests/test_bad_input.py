"""Bad input gets a clear one-line message and loses nothing; no traceback reaches a user."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.errors import BadHistory, BadQuestion
from assistant.retrieval.query import clean_query

from .conftest import REPO


@pytest.mark.parametrize("query", ["", "   \n\t ", "\x00\x01\x02", "?!…", None])
def test_empty_queries_are_refused(assistant, query) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BadQuestion, match="Please type a question"):
        assistant.search(query)


def test_huge_query_is_refused_with_the_limit(assistant) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BadQuestion, match=r"too long \(10,000 characters\); keep it under 2,000"):
        assistant.search("mutual " * 1428 + "abcd")


def test_control_characters_are_stripped_not_fatal(assistant) -> None:  # type: ignore[no-untyped-def]
    clean = assistant.search("Granta Medical Practices", k=3)
    dirty = assistant.search("Gran\x1bta\u200b Medical\x07 Practices\x00", k=3)
    assert [p.id for p in dirty] == [p.id for p in clean]


@pytest.mark.parametrize("query", ["ما هو PCN؟", "🤔 mutuals?", "Ｍｕｔｕａｌｓ", "mutu\u0301als", "<script>alert(1)</script>"])
def test_odd_unicode_still_searches(assistant, query: str) -> None:
    assert len(assistant.search(query, k=2)) == 2


def test_binary_bytes_query_is_refused(assistant) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BadQuestion, match="not readable text"):
        assistant.search(b"\xff\xfe\x00")  # type: ignore[arg-type]


def test_malformed_history_is_trimmed_not_fatal(assistant) -> None:  # type: ignore[no-untyped-def]
    history = [{"role": "user"}, "junk", {"role": "system", "content": "x"}, {"role": "assistant", "content": 42}]
    history += [{"role": "user", "content": "tell me about mutuals"}] * 500
    assert assistant.search("what about primary care?", history=history)
    with pytest.raises(BadHistory):
        assistant.search("anything", history="not a list")  # type: ignore[arg-type]


def _cli(*args: str, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )


def test_cli_bad_query_is_one_line_and_nonzero(assistant) -> None:  # type: ignore[no-untyped-def]
    env = {"ASSISTANT_INDEX": str(assistant.settings.index_dir)}
    result = _cli("search", "   ", env_extra=env)
    assert result.returncode != 0
    assert result.stderr.strip() == "Error: Please type a question."
    assert "Traceback" not in result.stderr + result.stdout


def test_cli_broken_document_is_named_in_one_line_and_the_rest_is_indexed(tmp_path: Path, small_settings) -> None:  # type: ignore[no-untyped-def]
    from .conftest import SMALL, copy_library

    corpus = copy_library(tmp_path / "corpus", SMALL)
    (corpus / "web-summary.txt").write_bytes(b"caf\xe9 \xff bad")
    env = {"ASSISTANT_INDEX": str(tmp_path / "index"), "ASSISTANT_CORPUS": str(corpus)}
    result = _cli("index", env_extra=env)
    assert result.returncode == 0, result.stderr
    assert "Warning: web-summary.txt is not UTF-8 text" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "Index ready: 2 documents" in result.stdout


def test_cli_search_serves_the_last_good_index_when_a_document_breaks(tmp_path: Path, small_copy, small_assistant) -> None:  # type: ignore[no-untyped-def]
    (small_copy.corpus_dir / "govuk-publication-page.txt").write_bytes(b"")
    env = {"ASSISTANT_INDEX": str(small_copy.index_dir), "ASSISTANT_CORPUS": str(small_copy.corpus_dir)}
    result = _cli("search", "Applies to England", "-k", "1", env_extra=env)
    assert result.returncode == 0, result.stderr
    assert "govuk-publication-page.txt is empty" in result.stderr and "keeps serving" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_search_piped_into_head_stops_quietly(small_copy) -> None:  # type: ignore[no-untyped-def]
    env = {**os.environ, "ASSISTANT_INDEX": str(small_copy.index_dir), "ASSISTANT_CORPUS": str(small_copy.corpus_dir)}
    result = subprocess.run(
        f"{sys.executable} -m assistant.cli search mutuals -k 20 --json | head -c 100",
        shell=True,
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0 and "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr


@pytest.mark.parametrize("k", [0, -1, 51, 1.5, "5", None, True])
def test_a_bad_number_of_passages_is_a_clear_message(small_assistant, k) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BadQuestion, match="number of passages"):
        small_assistant.search("mutuals", k=k)


def test_nul_bytes_separate_words(small_assistant) -> None:  # type: ignore[no-untyped-def]
    from assistant.retrieval.query import clean_query

    assert clean_query("mutual\0profit", 2000) == "mutual profit"


def test_cli_missing_model_is_one_line_and_nonzero(tmp_path: Path) -> None:
    env = {"ASSISTANT_INDEX": str(tmp_path / "index"), "ASSISTANT_MODEL": str(tmp_path / "nothing-here")}
    result = _cli("search", "mutuals", env_extra=env)
    assert result.returncode != 0
    assert "cannot be loaded offline" in result.stderr and "Traceback" not in result.stderr


def test_cli_search_json_is_machine_readable(assistant) -> None:  # type: ignore[no-untyped-def]
    import json

    result = _cli(
        "search", "What is Teckal?", "-k", "2", "--json", env_extra={"ASSISTANT_INDEX": str(assistant.settings.index_dir)}
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert len(data["results"]) == 2 and {"doc_id", "section", "text", "start", "end"} <= set(data["results"][0])


def test_markup_pasted_around_a_question_does_not_change_what_is_found(assistant) -> None:  # type: ignore[no-untyped-def]
    plain = assistant.search("Are mutuals making money?", k=3)
    wrapped = assistant.search(
        "<img src=x onerror=alert(1)> <script>steal()</script> ![pixel](http://127.0.0.1:9/p.png) "
        "[Are mutuals making money?](javascript:alert(1)) https://example.com/x",
        k=3,
    )
    assert [p.id for p in wrapped] == [p.id for p in plain]
    assert "3 < 5" in clean_query("Is 3 < 5 in <b>the</b> report?", 2000)


def test_an_unexpected_fault_is_one_line_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from assistant import cli

    def broken(_args: object) -> int:
        raise RuntimeError("a fault of ours")

    monkeypatch.setattr(cli, "cmd_list", broken)
    monkeypatch.delenv("ASSISTANT_DEBUG", raising=False)
    assert cli.main(["list"]) != 0
    err = capsys.readouterr().err
    assert "failed unexpectedly" in err and "a fault of ours" in err and "Traceback" not in err and len(err.splitlines()) == 1
