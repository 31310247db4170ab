"""Who may use the server: a guard in front of every route, a throttle on failed logins, and the host check.

Gradio's ``auth=`` adds ``POST /login``, which sets a session cookie (``access-token-<cookie_id>``, a key of
``App.tokens``), and most ``/gradio_api`` routes check it. What it leaves open: the page embeds the whole API
description for anyone, FastAPI's ``/openapi.json`` lists every route, ``cancel``, ``heartbeat``, ``stream``,
``reset`` and ``startup-events`` need no session, ``/gradio_api/upload`` stores files for anyone when there is
no login, and failed logins are never slowed down. ``Guard`` closes these with Gradio's own session tokens:
with a login configured, only the login and Gradio's static files answer without a session.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocketClose

from assistant.app.accounts import Accounts
from assistant.errors import UnsafeHost

LOGIN_PAGE = Path(__file__).with_name("login.html")
LOGIN_PATHS = frozenset({"/login", "/login/"})
# Gradio's own front-end files and icons: the same for every app, holding no data and running nothing.
PUBLIC_PATHS = frozenset({"/favicon.ico", "/robots.txt", "/manifest.json", "/pwa_icon", "/theme.css", "/logout"})
PUBLIC_PREFIXES = ("/assets/", "/static/", "/svelte/", "/pwa_icon/")
UPLOAD_PATH = "/gradio_api/upload"
STARTUP_PATH = "/gradio_api/startup-events"  # Gradio's launch calls it once, without a session
MAX_TRACKED_ADDRESSES = 10_000


def is_loopback(host: str) -> bool:
    """True for names that only this machine can reach: localhost, 127.0.0.0/8, ::1."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_host(host: str, accounts: Accounts, public: bool = False) -> None:
    """Refuse to listen beyond this machine without a login, unless the caller says it means it."""
    if accounts or public or is_loopback(host):
        return
    raise UnsafeHost(
        f"Refusing to serve on {host} without a login: set ASSISTANT_APP_USERS (or ASSISTANT_APP_AUTH), "
        "or pass --public to let anyone who can reach it in."
    )


@dataclass
class _Record:
    attempts: int = 0
    blocked_until: float = 0.0
    last: float = 0.0


class LoginThrottle:
    """Login attempts per client address (an IPv6 address by its /64): ``free_attempts`` go through at once,
    then the address waits ``delay`` seconds, doubled at each further attempt up to ``max_delay``.

    An attempt is counted when it starts, so guesses sent in parallel count too; a successful login
    clears its address. Another address is never slowed down.
    """

    def __init__(
        self,
        free_attempts: int = 5,
        delay: float = 1.0,
        max_delay: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.free_attempts = max(1, free_attempts)
        self.delay = delay
        self.max_delay = max_delay
        self.clock = clock
        self._records: dict[str, _Record] = {}

    def wait(self, address: str) -> float:
        """Seconds this address must still wait (the attempt is refused), or 0 (the attempt is counted)."""
        now = self.clock()
        key = _address_key(address)
        record = self._records.get(key)
        if record is None:
            self._forget_idle(now)
            record = self._records[key] = _Record()
        if now < record.blocked_until:
            return record.blocked_until - now
        record.attempts += 1
        record.last = now
        beyond = record.attempts - self.free_attempts
        if beyond >= 0:
            record.blocked_until = now + min(self.max_delay, self.delay * 2 ** min(beyond, 32))
        return 0.0

    def succeeded(self, address: str) -> None:
        self._records.pop(_address_key(address), None)

    def _forget_idle(self, now: float) -> None:
        if len(self._records) < MAX_TRACKED_ADDRESSES:
            return
        idle = [key for key, r in self._records.items() if r.blocked_until <= now and now - r.last > self.max_delay]
        for key in idle:
            del self._records[key]


def _address_key(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))  # one host usually holds a whole /64
    return str(ip)


class Guard:
    """ASGI middleware in front of the Gradio app (passed to ``launch`` through ``app_kwargs``).

    With logins: every route but the login and static files needs a Gradio session, the page redirects to
    the login form, and ``POST /login`` goes through the throttle. Always: uploads are refused while
    ``max_upload_bytes`` is 0 (above 0, Gradio's ``max_file_size`` caps them).
    """

    def __init__(self, app: ASGIApp, accounts: Accounts, throttle: LoginThrottle, max_upload_bytes: int = 0) -> None:
        self.app = app
        self.accounts = accounts
        self.throttle = throttle
        self.max_upload_bytes = max_upload_bytes
        self.login_page = LOGIN_PAGE.read_text(encoding="utf-8")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path, method = scope["path"], scope.get("method", "")
        if self.accounts:
            if path in LOGIN_PATHS and scope["type"] == "http":
                if method == "POST":
                    await self._login(scope, receive, send)
                else:
                    await HTMLResponse(self.login_page)(scope, receive, send)
                return
            if not (_is_public(path) or _starting(scope) or _signed_in(scope)):
                await self._deny(scope, receive, send)
                return
        if self.max_upload_bytes <= 0 and _is_upload(scope):
            await JSONResponse({"detail": "This server accepts no uploads."}, status_code=403)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _login(self, scope: Scope, receive: Receive, send: Send) -> None:
        address = (scope.get("client") or ("unknown", 0))[0]
        wait = self.throttle.wait(address)
        if wait > 0:
            seconds = math.ceil(wait)
            response = JSONResponse(
                {"detail": f"Too many failed logins; try again in {seconds} s.", "retry_after": round(wait, 3)},
                status_code=429,
                headers={"Retry-After": str(seconds)},
            )
            await response(scope, receive, send)
            return
        status = 0

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, watch)
        if status == 200:
            self.throttle.succeeded(address)

    async def _deny(self, scope: Scope, receive: Receive, send: Send) -> None:
        response: Response | WebSocketClose
        if scope["type"] == "websocket":
            response = WebSocketClose(code=1008)
        elif scope["path"] == "/" and scope.get("method") in ("GET", "HEAD"):
            response = RedirectResponse(f"{scope.get('root_path', '')}/login", status_code=303)
        else:
            response = JSONResponse({"detail": "Not authenticated: log in first."}, status_code=401)
        await response(scope, receive, send)


def _is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def _starting(scope: Scope) -> bool:
    """Gradio's own first call that starts the queue; once it has run, the route needs a session."""
    return scope["path"] == STARTUP_PATH and not getattr(scope.get("app"), "startup_events_triggered", True)


def _signed_in(scope: Scope) -> bool:
    """A live Gradio session: the cookie ``POST /login`` set, still in the Gradio app's ``tokens``."""
    gradio_app = scope.get("app")  # Starlette puts the application it serves in every scope
    tokens = getattr(gradio_app, "tokens", None)
    cookie_id = getattr(gradio_app, "cookie_id", None)
    if not tokens or cookie_id is None:
        return False
    cookies = HTTPConnection(scope).cookies
    token = cookies.get(f"access-token-{cookie_id}") or cookies.get(f"access-token-unsecure-{cookie_id}")
    return token is not None and token in tokens


def _is_upload(scope: Scope) -> bool:
    if scope["type"] != "http" or scope.get("method") != "POST":
        return False
    if scope["path"].rstrip("/") == UPLOAD_PATH:
        return True
    content_type = Headers(scope=scope).get("content-type", "").lower()
    return content_type.startswith("multipart/form-data") and scope["path"] not in LOGIN_PATHS
