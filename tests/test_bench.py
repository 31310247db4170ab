"""``assistant bench``, run for real in quick mode on the small library: the report's shape, positive figures,
zero errors. No wall-clock thresholds: this machine's speed is what the bench reports, not what tests judge."""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from assistant.cli import main
from assistant.evaluation.bench import SECTIONS, BenchOptions, markdown, options_from, register, run_bench, save
from assistant.evaluation.bench_pdf import soffice


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    return parser.parse_args(["bench", *argv])


def _positive_spread(spread: dict[str, Any]) -> None:
    assert spread["runs"] >= 1
    assert 0 < spread["min"] <= spread["median"] <= spread["max"]


def _positive_percentiles(cuts: dict[str, Any]) -> None:
    assert cuts["n"] >= 1
    assert 0 < cuts["p50_ms"] <= cuts["p95_ms"] <= cuts["max_ms"]


@pytest.fixture
def bench_settings(small_copy):  # type: ignore[no-untyped-def]
    """A private copy of the small library and its index, with the tests' model cache for every process."""
    return replace(
        small_copy, model_cache=Path(os.environ["ASSISTANT_MODEL_CACHE"]), data_dir=small_copy.index_dir.parent / "data"
    )


def _run(settings: Any, embedder: Any, tmp_path: Path, sections: tuple[str, ...]) -> dict[str, Any]:
    results = run_bench(settings, BenchOptions.quick_run(sections), embedder=embedder)
    saved = save(results, tmp_path / "bench")
    assert saved.is_file() and saved.with_suffix(".md").is_file()
    loaded: dict[str, Any] = json.loads(saved.read_text(encoding="utf-8"))
    for name in sections:
        assert "failed" not in loaded[name] and "skipped" not in loaded[name], loaded[name]
    assert loaded["query_embedding"]["median_ms"] > 0
    return loaded


def test_options_quick_and_only() -> None:
    options = options_from(_parse("--quick", "--only", "latency,startup"))
    assert options.sections == ("latency", "startup") and options.quick
    assert (options.repeat, options.clients, options.per_client, options.pages) == (1, 2, 1, 5)
    full = options_from(_parse("--clients", "7"))
    assert full.sections == tuple(s for s in SECTIONS if s != "scale") and full.clients == 7 and full.per_client == 5
    with pytest.raises(SystemExit):
        _parse("--only", "latency,nonsense")


def test_bench_command_latency(bench_settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ASSISTANT_CORPUS", str(bench_settings.corpus_dir))
    monkeypatch.setenv("ASSISTANT_INDEX", str(bench_settings.index_dir))
    assert main(["bench", "--quick", "--only", "latency", "--out", str(tmp_path), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    saved = json.loads(next(tmp_path.glob("*.json")).read_text(encoding="utf-8"))
    assert printed == saved
    latency = saved["latency"]
    assert latency["questions"] == 20 and latency["load_s"] > 0
    _positive_percentiles(latency["search"])
    _positive_percentiles(latency["ask"])
    assert latency["query_embed_ms"] > 0 and latency["search_p50_over_embed"] > 0
    assert set(saved) >= {"created", "machine", "options", "settings", "query_embedding", "memory"}
    assert "startup" not in saved and "load" not in saved
    assert "search p50 ÷ one query embedding" in next(tmp_path.glob("*.md")).read_text(encoding="utf-8")


def test_report_names_skipped_and_failed_parts() -> None:
    results = {
        "created": "2026-01-01T00:00:00Z",
        "machine": {"cpus": 2, "load_average": [1.0, 1.0, 1.0]},
        "query_embedding": {"median_ms": 5.0, "encoder": "onnx"},
        "add": {"skipped": "LibreOffice (soffice) is not installed, so no PDF can be made."},
        "load": {"failed": "The app exited with 2"},
        "memory": {},
    }
    text = markdown(results)
    assert "| add | skipped: LibreOffice" in text and "| load | FAILED: The app exited with 2 |" in text


@pytest.mark.slow
def test_bench_startup_and_cold_build(bench_settings, embedder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    results = _run(bench_settings, embedder, tmp_path, ("startup", "build"))
    startup = results["startup"]
    assert startup["repeat"] == 1
    for key in ("python_bare_s", "search_s", "search_cpu_s", "ask_s", "ask_cpu_s", "app_first_answer_s", "app_accepts_first_s"):
        _positive_spread(startup[key])
    assert startup["app_accepts_first_s"]["max"] <= startup["app_first_answer_s"]["max"]
    assert startup["app_rss_mb"]["min"] > 0 and startup["cli_peak_rss_mb"] > 0
    build = results["build"]
    _positive_spread(build["seconds"])
    assert build["documents"] == 3 and build["passages"] > 0 and build["sentences"] > 0
    # cold: every distinct text embedded once (the two web summaries share text, embedded once)
    assert 0 < build["embedded"] <= build["passages"] + build["sentences"]
    assert build["passages_per_s"] > 0 and build["index_bytes"] > 0
    assert results["memory"]["app_after_first_answer_rss_mb"] > 0


@pytest.mark.slow
def test_bench_load_with_login(bench_settings, embedder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    load = _run(bench_settings, embedder, tmp_path, ("load",))["load"]
    assert (load["clients"], load["questions_per_client"], load["requests"]) == (2, 1, 2)
    assert load["errors"] == 0 and load["answered"] == 2 and load["error_examples"] == []
    assert "bcrypt" in load["login"]
    _positive_percentiles(load["latency_ms"])
    _positive_percentiles(load["login_ms"])
    assert 0 < load["rss_before_mb"] <= load["rss_peak_mb"] and 0 < load["rss_after_mb"] <= load["rss_peak_mb"]


@pytest.mark.slow
def test_bench_add_pdf(bench_settings, embedder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    if soffice() is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    add = _run(bench_settings, embedder, tmp_path, ("add",))["add"]
    assert add["pdf_pages"] >= 1 and add["add_s"] > 0
    assert add["document_passages"] > 0 and add["only_this_document"]
    assert add["embedded"] == add["document_passages"] + add["document_sentences"]
    assert add["passages_after"] == add["passages_before"] + add["document_passages"]
    assert add["cli_search_rank"] is not None and add["seen_by_running_app"] and add["removed_cleanly"]
