"""The app on a real server (loopback): gradio_client for the API, Debian's Chromium through Playwright
for the page, and a bounded concurrent load."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from gradio_client import Client

from assistant.app.launch import launch
from assistant.app.screenshot import CHROMIUM, CHROMIUM_ARGS, ask_in_browser, free_port
from assistant.config import AppSettings


@pytest.fixture(scope="module")
def server(assistant) -> Iterator[str]:  # type: ignore[no-untyped-def]
    port = free_port()
    app = launch(assistant, port=port, block=False, settings=AppSettings())  # no login: loopback only
    yield f"http://127.0.0.1:{port}/"
    app.close()


@pytest.fixture(scope="module")
def client(server: str) -> Client:
    return Client(server, verbose=False)


def test_server_binds_loopback_only(server: str) -> None:
    assert server.startswith("http://127.0.0.1:")


def test_uploads_are_refused_without_a_login(server: str) -> None:
    response = httpx.post(f"{server}gradio_api/upload", files={"files": ("notes.txt", b"hello")})
    assert response.status_code == 403 and response.json() == {"detail": "This server accepts no uploads."}


def test_chat_endpoint_answers_with_citations(client: Client) -> None:
    html, sources = client.predict("Are mutuals actually making money?", api_name="/chat")
    assert "96% of mutuals are profitable" in html and 'class="marker">[1]' in html
    assert "Executive Summary" in sources


def test_ask_endpoint_handles_follow_ups(client: Client) -> None:
    first = client.predict("What is Granta Medical Practices?", [], api_name="/ask")
    history = [{"role": "user", "content": "What is Granta Medical Practices?"}, {"role": "assistant", "content": first["text"]}]
    follow = client.predict("Who is its strategy director?", history, api_name="/ask")
    assert follow["query"] != follow["question"] and "Granta" in follow["query"]
    assert "Gerard Newnham" in follow["text"] and follow["citations"]


def test_refusal_over_the_api(client: Client) -> None:
    answer = client.predict("How many mutuals are there in Scotland?", [], api_name="/ask")
    assert answer["refused"] and answer["citations"] == [] and answer["sources"]
    html, _ = client.predict("How many mutuals are there in Scotland?", api_name="/chat")
    assert 'class="refusal"' in html


def test_search_endpoint(client: Client) -> None:
    html, _choices, citation, raw = client.predict("Teckal exemption", 3, api_name="/search")
    assert len(raw) == 3 and "Teckal" in html and citation.startswith("“")


def test_bad_input_over_the_api_is_a_message(client: Client) -> None:
    assert client.predict("", [], api_name="/ask") == {"error": "Please type a question."}
    html, _ = client.predict("\x00\x01", api_name="/chat")
    assert html.startswith("⚠️")


def test_twenty_concurrent_clients_get_the_same_answers(server: str, client: Client) -> None:
    questions = [
        "Are mutuals actually making money?",
        "What is the Teckal exemption?",
        "What is a CIC?",
        "How many mutuals are there in Scotland?",
        "What does the report recommend for primary care?",
        "What is Granta Medical Practices?",
        "Why are mutuals controversial in the NHS?",
        "What did the DCMS support package for mutuals include?",
        "What is blended finance?",
        "How big is a primary care network?",
    ]
    expected = {q: client.predict(q, [], api_name="/ask")["text"] for q in questions}
    latencies: list[float] = []

    def one_client(_: int) -> list[tuple[str, str]]:
        own = Client(server, verbose=False)
        out = []
        for q in questions:
            started = time.perf_counter()
            out.append((q, own.predict(q, [], api_name="/ask")["text"]))
            latencies.append(time.perf_counter() - started)
        return out

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = [row for rows in pool.map(one_client, range(20)) for row in rows]
    elapsed = time.perf_counter() - started
    assert len(results) == 200
    assert all(text == expected[q] for q, text in results)
    assert elapsed < 300, "bounded: the load test stops by itself"
    cuts = statistics.quantiles(latencies, n=20)
    print(
        f"\nload: 20 clients x 10 questions in {elapsed:.1f} s; p50 {statistics.median(latencies) * 1000:.0f} ms, p95 {cuts[18] * 1000:.0f} ms"
    )


@pytest.mark.browser
def test_real_browser_asks_opens_a_citation_and_searches(server: str, tmp_path: Path) -> None:
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian chromium is not installed (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000},
        )
        page = browser.new_page()
        page.goto(server)
        ask_in_browser(page, "Are mutuals actually making money?")
        chat = page.locator("#chat")
        assert chat.locator(".marker").count() >= 1
        assert "96% of mutuals are profitable" in chat.inner_text()
        page.screenshot(path=str(tmp_path / "answer.png"), full_page=True)

        citation = chat.locator("details.citation").first
        citation.locator("summary").click()
        citation.locator("mark").first.wait_for(state="visible", timeout=10_000)
        assert "96% of mutuals are profitable" in " ".join(citation.locator("mark").all_inner_texts())
        page.screenshot(path=str(tmp_path / "citation.png"), full_page=True)

        ask_in_browser(page, "How many mutuals are there in Scotland?")
        page.locator("#chat .refusal").last.wait_for(timeout=30_000)

        page.get_by_role("tab", name="Search passages").click()
        page.locator("#search-query textarea, #search-query input").first.fill("Teckal exemption")
        page.locator("#search-button").click()
        page.locator("#search-results .result").first.wait_for(timeout=30_000)
        assert "Teckal" in page.locator("#search-results").inner_text()
        citation_box = page.locator("#citation textarea")
        page.wait_for_function("() => document.querySelector('#citation textarea').value.length > 0", timeout=10_000)
        assert citation_box.input_value().startswith("“")
        page.screenshot(path=str(tmp_path / "search.png"), full_page=True)
        browser.close()
    assert (tmp_path / "search.png").stat().st_size > 10_000
