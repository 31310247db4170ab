"""``python -m assistant.app.screenshot OUT.png``: start the app on a free loopback port, ask a question in
Debian's Chromium (Playwright, no browser download), open a citation, and save a screenshot."""

from __future__ import annotations

import os
import socket
import sys
import tempfile
from pathlib import Path

CHROMIUM = os.environ.get("ASSISTANT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ask_in_browser(page, question: str, timeout_ms: int = 60_000) -> None:  # type: ignore[no-untyped-def]
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")
    page.locator("#chat .marker, #chat .refusal").first.wait_for(timeout=timeout_ms)


def main(out: str) -> int:
    from playwright.sync_api import sync_playwright

    from assistant import Assistant
    from assistant.app.launch import launch

    port = free_port()
    app = launch(Assistant.load(), port=port, block=False)
    try:
        with tempfile.TemporaryDirectory() as profile, sync_playwright() as p:
            browser = p.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, viewport={"width": 1400, "height": 1000}
            )
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/")
            ask_in_browser(page, "Are mutuals actually making money?")
            page.locator("#chat details.citation summary").first.click()
            page.wait_for_timeout(300)
            page.locator("#chat .answer").first.scroll_into_view_if_needed()
            page.evaluate(
                "() => { const a = document.querySelector('#chat .answer'); if (a) a.scrollIntoView({block: 'start'}); }"
            )
            page.wait_for_timeout(300)
            Path(out).parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=out, full_page=True)
            browser.close()
    finally:
        app.close()
    print(f"Saved {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshot.png"))
