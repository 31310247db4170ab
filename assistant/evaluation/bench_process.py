"""Whole new processes for ``assistant bench``: the CLI and the app, timed from launch, with their memory.

Every process runs this same package (its folder goes first on PYTHONPATH) with the bench's corpus, index,
data folder and model cache, and without the caller's LLM or login settings unless the bench sets them. A
finished process is reaped with ``os.wait4``, so its CPU time and peak memory come with its wall time.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from assistant.config import PACKAGE_ROOT, REPO_ROOT, Settings
from assistant.errors import AssistantError

APP_SCRIPT = REPO_ROOT / "app.py"
POLL_SECONDS = 0.05


class BenchError(AssistantError):
    """A benchmarked process failed or did not answer in time."""


class BenchSkip(AssistantError):
    """A part of the bench cannot run here (the reason says why)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bench_env(settings: Settings, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a benchmarked process: this package, the bench's folders, no LLM and no login."""
    dropped = ("ASSISTANT_LLM_", "ASSISTANT_APP_", "ASSISTANT_HOME", "GRADIO_SERVER_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    path = os.environ.get("PYTHONPATH", "")
    env.update(
        PYTHONPATH=str(PACKAGE_ROOT.parent) + (os.pathsep + path if path else ""),
        ASSISTANT_CORPUS=str(settings.corpus_dir),
        ASSISTANT_INDEX=str(settings.index_dir),
        ASSISTANT_DATA=str(settings.data_dir),
        ASSISTANT_MODEL=settings.model,
        ASSISTANT_MODEL_CACHE=str(settings.model_cache),
        ASSISTANT_ENCODER=settings.encoder,
        ASSISTANT_INDEX_TYPE=settings.index_type,
        GRADIO_ANALYTICS_ENABLED="False",
        HF_HUB_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
    )
    env.update(extra or {})
    return env


def cli(*args: str) -> list[str]:
    """``assistant ARGS…`` as a command line running this package."""
    return [sys.executable, "-m", "assistant.cli", *args]


@dataclass(frozen=True)
class Usage:
    """What the kernel says a finished process used."""

    cpu_s: float
    peak_rss_mb: float


def _reap(proc: subprocess.Popen[bytes], wait_seconds: float | None = None) -> Usage | None:
    """Wait for ``proc`` (at most ``wait_seconds``; None: as long as it takes) and take its resource usage."""
    deadline = None if wait_seconds is None else time.monotonic() + wait_seconds
    while True:
        pid, status, usage = os.wait4(proc.pid, 0 if deadline is None else os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return Usage(round(usage.ru_utime + usage.ru_stime, 3), round(usage.ru_maxrss / 1024, 1))
        if deadline is not None and time.monotonic() > deadline:
            return None
        time.sleep(POLL_SECONDS)


@dataclass(frozen=True)
class ProcessRun:
    """One whole process: launch → last byte printed (``output_s``) and → exit (``exit_s``)."""

    output_s: float
    exit_s: float
    usage: Usage
    stdout: str
    stderr: str


def _drain(proc: subprocess.Popen[bytes], started: float, timeout: float) -> tuple[bytes, bytes, float]:
    """Both pipes read to their end; the time of the last byte on stdout."""
    assert proc.stdout is not None and proc.stderr is not None
    chunks: dict[str, list[bytes]] = {"out": [], "err": []}
    last_out = started
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ, "out")
        selector.register(proc.stderr, selectors.EVENT_READ, "err")
        while selector.get_map():
            remaining = started + timeout - time.perf_counter()
            if remaining <= 0:
                proc.kill()
                raise BenchError(f"A benchmarked process took more than {timeout:.0f} s.")
            for key, _ in selector.select(remaining):
                data = os.read(key.fd, 1 << 16)
                if not data:
                    selector.unregister(key.fileobj)
                    continue
                chunks[key.data].append(data)
                if key.data == "out":
                    last_out = time.perf_counter()
    return b"".join(chunks["out"]), b"".join(chunks["err"]), last_out


def run_timed(args: list[str], env: Mapping[str, str], timeout: float = 600.0) -> ProcessRun:
    """Run a whole new process to its end; BenchError if it fails or overruns."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(env))
    try:
        out, err, last_out = _drain(proc, started, timeout)
        usage = _reap(proc)
        assert usage is not None
    finally:
        if proc.returncode is None:
            proc.kill()
            proc.wait()
    ended = time.perf_counter()
    stdout, stderr = out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
    if proc.returncode != 0:
        tail = (stderr.strip() or stdout.strip()).splitlines()[-3:]
        raise BenchError(f"`{' '.join(args[2:])}` exited with {proc.returncode}: {' / '.join(tail)}")
    return ProcessRun(round(last_out - started, 3), round(ended - started, 3), usage, stdout, stderr)


@dataclass(frozen=True)
class Memory:
    """A live process's resident memory now and at its peak so far (MB), from /proc (Linux)."""

    rss_mb: float
    peak_mb: float


def memory(pid: int) -> Memory | None:
    try:
        lines = Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines()
    except OSError:
        return None
    values = {k: v for k, _, v in (line.partition(":") for line in lines)}
    try:
        return Memory(_kb_to_mb(values["VmRSS"]), _kb_to_mb(values["VmHWM"]))
    except (KeyError, ValueError):
        return None


def _kb_to_mb(value: str) -> float:
    return round(int(value.split()[0]) / 1024, 1)


def sse_result(stream: str) -> Any:
    """The data of a Gradio ``/gradio_api/call/…`` event stream's ``complete`` event."""
    event = ""
    for line in stream.splitlines():
        if line.startswith("event:"):
            event = line.partition(":")[2].strip()
        elif line.startswith("data:") and event in ("complete", "error"):
            data = line.partition(":")[2].strip()
            if event == "error":
                raise BenchError(f"The app answered with an error: {data[:200]}")
            return json.loads(data)
    raise BenchError("The app's event stream ended without a result.")


def http_ask(client: Any, question: str, accepted: Callable[[], None] | None = None) -> dict[str, Any]:
    """One question through the app's published ``/ask`` API with a plain HTTP client (httpx); ``accepted`` is
    called when the server has taken the question."""
    response = client.post("/gradio_api/call/ask", json={"data": [question, []]})
    response.raise_for_status()
    if accepted is not None:
        accepted()
    event_id = response.json()["event_id"]
    stream = client.get(f"/gradio_api/call/ask/{event_id}")
    stream.raise_for_status()
    result = sse_result(stream.text)
    answer = result[0] if isinstance(result, list) and result else result
    if not isinstance(answer, dict) or "error" in answer:
        raise BenchError(f"The app did not answer: {str(answer)[:200]}")
    return answer


class AppProcess:
    """``python app.py`` on a free loopback port as a whole new process; stopped (and reaped) on exit."""

    def __init__(self, env: Mapping[str, str], timeout: float = 600.0) -> None:
        if not APP_SCRIPT.is_file():
            raise BenchSkip(f"{APP_SCRIPT} is not there (the app runs from a checkout).")
        self.env = dict(env)
        self.timeout = timeout
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.started = 0.0
        self.accepted_s = 0.0  # launch → the first question taken by the server (it listens and routes)
        self.usage: Usage | None = None
        self._log: IO[bytes] | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> AppProcess:
        self._log = tempfile.TemporaryFile()
        self.started = time.perf_counter()
        self._proc = subprocess.Popen(
            [sys.executable, str(APP_SCRIPT), "--port", str(self.port)],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=self.env,
        )
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    def memory(self) -> Memory | None:
        return memory(self.pid)

    def _check_alive(self) -> None:
        assert self._proc is not None
        if self._proc.poll() is not None:
            raise BenchError(f"The app exited with {self._proc.returncode}: {self.log_tail()}")
        if time.perf_counter() - self.started > self.timeout:
            raise BenchError(f"The app did not answer within {self.timeout:.0f} s: {self.log_tail()}")

    def first_answer(self, question: str) -> float:
        """Seconds from launch until ``question`` was answered through the API (polling until it listens)."""
        import httpx

        def accepted() -> None:
            self.accepted_s = time.perf_counter() - self.started

        with httpx.Client(base_url=self.url, timeout=120) as client:
            while True:
                self._check_alive()
                try:
                    http_ask(client, question, accepted)
                    return time.perf_counter() - self.started
                except (httpx.TransportError, httpx.HTTPStatusError):
                    time.sleep(POLL_SECONDS)

    def listening(self) -> float:
        """Seconds from launch until the server answers HTTP at all (any status: a login may be needed)."""
        import httpx

        while True:
            self._check_alive()
            try:
                httpx.get(f"{self.url}/gradio_api/info", timeout=10)
                return time.perf_counter() - self.started
            except httpx.TransportError:
                time.sleep(POLL_SECONDS)

    def stop(self) -> None:
        proc = self._proc
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGINT)
            self.usage = _reap(proc, wait_seconds=15)
            if self.usage is None:
                proc.kill()
                self.usage = _reap(proc)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 3) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        text = self._log.read().decode("utf-8", "replace").strip()
        return " / ".join(text.splitlines()[-lines:])
