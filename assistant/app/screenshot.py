"""``python -m assistant.app.screenshot [DOCS_DIR]``: start the app on a free loopback port and save the
screenshots README shows, at 1280 px and at 390 px (a phone), with Debian's Chromium through Playwright (no
browser download). Also the browser helpers the tests share."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path
from typing import Any

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
WIDTHS = {"desktop": 1280, "phone": 390}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ask_in_browser(page: Any, question: str, timeout_ms: int = 60_000) -> None:
    """Type ``question`` in the chat box, send it, and wait for its answer (a new answer message)."""
    before = page.locator("#chat .answer-message").count()
    box = page.locator("#question textarea")
    box.fill(question)
    # taken: the app empties the box and shows a pending answer as soon as it has the question
    taken = "() => !document.querySelector('#question textarea').value || !!document.querySelector('#chat .pending')"
    for _ in range(3):  # an Enter pressed before the page has wired its events is lost: press it again
        box.press("Enter")
        try:
            page.wait_for_function(taken, timeout=10_000)
            break
        except Exception:  # Playwright's TimeoutError: the question was not taken yet
            continue
    page.wait_for_function(
        "(n) => document.querySelectorAll('#chat .answer-message .marker, #chat .answer-message .refusal, "
        "#chat .answer-message .partial').length > 0 && document.querySelectorAll('#chat .answer-message').length > n "
        "&& !document.querySelector('#chat .pending')",
        arg=before,
        timeout=timeout_ms,
    )


def open_tab(page: Any, name: str) -> None:
    """Open a tab by its name, also when a narrow screen has folded it into the tab bar's overflow menu."""
    tab = page.get_by_role("tab", name=name, exact=True)
    page.locator("[role='tablist']").first.wait_for(state="visible", timeout=30_000)
    page.wait_for_timeout(200)  # the tab bar settles which tabs fit before it folds the rest away
    if tab.count() and tab.first.is_visible():
        tab.first.click()
        return
    page.locator("button[aria-label='More tabs']").first.click()
    page.locator("button", has_text=name).locator("visible=true").first.click()


def main(out: str) -> int:
    from playwright.sync_api import sync_playwright

    from assistant import Assistant
    from assistant.app.launch import launch

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    app = launch(Assistant.load(), port=port, block=False)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            for label, width in WIDTHS.items():
                page = browser.new_page(viewport={"width": width, "height": 900})
                page.goto(f"http://127.0.0.1:{port}/")
                ask_in_browser(page, "Are mutuals actually making money?")
                page.locator("#chat details.citation summary").first.click()
                page.wait_for_timeout(300)
                page.screenshot(path=str(folder / f"ask-{label}.png"), full_page=True)
                open_tab(page, "Search")
                page.locator("#search-query textarea").fill("Teckal exemption")
                page.locator("#search-button").click()
                page.locator("#search-results .result").first.wait_for(timeout=30_000)
                page.wait_for_timeout(300)
                page.screenshot(path=str(folder / f"search-{label}.png"), full_page=True)
                open_tab(page, "Evaluation")
                page.wait_for_timeout(800)
                page.screenshot(path=str(folder / f"evaluation-{label}.png"), full_page=True)
                page.close()
            browser.close()
    finally:
        app.close()
    print(f"Saved screenshots in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "docs"))
