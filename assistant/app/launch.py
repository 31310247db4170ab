"""Launching the app: safe defaults (loopback, no analytics, optional auth), shared by app.py and the tests."""

from __future__ import annotations

import os
from typing import Any

from assistant.app.render import CSS
from assistant.app.ui import build_app

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860


def auth_from_env() -> tuple[str, str] | None:
    """ASSISTANT_APP_AUTH="user:password" turns on a login page."""
    value = os.environ.get("ASSISTANT_APP_AUTH", "")
    if ":" not in value:
        return None
    user, password = value.split(":", 1)
    return (user, password) if user and password else None


def launch(assistant: Any, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, block: bool = True) -> Any:
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    app = build_app(assistant)
    app.launch(
        server_name=host,
        server_port=port,
        auth=auth_from_env(),
        show_error=False,
        quiet=True,
        css=CSS,
        prevent_thread_lock=not block,
        footer_links=["api"],
    )
    return app
