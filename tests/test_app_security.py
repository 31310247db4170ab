"""Who may use the server: a real app on a loopback port with two users from a users file and one
ASSISTANT_APP_AUTH login, reached with httpx, gradio_client and Chromium; app.py in a subprocess for the
host check. Client addresses 127.0.0.2-127.0.0.9 stand for other machines (Linux routes all of 127/8 to lo)."""

from __future__ import annotations

import io
import logging
import math
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from gradio_client import Client

from assistant.app.accounts import Accounts, set_password
from assistant.app.handlers import Handlers
from assistant.app.launch import launch
from assistant.app.screenshot import CHROMIUM, CHROMIUM_ARGS, ask_in_browser, free_port
from assistant.app.security import LoginThrottle, check_host
from assistant.cli import main as cli
from assistant.config import AppSettings
from assistant.errors import LoginConfigError, UnsafeHost

REPO = Path(__file__).resolve().parent.parent
USERS = {"alice": "correct horse battery", "bob": "staple-gun-42"}
SINGLE = ("carol", "from-the-environment")
PASSWORDS = {**USERS, SINGLE[0]: SINGLE[1]}
DELAY = 0.3  # the test server's first wait after five failures (the default is 1 s)
SECRET_QUESTION = "What is the Teckal exemption, asks zebra-4711?"

# Every route that runs a function or returns data, and what it answers without a session.
GUARDED = [
    ("GET", "/"),
    ("HEAD", "/"),
    ("GET", "/?view=api"),
    ("GET", "/config"),
    ("GET", "/gradio_api/info"),
    ("GET", "/openapi.json"),
    ("GET", "/gradio_api/openapi.json"),
    ("GET", "/docs"),
    ("POST", "/gradio_api/call/ask"),
    ("GET", "/gradio_api/call/ask/0123"),
    ("POST", "/gradio_api/run/ask"),
    ("POST", "/gradio_api/queue/join"),
    ("GET", "/gradio_api/queue/data?session_hash=x"),
    ("GET", "/gradio_api/queue/status"),
    ("POST", "/gradio_api/upload"),
    ("GET", "/gradio_api/file=/etc/hostname"),
    ("POST", "/gradio_api/cancel"),
    ("GET", "/gradio_api/heartbeat/x"),
    ("POST", "/gradio_api/reset"),
    ("POST", "/gradio_api/stream/x"),
    ("GET", "/gradio_api/startup-events"),
    ("POST", "/gradio_api/component_server"),
    ("GET", "/gradio_api/user"),
    ("GET", "/gradio_api/no-such-route"),
    ("GET", "/monitoring"),
]


def _client(server: str, address: str = "127.0.0.1") -> httpx.Client:
    return httpx.Client(base_url=server, transport=httpx.HTTPTransport(local_address=address), timeout=30)


def _log_in(server: str, name: str, address: str = "127.0.0.1") -> httpx.Client:
    client = _client(server, address)
    response = client.post("/login", data={"username": name, "password": PASSWORDS[name]})
    assert response.status_code == 200, response.text
    return client


@pytest.fixture(scope="module")
def users_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("users") / "users.txt"
    path.write_text("# the team\n\n", encoding="utf-8")
    for name, password in USERS.items():
        set_password(path, name, password)
    return path


@pytest.fixture(scope="module")
def server(assistant, users_file: Path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    settings = AppSettings(auth=":".join(SINGLE), users_file=users_file, login_delay=DELAY, login_max_delay=5.0)
    port = free_port()
    app = launch(assistant, port=port, block=False, settings=settings)
    yield f"http://127.0.0.1:{port}"
    app.close()


@pytest.fixture(scope="module")
def session(server: str) -> httpx.Client:
    return _log_in(server, "alice")


@pytest.mark.parametrize(("method", "path"), GUARDED)
def test_without_a_login_every_route_is_refused(server: str, method: str, path: str) -> None:
    response = _client(server).request(method, path)
    if path.split("?")[0] == "/":
        assert response.status_code == 303 and response.headers["location"] == "/login"
    else:
        assert response.status_code == 401
        assert response.json() == {"detail": "Not authenticated: log in first."}


def test_the_login_page_holds_no_api_description(server: str) -> None:
    page = _client(server).get("/", follow_redirects=True)
    assert page.url.path == "/login" and 'type="password"' in page.text
    assert "/ask" not in page.text and "gradio_api_info" not in page.text


def test_with_a_login_the_routes_answer(server: str, session: httpx.Client) -> None:
    page = session.get("/")
    assert page.status_code == 200 and "window.gradio_config" in page.text and '"/ask"' in page.text
    assert session.get("/?view=api").status_code == 200
    assert "components" in session.get("/config").json()
    assert "/ask" in session.get("/gradio_api/info").json()["named_endpoints"]
    assert "/gradio_api/queue/join" in session.get("/openapi.json").json()["paths"]
    assert session.get("/gradio_api/openapi.json").status_code == 200
    assert session.get("/gradio_api/queue/status").json()["msg"] == "estimation"
    event = session.post("/gradio_api/call/ask", json={"data": ["What is the Teckal exemption?", []]}).json()["event_id"]
    assert "Teckal" in session.get(f"/gradio_api/call/ask/{event}").text
    # these reach Gradio, which answers for itself: no /docs page, no file of the app's, nothing to cancel
    assert session.get("/docs").status_code == 404
    assert session.get("/gradio_api/file=/etc/hostname").json()["detail"].startswith("File not allowed")
    assert session.post("/gradio_api/cancel", json={}).status_code == 422


def test_gradio_client_logs_in(server: str) -> None:
    for name in ("bob", "carol"):
        answer = Client(server, auth=(name, PASSWORDS[name]), verbose=False).predict(
            "What is the Teckal exemption?", [], api_name="/ask"
        )
        assert "Teckal" in answer["text"]
    with pytest.raises(Exception, match="credentials were not provided"):
        Client(server, verbose=False)
    with pytest.raises(ValueError, match="Could not login"):
        Client(server, auth=("bob", "not-his-password"), verbose=False)


def test_both_users_of_the_file_and_the_environment_login_can_log_in(server: str) -> None:
    for name in PASSWORDS:
        assert _log_in(server, name).get("/config").status_code == 200
    wrong = _client(server).post("/login", data={"username": "alice", "password": USERS["bob"]})
    assert wrong.status_code == 400
    unknown = _client(server).post("/login", data={"username": "mallory", "password": USERS["bob"]})
    assert unknown.status_code == 400


def test_uploads_are_refused_even_with_a_login(server: str, session: httpx.Client) -> None:
    upload = session.post("/gradio_api/upload", files={"files": ("notes.txt", b"hello")})
    assert upload.status_code == 403 and upload.json() == {"detail": "This server accepts no uploads."}
    form = session.post("/gradio_api/component_server", files={"files": ("notes.txt", b"hello")})
    assert form.status_code == 403


def test_failed_logins_from_one_address_are_slowed_down(server: str) -> None:
    attacker, colleague = _client(server, "127.0.0.3"), _client(server, "127.0.0.4")
    started = time.perf_counter()
    codes = [attacker.post("/login", data={"username": "alice", "password": f"guess-{i}"}).status_code for i in range(20)]
    allowed = 5 + math.floor(math.log2(time.perf_counter() - started + 1)) + 1  # waits that passed while guessing
    assert codes[:5] == [400] * 5 and codes[-1] == 429 and codes.count(400) <= allowed, codes
    refused = attacker.post("/login", data={"username": "alice", "password": USERS["alice"]})
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert colleague.post("/login", data={"username": "alice", "password": USERS["alice"]}).status_code == 200
    time.sleep(refused.json()["retry_after"] + 0.05)
    assert attacker.post("/login", data={"username": "alice", "password": USERS["alice"]}).status_code == 200
    assert attacker.post("/login", data={"username": "alice", "password": "guess-again"}).status_code == 400


def test_a_hundred_wrong_passwords_no_longer_go_through_quickly(server: str) -> None:
    attacker = _client(server, "127.0.0.5")
    started = time.perf_counter()
    codes = [attacker.post("/login", data={"username": "bob", "password": f"guess-{i}"}).status_code for i in range(100)]
    elapsed = time.perf_counter() - started
    # five free guesses, then one more per doubling wait (1 s, 2 s, 4 s, …) that has passed while guessing
    allowed = 5 + math.floor(math.log2(elapsed + 1)) + 1
    assert codes[:5] == [400] * 5 and codes.count(400) <= allowed and codes.count(429) >= 100 - allowed, codes
    # the same throttle with its default settings, on a clock that jumps over each wait
    now = [0.0]
    throttle, checked = LoginThrottle(clock=lambda: now[0]), 0
    while checked < 100:
        wait = throttle.wait("192.0.2.1")
        if wait > 0:
            now[0] += wait
        else:
            checked += 1
    print(
        f"\nlogin throttle: 100 wrong passwords in {elapsed:.2f} s, {codes.count(400)} checked and "
        f"{codes.count(429)} refused (429); with the defaults, 100 checked guesses take {now[0] / 3600:.1f} h"
    )
    assert now[0] > 3600 * 12


def test_question_text_stays_out_of_the_log(
    server: str, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    client = Client(server, auth=("alice", USERS["alice"]), verbose=False)
    assert client.predict(SECRET_QUESTION, [], api_name="/ask")["question"] == SECRET_QUESTION
    client.predict(SECRET_QUESTION, 3, "House style", api_name="/search")
    out, err = capfd.readouterr()
    assert "zebra-4711" not in caplog.text + out + err


class _Broken:
    """An assistant that fails with the question in its message, as a library's error might."""

    def ask(self, question: str, history: object = None) -> None:
        raise RuntimeError(f"could not read {question!r}")


def test_a_failure_is_logged_without_the_question_unless_asked(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="assistant")
    assert Handlers(_Broken()).ask(SECRET_QUESTION)["error"]
    assert "RuntimeError" in caplog.text and "zebra-4711" not in caplog.text
    caplog.clear()
    Handlers(_Broken(), AppSettings(log_questions=True)).ask(SECRET_QUESTION)
    assert "zebra-4711" in caplog.text


@pytest.mark.browser
def test_real_browser_logs_in_and_asks(server: str, tmp_path: Path) -> None:
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian chromium is not installed (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page()
        page.goto(server)
        assert page.url.endswith("/login")
        page.fill("#username", "bob")
        page.fill("#password", "not-his-password")
        page.click("button[type=submit]")
        page.wait_for_function("() => document.querySelector('#message').textContent.length > 0")
        assert "Wrong user name or password" in page.inner_text("#message")
        page.fill("#password", USERS["bob"])
        page.click("button[type=submit]")
        page.wait_for_url(f"{server}/", timeout=30_000)
        ask_in_browser(page, "Are mutuals actually making money?")
        assert "96% of mutuals are profitable" in page.locator("#chat").inner_text()
        browser.close()


# Logins from files and the environment


def _users(tmp_path: Path, text: str) -> AppSettings:
    path = tmp_path / "users.txt"
    path.write_text(text, encoding="utf-8")
    return AppSettings(users_file=path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("# team\nalice:not-a-hash\n", r"users.txt line 2: the password of alice is not a bcrypt hash"),
        ("alice $2b$12$abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0\n", r"line 1: expected NAME:BCRYPT-HASH"),
        ("# nobody yet\n", r"lists nobody"),
    ],
)
def test_a_malformed_users_file_is_named_with_its_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(LoginConfigError, match=message):
        Accounts.from_settings(_users(tmp_path, text))


def test_a_name_listed_twice_or_a_missing_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "users.txt"
    set_password(path, "alice", "long enough")
    line = path.read_text(encoding="utf-8")
    with pytest.raises(LoginConfigError, match="line 2: alice is listed twice"):
        Accounts.from_settings(_users(tmp_path, line + line))
    with pytest.raises(LoginConfigError, match="does not exist"):
        Accounts.from_settings(AppSettings(users_file=tmp_path / "absent.txt"))
    with pytest.raises(LoginConfigError, match="user:password"):
        Accounts.from_settings(AppSettings(auth="only-a-name"))


def test_users_command_adds_changes_and_removes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "team" / "users.txt"
    monkeypatch.setattr(sys, "stdin", io.StringIO("first password\n"))
    assert cli(["users", "add", "dave", "--file", str(path), "--password-stdin"]) == 0
    monkeypatch.setenv("ASSISTANT_APP_USERS", str(path))
    monkeypatch.setattr(sys, "stdin", io.StringIO("second password\n"))
    assert cli(["users", "add", "dave", "--password-stdin"]) == 0
    assert "Changed the password of dave" in capsys.readouterr().out
    accounts = Accounts.from_settings(AppSettings.from_env())
    assert accounts.verify("dave", "second password") and not accounts.verify("dave", "first password")
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert cli(["users", "add", "erin", "--password-stdin"]) == 2
    assert cli(["users", "remove", "erin"]) == 2
    assert "There is no user erin" in capsys.readouterr().err
    assert cli(["users", "remove", "dave"]) == 0
    assert "dave" not in path.read_text(encoding="utf-8")


def test_only_loopback_hosts_go_without_a_login() -> None:
    nobody = Accounts()
    for host in ("127.0.0.1", "::1", "localhost", "[::1]"):
        check_host(host, nobody)
    for host in ("0.0.0.0", "::", "192.168.1.20", "assistant.example.org"):
        with pytest.raises(UnsafeHost, match="--public"):
            check_host(host, nobody)
        check_host(host, nobody, public=True)
        check_host(host, Accounts(single=SINGLE))


# app.py in a subprocess


def _app_env(settings, **extra: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_APP_", "ASSISTANT_LOG_"))}
    env.update(PYTHONPATH=str(REPO), ASSISTANT_INDEX=str(settings.index_dir), GRADIO_ANALYTICS_ENABLED="False", **extra)
    return env


def _run_app(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "app.py"), *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_app_refuses_a_public_host_without_a_login(settings) -> None:  # type: ignore[no-untyped-def]
    done = _run_app(_app_env(settings), "--host", "0.0.0.0", "--port", str(free_port()))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "Error: Refusing to serve on 0.0.0.0 without a login: set ASSISTANT_APP_USERS (or ASSISTANT_APP_AUTH), "
        "or pass --public to let anyone who can reach it in."
    ]


def test_app_names_a_malformed_users_file_in_one_line(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "users.txt"
    path.write_text("alice:$2b$12$too-short\n", encoding="utf-8")
    done = _run_app(_app_env(settings, ASSISTANT_APP_USERS=str(path)), "--port", str(free_port()))
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"Error: {path} line 1: the password of alice is not a bcrypt hash; set it with `assistant users add alice`."
    )


@pytest.fixture(scope="module")
def public_app(settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:  # type: ignore[no-untyped-def]
    """app.py on 0.0.0.0 with --public, uploads asked for and question logging on; yields (url, its stderr)."""
    port = free_port()
    log = tmp_path_factory.mktemp("public") / "stderr.txt"
    env = _app_env(settings, ASSISTANT_APP_UPLOADS="1", ASSISTANT_LOG_QUESTIONS="1")
    with log.open("w") as err:
        process = subprocess.Popen(
            [sys.executable, str(REPO / "app.py"), "--host", "0.0.0.0", "--port", str(port), "--public"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f"{url}/config", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
        assert process.poll() is None, log.read_text()
        yield url, log
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_app_serves_a_public_host_with_public(public_app: tuple[str, Path]) -> None:
    url, _ = public_app
    assert httpx.get(f"{url}/").status_code == 200


def test_uploads_need_a_login_even_when_switched_on(public_app: tuple[str, Path]) -> None:
    url, _ = public_app
    upload = httpx.post(f"{url}/gradio_api/upload", files={"files": ("small.txt", b"x" * 100)})
    assert upload.status_code == 403 and upload.json() == {"detail": "This server accepts no uploads."}


def test_with_a_login_and_uploads_on_small_files_go_in_and_big_ones_are_refused(assistant) -> None:  # type: ignore[no-untyped-def]
    settings = AppSettings(auth=":".join(SINGLE), uploads=True, max_upload_mb=1)
    port = free_port()
    app = launch(assistant, port=port, block=False, settings=settings)
    try:
        url = f"http://127.0.0.1:{port}"
        client = _client(url)
        assert client.post("/gradio_api/upload", files={"files": ("small.txt", b"x" * 100)}).status_code == 401
        assert client.post("/login", data={"username": SINGLE[0], "password": SINGLE[1]}).status_code == 200
        small = client.post("/gradio_api/upload", files={"files": ("small.txt", b"x" * 100)})
        assert small.status_code == 200 and small.json()[0].endswith("small.txt")
        big = client.post("/gradio_api/upload", files={"files": ("big.txt", b"x" * 1_500_000)})
        assert big.status_code == 413
    finally:
        app.close()


def test_question_logging_on_asks_for_the_text(public_app: tuple[str, Path]) -> None:
    url, log = public_app
    Client(url, verbose=False).predict(SECRET_QUESTION, [], api_name="/ask")
    time.sleep(0.2)
    assert "zebra-4711" in log.read_text()
