"""Launching the app, the one place that does: loopback by default, no analytics, the logins and guard of
``security``, no Node proxy, monitoring page, run history or MCP server. Shared by app.py and the tests."""

from __future__ import annotations

import os
from typing import Any

from starlette.middleware import Middleware

from assistant.app.accounts import Accounts
from assistant.app.render import CSS
from assistant.app.security import Guard, LoginThrottle, check_host
from assistant.app.ui import build_app
from assistant.config import AppSettings

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860


def launch(
    assistant: Any,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    block: bool = True,
    settings: AppSettings | None = None,
    public: bool = False,
) -> Any:
    """Serve the app. ``settings`` default to ``AppSettings.from_env()``; ``public`` allows a non-loopback
    ``host`` without a login. Raises LoginConfigError or UnsafeHost before anything listens."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    settings = settings or AppSettings.from_env()
    accounts = Accounts.from_settings(settings)
    check_host(host, accounts, public)
    throttle = LoginThrottle(settings.login_free_attempts, settings.login_delay, settings.login_max_delay)
    uploads = settings.uploads and bool(accounts)  # adding reports from the browser needs a login
    max_upload = settings.max_upload_bytes if uploads else 0
    guard = Middleware(Guard, accounts=accounts, throttle=throttle, max_upload_bytes=max_upload)
    app = build_app(assistant, settings, uploads=uploads)
    app.launch(
        server_name=host,
        server_port=port,
        # Gradio awaits a coroutine function here (routes.py, login), though its annotation says bool
        auth=accounts.check if accounts else None,  # type: ignore[arg-type]
        app_kwargs={"middleware": [guard]},
        max_file_size=max_upload or None,
        ssr_mode=False,  # a Node proxy in front would hide every client's address from the login throttle
        enable_monitoring=False,
        run_history=False,
        mcp_server=False,
        show_error=False,
        quiet=True,
        css=CSS,
        prevent_thread_lock=not block,
        footer_links=["api"],
    )
    return app
