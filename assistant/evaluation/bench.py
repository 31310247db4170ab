"""``assistant bench``: start-up, cold build, latency, adding a long PDF, a load run behind a login, memory.

Parts (``--only``, all but ``scale`` by default):

* ``startup`` — ``assistant search``, ``assistant ask`` and ``python app.py``, each a whole new process run
  several times: launch → printed results, and launch → first request answered through the app's API.
* ``build`` — a cold build of the library (empty index folder, new ``assistant index`` process).
* ``latency`` — search and ask p50 / p95 over the evaluation questions in this process.
* ``add`` — a ~100-page PDF made by LibreOffice, added with ``assistant add`` to a copy of the index while a
  copy of the app serves it: time, texts embedded (only the new document's?), seen by search and by the
  running app; then removed again.
* ``load`` — clients × questions at once through the app's API with a login; errors, p50 / p95, app memory.
* ``scale`` — retrieval over N copies of the library (jittered vectors), flat vs HNSW.

Every part sits beside the same run's raw query-embedding time (one question through the default embedder).
The report is saved as JSON and Markdown in eval/bench/ (``--out``) and shown as a table.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from assistant.config import LLMSettings, Settings
from assistant.errors import AssistantError
from assistant.evaluation.bench_process import BenchSkip, ProcessRun, bench_env, cli, run_timed
from assistant.evaluation.bench_stats import Percentiles, Spread
from assistant.evaluation.questions import DEFAULT_QUESTIONS, Question, load_questions
from assistant.evaluation.report import BENCH_DIR

SECTIONS = ("startup", "build", "latency", "add", "load", "scale")
DEFAULT_SECTIONS = ("startup", "build", "latency", "add", "load")
SEARCH_QUERY = "How many mutuals are there in health and social care?"
ASK_QUESTION = "Are mutuals actually making money?"
EMBED_WARM_UP = 3
LATENCY_WARM_UP = 5


@dataclass(frozen=True)
class BenchOptions:
    sections: tuple[str, ...] = DEFAULT_SECTIONS
    quick: bool = False
    repeat: int = 5  # new processes per start-up measure
    build_runs: int = 2
    clients: int = 50
    per_client: int = 5
    pages: int = 100
    questions: int = 0  # evaluation questions for the latency part (0: all)
    scale: int = 100
    index_types: tuple[str, ...] = ("flat", "hnsw")

    @classmethod
    def quick_run(cls, sections: tuple[str, ...] = DEFAULT_SECTIONS) -> BenchOptions:
        """Few repetitions, few clients, a short PDF: for tests and a first look."""
        return cls(sections, True, repeat=1, build_runs=1, clients=2, per_client=1, pages=5, questions=20, scale=2)


# ---- the query embedding every part stands beside ----------------------------------------------------------


@dataclass(frozen=True)
class EmbedResult:
    encoder: str
    model: str
    questions: int
    median_ms: float
    p95_ms: float


def query_embedding(embedder: Any, encoder: str, questions: list[str]) -> EmbedResult:
    """One question at a time through the embedder: the floor under any search."""
    for q in questions[:EMBED_WARM_UP]:
        embedder.embed([q])
    times = []
    for q in questions:
        started = time.perf_counter()
        embedder.embed([q])
        times.append(time.perf_counter() - started)
    cuts = Percentiles.of_seconds(times)
    return EmbedResult(encoder, embedder.name, len(times), cuts.p50_ms, cuts.p95_ms)


# ---- start-up: whole new processes -------------------------------------------------------------------------


@dataclass(frozen=True)
class StartupResult:
    repeat: int
    python_bare_s: Spread  # `python -c pass`: the interpreter alone
    search_s: Spread  # launch → search results printed
    search_cpu_s: Spread
    ask_s: Spread  # launch → answer printed
    ask_cpu_s: Spread
    app_first_answer_s: Spread  # launch → first /ask answered through the API
    app_accepts_first_s: Spread  # launch → that question taken by the server (listening, routes up)
    app_cpu_s: Spread  # CPU time of the app process, launch → stopped after the first answer
    app_rss_mb: Spread  # after that first answer
    app_peak_rss_mb: Spread
    cli_peak_rss_mb: float
    query_embed_ms: float


def _spread(runs: list[ProcessRun], pick: Callable[[ProcessRun], float]) -> Spread:
    return Spread.of([pick(r) for r in runs])


@dataclass(frozen=True)
class _AppStart:
    first_answer_s: float
    accepted_s: float
    rss_mb: float
    peak_mb: float
    cpu_s: float


def _app_start(env: dict[str, str]) -> _AppStart:
    from assistant.evaluation.bench_process import AppProcess

    with AppProcess(env) as app:
        seconds = app.first_answer(ASK_QUESTION)
        now = app.memory()
    cpu = app.usage.cpu_s if app.usage else 0.0
    return _AppStart(seconds, app.accepted_s, now.rss_mb if now else 0.0, now.peak_mb if now else 0.0, cpu)


def bench_startup(settings: Settings, options: BenchOptions, embed: EmbedResult) -> StartupResult:
    env = bench_env(settings)
    search, ask = cli("search", SEARCH_QUERY), cli("ask", ASK_QUESTION)
    if not options.quick:  # the first run after a build pays for a cold file cache; users do not, later
        run_timed(search, env)
    bare, searches, asks, apps = [], [], [], []
    for _ in range(options.repeat):  # interleaved, so a change in the machine's load touches each alike
        bare.append(run_timed([sys.executable, "-c", "pass"], env))
        searches.append(run_timed(search, env))
        asks.append(run_timed(ask, env))
        apps.append(_app_start(env))
    return StartupResult(
        repeat=options.repeat,
        python_bare_s=_spread(bare, lambda r: r.exit_s),
        search_s=_spread(searches, lambda r: r.output_s),
        search_cpu_s=_spread(searches, lambda r: r.usage.cpu_s),
        ask_s=_spread(asks, lambda r: r.output_s),
        ask_cpu_s=_spread(asks, lambda r: r.usage.cpu_s),
        app_first_answer_s=Spread.of([a.first_answer_s for a in apps]),
        app_accepts_first_s=Spread.of([a.accepted_s for a in apps]),
        app_cpu_s=Spread.of([a.cpu_s for a in apps]),
        app_rss_mb=Spread.of([a.rss_mb for a in apps], 1),
        app_peak_rss_mb=Spread.of([a.peak_mb for a in apps], 1),
        cli_peak_rss_mb=max(r.usage.peak_rss_mb for r in searches + asks),
        query_embed_ms=embed.median_ms,
    )


# ---- cold build --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BuildResult:
    runs: int
    seconds: Spread  # launch of `assistant index` → exit, empty index folder
    cpu_s: Spread
    documents: int
    passages: int
    sentences: int
    embedded: int
    passages_per_s: float  # passages / median seconds
    embedded_texts_per_s: float
    build_s_in_process: Spread  # the manifest's build_seconds: without interpreter and model start
    embed_s_in_process: Spread
    index_bytes: int
    peak_rss_mb: float
    query_embed_ms: float


def _current_manifest(index_dir: Path) -> tuple[Path, dict[str, Any]]:
    from assistant.index import store

    build = store.current_build(index_dir)
    return build, store.read_manifest(build)


def _dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def bench_build(settings: Settings, options: BenchOptions, embed: EmbedResult) -> BuildResult:
    runs: list[ProcessRun] = []
    manifests: list[dict[str, Any]] = []
    size = 0
    for _ in range(options.build_runs):
        with tempfile.TemporaryDirectory(prefix="assistant-bench-build-") as tmp:
            cold = replace(settings, index_dir=Path(tmp) / "index", data_dir=Path(tmp) / "data")
            runs.append(run_timed(cli("index", "--yes"), bench_env(cold), timeout=3600))
            build, manifest = _current_manifest(cold.index_dir)
            manifests.append(manifest)
            size = _dir_bytes(build)
    counts = manifests[-1]["counts"]
    seconds = _spread(runs, lambda r: r.exit_s)
    return BuildResult(
        runs=len(runs),
        seconds=seconds,
        cpu_s=_spread(runs, lambda r: r.usage.cpu_s),
        documents=int(counts["documents"]),
        passages=int(counts["passages"]),
        sentences=int(counts["sentences"]),
        embedded=int(counts["embedded"]),
        passages_per_s=round(counts["passages"] / seconds.median, 1),
        embedded_texts_per_s=round(counts["embedded"] / seconds.median, 1),
        build_s_in_process=Spread.of([float(m.get("build_seconds", 0)) for m in manifests]),
        embed_s_in_process=Spread.of([float(m.get("embed_seconds", 0)) for m in manifests]),
        index_bytes=size,
        peak_rss_mb=max(r.usage.peak_rss_mb for r in runs),
        query_embed_ms=embed.median_ms,
    )


# ---- latency in this process -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LatencyResult:
    questions: int
    load_s: float  # Assistant.load of the built index in this process (model already loaded)
    search: Percentiles
    ask: Percentiles
    query_embed_ms: float  # median, measured here on the same questions
    search_p50_over_embed: float


def _timed(fn: Callable[[Question], object], questions: list[Question]) -> list[float]:
    for q in questions[:LATENCY_WARM_UP]:
        fn(q)
    out = []
    for q in questions:
        started = time.perf_counter()
        fn(q)
        out.append(time.perf_counter() - started)
    return out


def bench_latency(assistant: Any, questions: list[Question]) -> LatencyResult:
    from assistant.api import Assistant

    started = time.perf_counter()
    Assistant.load(assistant.settings, embedder=assistant.embedder, notify=lambda _m: None)
    load_s = time.perf_counter() - started
    embed = query_embedding(assistant.embedder, assistant.settings.encoder, [q.question for q in questions])
    search = Percentiles.of_seconds(_timed(lambda q: assistant.search(q.question, k=5, history=q.history), questions))
    ask = Percentiles.of_seconds(_timed(lambda q: assistant.ask(q.question, history=q.history), questions))
    return LatencyResult(
        questions=len(questions),
        load_s=round(load_s, 3),
        search=search,
        ask=ask,
        query_embed_ms=embed.median_ms,
        search_p50_over_embed=round(search.p50_ms / embed.median_ms, 2),
    )


# ---- adding a long PDF -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AddResult:
    pdf_pages: int
    pdf_bytes: int
    pdf_words: int
    make_pdf_s: float
    add_s: float  # launch of `assistant add FILE` → exit (parse, copy, incremental index update)
    add_cpu_s: float
    embedded: int  # texts the update embedded (the manifest's count)
    document_passages: int
    document_sentences: int
    only_this_document: bool  # embedded == the distinct texts of the new document no earlier build held
    passages_before: int
    passages_after: int
    cli_search_rank: int | None  # rank of the new document in `assistant search` for its marked sentence
    seen_by_running_app: bool  # the app started before the add cites it, without a restart
    remove_s: float
    removed_cleanly: bool  # after `assistant remove`, the index is back to the passages it had


@contextlib.contextmanager
def _library_copy(settings: Settings) -> Iterator[Settings]:
    """A private copy of the library and its current index (the bench never changes the real ones)."""
    with tempfile.TemporaryDirectory(prefix="assistant-bench-add-") as tmp:
        root = Path(tmp)
        shutil.copytree(settings.corpus_dir, root / "corpus")
        shutil.copytree(settings.index_dir, root / "index", ignore=shutil.ignore_patterns(".lock", ".CURRENT.*"))
        yield replace(settings, corpus_dir=root / "corpus", index_dir=root / "index", data_dir=root / "data")


def _document_counts(index_dir: Path, doc_id: str) -> tuple[int, int, int, int]:
    """The current build's embedded count, total passages, and the passages and sentences of ``doc_id``."""
    from assistant.index import store

    build, manifest = _current_manifest(index_dir)
    passages = store.read_jsonl(build / "passages.jsonl")
    mine = {i for i, p in enumerate(passages) if p.get("doc_id") == doc_id}
    sentences = sum(1 for s in store.read_jsonl(build / "sentences.jsonl") if int(s["passage"]) in mine)
    return int(manifest["counts"].get("embedded", 0)), len(passages), len(mine), sentences


def _text_keys(index_dir: Path, doc_id: str | None = None) -> set[str]:
    """The hashes of the texts the current build holds a vector for (of ``doc_id`` only, when given)."""
    from assistant.index import store

    build, _ = _current_manifest(index_dir)
    passages = store.read_jsonl(build / "passages.jsonl")
    mine = {i for i, p in enumerate(passages) if doc_id is None or p.get("doc_id") == doc_id}
    rows = [p for i, p in enumerate(passages) if i in mine]
    rows += [s for s in store.read_jsonl(build / "sentences.jsonl") if int(s["passage"]) in mine]
    return {str(r["key"]) for r in rows if "key" in r}


def _search_rank(env: dict[str, str], query: str, doc_id: str) -> int | None:
    results = json.loads(run_timed(cli("search", query, "--json", "-k", "10"), env).stdout)["results"]
    return next((i for i, p in enumerate(results, start=1) if p.get("doc_id") == doc_id), None)


def _app_cites(app: Any, question: str, doc_id: str) -> bool:
    import httpx

    from assistant.evaluation.bench_process import http_ask

    with httpx.Client(base_url=app.url, timeout=600) as client:
        answer = http_ask(client, question)
    return any(p.get("doc_id") == doc_id for p in answer.get("sources", []))


def bench_add(settings: Settings, options: BenchOptions) -> AddResult:
    from assistant.evaluation import bench_pdf
    from assistant.evaluation.bench_process import AppProcess

    with _library_copy(settings) as copy, tempfile.TemporaryDirectory(prefix="assistant-bench-pdf-") as folder:
        made = bench_pdf.make_pdf(Path(folder), options.pages, _library_text(settings))
        env = bench_env(copy)
        _, before, _, _ = _document_counts(copy.index_dir, bench_pdf.DOC_ID)
        known = _text_keys(copy.index_dir)
        with AppProcess(env) as app:
            app.first_answer(ASK_QUESTION)
            add = run_timed(cli("add", str(made.path), "--id", bench_pdf.DOC_ID, "--title", bench_pdf.TITLE), env, 3600)
            embedded, after, passages, sentences = _document_counts(copy.index_dir, bench_pdf.DOC_ID)
            new_texts = len(_text_keys(copy.index_dir, bench_pdf.DOC_ID) - known)
            rank = _search_rank(env, bench_pdf.MARKER_QUERY, bench_pdf.DOC_ID)
            seen = _app_cites(app, bench_pdf.MARKER_QUERY, bench_pdf.DOC_ID)
        remove = run_timed(cli("remove", bench_pdf.DOC_ID), env, 3600)
        _, restored, left, _ = _document_counts(copy.index_dir, bench_pdf.DOC_ID)
    return AddResult(
        pdf_pages=made.pages,
        pdf_bytes=made.bytes,
        pdf_words=made.words,
        make_pdf_s=made.seconds,
        add_s=add.exit_s,
        add_cpu_s=add.usage.cpu_s,
        embedded=embedded,
        document_passages=passages,
        document_sentences=sentences,
        only_this_document=passages > 0 and embedded == new_texts,
        passages_before=before,
        passages_after=after,
        cli_search_rank=rank,
        seen_by_running_app=seen,
        remove_s=remove.exit_s,
        removed_cleanly=left == 0 and restored == before,
    )


def _library_text(settings: Settings) -> str:
    """The library's own text (what the long PDF's words are drawn from)."""
    from assistant.corpus.load import ParseCache, load_documents

    loaded = load_documents(settings.corpus_dir, ParseCache(settings.index_dir / "parsed"))
    return "\n\n".join(d.text for d in loaded.documents)


# ---- the whole run -----------------------------------------------------------------------------------------


def _machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def _part(results: dict[str, Any], name: str, run: Callable[[], Any]) -> None:
    """Run one part; a part that cannot run here is skipped with its reason, one that fails says why."""
    started = time.perf_counter()
    try:
        value = run()
        results[name] = [asdict(v) for v in value] if isinstance(value, list) else asdict(value)
    except BenchSkip as exc:
        results[name] = {"skipped": str(exc)}
    except AssistantError as exc:
        results[name] = {"failed": str(exc)}
    except Exception as exc:  # one broken part must not lose the others' figures
        results[name] = {"failed": f"{type(exc).__name__}: {exc}"}
    results.setdefault("part_seconds", {})[name] = round(time.perf_counter() - started, 1)


def _load_questions(questions: list[Question]) -> list[str]:
    """Five different stand-alone questions the reports answer (for the load run)."""
    plain = [q.question for q in questions if q.answerable and not q.history]
    return list(dict.fromkeys(plain))[:5]


def run_bench(
    settings: Settings, options: BenchOptions, notify: Callable[[str], None] = lambda _m: None, embedder: Any = None
) -> dict[str, Any]:
    """Every part ``options.sections`` names, on the library and index ``settings`` name (built if missing).

    ``embedder`` (default: the one the settings name) serves this process's measures; the processes the bench
    starts load their own."""
    from assistant.api import Assistant

    settings = replace(settings, llm=LLMSettings())  # the extractive answerer: no LLM server in the figures
    results: dict[str, Any] = {"created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": _machine()}
    results["options"] = asdict(options)
    results["settings"] = {k: str(getattr(settings, k)) for k in ("corpus_dir", "index_dir", "model", "encoder", "index_type")}
    questions = load_questions(DEFAULT_QUESTIONS)
    asked = questions[: options.questions] if options.questions else questions
    started = time.perf_counter()
    assistant = Assistant.load(settings, notify=notify, embedder=embedder)  # builds the index when there is none
    results["in_process_load_s"] = round(time.perf_counter() - started, 2)
    embed = query_embedding(assistant.embedder, settings.encoder, [q.question for q in asked])
    results["query_embedding"] = asdict(embed)
    parts: dict[str, Callable[[], Any]] = {
        "startup": lambda: bench_startup(settings, options, embed),
        "build": lambda: bench_build(settings, options, embed),
        "latency": lambda: bench_latency(assistant, asked),
        "add": lambda: bench_add(settings, options),
        "load": lambda: _run_load(settings, options, questions),
        "scale": lambda: _run_scale(assistant, options, asked),
    }
    for name in SECTIONS:
        if name in options.sections:
            notify(f"bench: {name}…")
            _part(results, name, parts[name])
    results["memory"] = _memory(results)
    results["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    return results


def _run_load(settings: Settings, options: BenchOptions, questions: list[Question]) -> Any:
    from assistant.evaluation.bench_load import run_load

    return run_load(settings, _load_questions(questions), options.clients, options.per_client)


def _run_scale(assistant: Any, options: BenchOptions, questions: list[Question]) -> list[Any]:
    from assistant.evaluation.bench_scale import scale_run

    return [scale_run(assistant, options.scale, t, [q.question for q in questions]) for t in options.index_types]


def _memory(results: dict[str, Any]) -> dict[str, float | None]:
    load, startup = results.get("load", {}), results.get("startup", {})
    return {
        "app_serving_peak_rss_mb": load.get("rss_peak_mb"),
        "app_after_first_answer_rss_mb": (startup.get("app_rss_mb") or {}).get("median"),
        "app_start_peak_rss_mb": (startup.get("app_peak_rss_mb") or {}).get("max"),
        "cli_peak_rss_mb": startup.get("cli_peak_rss_mb"),
        "bench_process_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


# ---- the report --------------------------------------------------------------------------------------------


def _mmm(spread: dict[str, Any], unit: str = "s") -> str:
    return f"{spread['min']} / {spread['median']} / {spread['max']} {unit}"


def _pp(cuts: dict[str, Any]) -> str:
    return f"{cuts['p50_ms']} / {cuts['p95_ms']} ms"


def _startup_rows(s: dict[str, Any]) -> list[tuple[str, str]]:
    n = s["repeat"]
    return [
        (f"`python -c pass` (min / median / max of {n})", _mmm(s["python_bare_s"])),
        (f"`assistant search` → results printed ({n} runs)", _mmm(s["search_s"])),
        (f"`assistant ask` → answer printed ({n} runs)", _mmm(s["ask_s"])),
        (f"`python app.py` → first /ask answered ({n} runs)", _mmm(s["app_first_answer_s"])),
        ("`python app.py` → first question taken (server up)", _mmm(s["app_accepts_first_s"])),
        (
            "CPU time of search / ask / app (median)",
            f"{s['search_cpu_s']['median']} / {s['ask_cpu_s']['median']} / {s['app_cpu_s']['median']} s",
        ),
    ]


def _build_rows(b: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (f"cold build, new process (min / median / max of {b['runs']})", _mmm(b["seconds"])),
        (
            "cold build throughput",
            f"{b['passages_per_s']} passages/s ({b['passages']} passages + {b['sentences']} sentences; "
            f"{b['embedded_texts_per_s']} texts/s)",
        ),
        (
            "cold build in process (manifest): all / embedding",
            f"{b['build_s_in_process']['median']} / {b['embed_s_in_process']['median']} s",
        ),
    ]


def _latency_rows(x: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (f"search p50 / p95 ({x['questions']} questions, in process)", _pp(x["search"])),
        ("ask (extractive) p50 / p95", _pp(x["ask"])),
        ("search p50 ÷ one query embedding", f"{x['search_p50_over_embed']}× ({x['query_embed_ms']} ms)"),
    ]


def _add_rows(a: dict[str, Any]) -> list[tuple[str, str]]:
    found = f"rank {a['cli_search_rank']}" if a["cli_search_rank"] else "not found"
    return [
        (f"add a {a['pdf_pages']}-page PDF (`assistant add`)", f"{a['add_s']} s (CPU {a['add_cpu_s']} s)"),
        (
            "texts embedded by the add",
            f"{a['embedded']} (that document's {a['document_passages']} passages + {a['document_sentences']} sentences, "
            f"each distinct text once); only that document: {'yes' if a['only_this_document'] else 'NO'}",
        ),
        ("seen by search / by the running app", f"{found} / {'yes' if a['seen_by_running_app'] else 'NO'}"),
        ("remove it again", f"{a['remove_s']} s, {'clean' if a['removed_cleanly'] else 'NOT clean'}"),
    ]


def _load_rows(x: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (
            f"load: {x['clients']} clients × {x['questions_per_client']} questions, login",
            f"{x['answered']}/{x['requests']} answered, {x['errors']} errors, {x['wall_s']} s "
            f"(after {x['login_phase_s']} s of logins, p50 {x['login_ms']['p50_ms']} ms each)",
        ),
        ("load: /ask p50 / p95", _pp(x["latency_ms"])),
        ("load: app RSS before / after / peak", f"{x['rss_before_mb']} / {x['rss_after_mb']} / {x['rss_peak_mb']} MB"),
    ]


def _scale_rows(runs: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [
        (
            f"{r['copies']}× library, {r['index_type']}",
            f"{r['passages']:,} passages; FAISS {r['faiss_build_s']} s, {r['faiss_bytes'] / 1e6:.0f} MB; "
            f"hybrid p95 {r['search']['p95_ms']} ms, dense only p95 {r['dense_only_search']['p95_ms']} ms",
        )
        for r in runs
    ]


ROWS: dict[str, Callable[[Any], list[tuple[str, str]]]] = {
    "startup": _startup_rows,
    "build": _build_rows,
    "latency": _latency_rows,
    "add": _add_rows,
    "load": _load_rows,
    "scale": _scale_rows,
}


def report_rows(results: dict[str, Any]) -> list[tuple[str, str]]:
    embed = results["query_embedding"]
    rows = [("one query embedding (median, this run)", f"{embed['median_ms']} ms ({embed['encoder']})")]
    for name in SECTIONS:
        part = results.get(name)
        if part is None:
            continue
        if isinstance(part, dict) and ("skipped" in part or "failed" in part):
            rows.append((name, f"{'skipped' if 'skipped' in part else 'FAILED'}: {part.get('skipped') or part.get('failed')}"))
            continue
        rows += ROWS[name](part)
    memory = results["memory"]
    if memory.get("app_serving_peak_rss_mb") is not None:
        rows.append(("peak memory of the serving app (RSS)", f"{memory['app_serving_peak_rss_mb']} MB"))
    machine = results["machine"]
    end = machine.get("load_average_end", ["?"])[0]
    rows.append(("machine", f"{machine['cpus']} CPUs, load average {machine['load_average'][0]} at the start, {end} at the end"))
    return rows


def markdown(results: dict[str, Any]) -> str:
    lines = [f"# Benchmark {results['created']}", "", "| measure | value |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in report_rows(results)]
    return "\n".join(lines) + "\n"


def save(results: dict[str, Any], out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[-:]", "", results["created"])
    path = out_dir / f"{stem}.json"
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    path.with_suffix(".md").write_text(markdown(results), encoding="utf-8")
    return path


# ---- the command -------------------------------------------------------------------------------------------


def _sections(text: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    unknown = [n for n in names if n not in SECTIONS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"choose from {','.join(SECTIONS)}")
    return names


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("bench", help="benchmark start-up, build, latency, adding a PDF, a load run with login, memory")
    p.add_argument(
        "--only", type=_sections, default=DEFAULT_SECTIONS, help=f"parts to run (default all but scale): {','.join(SECTIONS)}"
    )
    p.add_argument("--quick", action="store_true", help="few repetitions, 2 load clients, a 5-page PDF (for tests)")
    p.add_argument("--repeat", type=int, help="new processes per start-up measure (default 5; quick 1)")
    p.add_argument("--build-runs", type=int, help="cold builds (default 2; quick 1)")
    p.add_argument("--clients", type=int, help="load-run clients (default 50; quick 2)")
    p.add_argument("--questions-per-client", type=int, help="load-run questions per client (default 5; quick 1)")
    p.add_argument("--pages", type=int, help="pages of the PDF added (default 100; quick 5)")
    p.add_argument("--scale", type=int, help="copies of the library in the scale run (default 100; quick 2)")
    p.add_argument("--index-types", default="flat,hnsw", help="FAISS index types for the scale run")
    p.add_argument("--out", type=Path, default=BENCH_DIR, help=f"folder for the JSON and Markdown report (default {BENCH_DIR})")
    p.add_argument("--json", action="store_true", help="print the JSON report instead of the table")
    p.set_defaults(func=_run)


def options_from(args: argparse.Namespace) -> BenchOptions:
    base = BenchOptions.quick_run(args.only) if args.quick else BenchOptions(args.only)
    given = {
        "repeat": args.repeat,
        "build_runs": args.build_runs,
        "clients": args.clients,
        "per_client": args.questions_per_client,
        "pages": args.pages,
        "scale": args.scale,
    }
    for name, value in given.items():
        if value is not None and value < 1:
            raise AssistantError(f"--{name.replace('_', '-')} must be at least 1.")
    types = tuple(t.strip() for t in args.index_types.split(",") if t.strip())
    return replace(base, index_types=types, **{k: v for k, v in given.items() if v is not None})


def _run(args: argparse.Namespace) -> int:
    options = options_from(args)
    results = run_bench(Settings.from_env(), options, notify=lambda m: print(m, file=sys.stderr, flush=True))
    path = save(results, args.out)
    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title="Benchmark (this machine)")
        table.add_column("measure")
        table.add_column("value", justify="right")
        for name, value in report_rows(results):
            table.add_row(name, value)
        Console().print(table)
        print(f"Saved {path} (and {path.with_suffix('.md').name})")
    failed = [n for n in SECTIONS if isinstance(results.get(n), dict) and "failed" in results[n]]
    return 1 if failed else 0
