"""The load run of ``assistant bench``: many clients asking at once through the app's API, behind a login.

The app runs as its own process with a users file (bcrypt hashes, as ``assistant users add`` writes them).
Every client logs in with ``gradio_client`` (``auth=``); when all have logged in, they ask their questions
concurrently, one thread each. Logging in is timed apart from answering, so the cost of bcrypt does not
blur the answer latencies. All clients come from 127.0.0.1, and the app's login throttle counts parallel
attempts from one address (five at once, and the address waits), so at most ``LOGINS_AT_ONCE`` logins are
in flight at a time — as a team logging in from several machines would never meet the throttle. The app's
memory is read from /proc before, during (sampled) and after.
"""

from __future__ import annotations

import contextlib
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.config import AppSettings, Settings
from assistant.evaluation.bench_process import AppProcess, Memory, bench_env
from assistant.evaluation.bench_stats import Percentiles

USER = "bench"
PASSWORD = "bench-load-password"  # a throw-away login of a throw-away users file
SAMPLE_SECONDS = 0.1
LOGINS_AT_ONCE = AppSettings().login_free_attempts - 1  # under the throttle's free attempts per address


@dataclass(frozen=True)
class LoadResult:
    clients: int
    questions_per_client: int
    requests: int
    answered: int
    errors: int
    error_examples: list[str]
    login: str
    login_ms: Percentiles
    latency_ms: Percentiles
    per_question_p50_ms: dict[str, float]
    login_phase_s: float  # first login started → every client logged in
    wall_s: float  # every client logged in → last answer
    requests_per_s: float
    rss_before_mb: float | None
    rss_after_mb: float | None
    rss_peak_during_load_mb: float | None
    rss_peak_mb: float | None  # the app's high-water mark over its whole life (VmHWM, or a larger sample)
    app_cpu_s: float | None


class _Sampler:
    """The largest resident memory of a process seen while running (every SAMPLE_SECONDS)."""

    def __init__(self, app: AppProcess) -> None:
        self.app = app
        self.peak: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            now = self.app.memory()
            if now is not None:
                self.peak = max(self.peak or 0.0, now.rss_mb)

    def __enter__(self) -> _Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class _Tally:
    """What the client threads record (lists are appended to under the GIL)."""

    logins: list[float] = field(default_factory=list)
    latencies: list[tuple[str, float]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    asking_from: float = 0.0  # when every client had logged in (or failed to)

    def all_logged_in(self) -> None:
        self.asking_from = time.perf_counter()


def _answered(result: Any) -> bool:
    return isinstance(result, dict) and "error" not in result and bool(result.get("text"))


def _login(url: str, tally: _Tally, gate: threading.Semaphore) -> Any:
    from gradio_client import Client

    with gate:
        started = time.perf_counter()
        try:
            client = Client(url, auth=(USER, PASSWORD), verbose=False)
        except Exception as exc:  # a failed login is an error of the run, not of the bench
            tally.errors.append(f"login: {type(exc).__name__}: {exc}"[:200])
            return None
        tally.logins.append(time.perf_counter() - started)
        return client


def _client(url: str, tally: _Tally, gate: threading.Semaphore, barrier: threading.Barrier, questions: list[str]) -> None:
    client = _login(url, tally, gate)
    with contextlib.suppress(threading.BrokenBarrierError):
        barrier.wait(timeout=600)
    if client is None:
        return
    for question in questions:
        started = time.perf_counter()
        try:
            result = client.predict(question, [], api_name="/ask")
        except Exception as exc:
            tally.errors.append(f"ask: {type(exc).__name__}: {exc}"[:200])
            continue
        if _answered(result):
            tally.latencies.append((question, time.perf_counter() - started))
        else:
            tally.errors.append(f"ask: {str(result)[:200]}")


def _users_file(folder: Path) -> Path:
    from assistant.app.accounts import set_password

    path = folder / "users"
    set_password(path, USER, PASSWORD)
    return path


def _mb(memory: Memory | None, peak: bool = False) -> float | None:
    if memory is None:
        return None
    return memory.peak_mb if peak else memory.rss_mb


def run_load(settings: Settings, questions: list[str], clients: int, per_client: int) -> LoadResult:
    """``clients`` logged-in clients × ``per_client`` questions each, all at once, against a new app process."""
    from gradio_client import Client

    with tempfile.TemporaryDirectory(prefix="assistant-bench-load-") as tmp:
        extra = {"ASSISTANT_APP_USERS": str(_users_file(Path(tmp)))}
        if per_client > 25:  # the app allows 30 questions a minute per session
            extra["ASSISTANT_APP_RATE"] = str(per_client * 2)
        with AppProcess(bench_env(settings, extra)) as app:
            app.listening()
            Client(app.url, auth=(USER, PASSWORD), verbose=False).predict(questions[0], [], api_name="/ask")
            before = app.memory()
            tally = _Tally()
            barrier, gate = threading.Barrier(clients, action=tally.all_logged_in), threading.Semaphore(LOGINS_AT_ONCE)
            asked = [[questions[(i + j) % len(questions)] for j in range(per_client)] for i in range(clients)]
            with _Sampler(app) as sampler, ThreadPoolExecutor(max_workers=clients) as pool:
                started = time.perf_counter()
                list(pool.map(lambda mine: _client(app.url, tally, gate, barrier, mine), asked))
                ended = time.perf_counter()
            after = app.memory()
        usage = app.usage
    asking_from = tally.asking_from or started
    phases = (round(asking_from - started, 2), round(ended - asking_from, 2))
    return _result(clients, per_client, tally, phases, before, after, sampler.peak, usage.cpu_s if usage else None)


def _result(
    clients: int,
    per_client: int,
    tally: _Tally,
    phases: tuple[float, float],
    before: Memory | None,
    after: Memory | None,
    sampled_peak: float | None,
    cpu_s: float | None,
) -> LoadResult:
    by_question: dict[str, list[float]] = {}
    for question, seconds in tally.latencies:
        by_question.setdefault(question, []).append(seconds)
    requests = clients * per_client
    return LoadResult(
        clients=clients,
        questions_per_client=per_client,
        requests=requests,
        answered=len(tally.latencies),
        errors=requests - len(tally.latencies),
        error_examples=tally.errors[:5],
        login=f"users file (bcrypt), gradio_client auth=, {LOGINS_AT_ONCE} logins at a time from 127.0.0.1",
        login_ms=Percentiles.of_seconds(tally.logins or [0.0]),
        latency_ms=Percentiles.of_seconds([s for _, s in tally.latencies] or [0.0]),
        per_question_p50_ms={q: Percentiles.of_seconds(v).p50_ms for q, v in by_question.items()},
        login_phase_s=phases[0],
        wall_s=phases[1],
        requests_per_s=round(len(tally.latencies) / phases[1], 2) if phases[1] else 0.0,
        rss_before_mb=_mb(before),
        rss_after_mb=_mb(after),
        rss_peak_during_load_mb=sampled_peak,
        rss_peak_mb=max((m for m in (_mb(after, peak=True), sampled_peak) if m is not None), default=None),
        app_cpu_s=cpu_s,
    )
