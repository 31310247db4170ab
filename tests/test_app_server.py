"""The app on a real server (loopback, no login): gradio_client for the API, and concurrent clients."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from gradio_client import Client

from assistant.app.launch import launch
from assistant.app.screenshot import free_port
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


def test_the_server_listens_on_loopback_only(server: str) -> None:
    assert server.startswith("http://127.0.0.1:")


def test_uploads_are_refused_without_a_login(server: str) -> None:
    response = httpx.post(f"{server}gradio_api/upload", files={"files": ("notes.txt", b"hello")})
    assert response.status_code == 403 and response.json() == {"detail": "This server accepts no uploads."}


def test_only_the_ask_and_search_endpoints_are_published(client: Client) -> None:
    assert set(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == {"/ask", "/search"}


def test_ask_answers_with_citations_and_follows_up(client: Client) -> None:
    first = client.predict("What is Granta Medical Practices?", [], api_name="/ask")
    assert first["state"] == "answered" and first["citations"]
    history = [{"role": "user", "content": first["question"]}, {"role": "assistant", "content": first["text"]}]
    follow = client.predict("Who is its strategy director?", history, api_name="/ask")
    assert follow["query"] != follow["question"] and "Granta" in follow["query"]
    assert "Gerard Newnham" in follow["text"] and follow["citations"]


def test_a_refusal_over_the_api_carries_the_nearest_passages(client: Client) -> None:
    answer = client.predict("What is the capital of Peru?", [], api_name="/ask")
    assert answer["refused"] and answer["citations"] == [] and answer["sources"]


def test_search_returns_results_and_a_full_reference(client: Client) -> None:
    html, choices, citation = client.predict("Teckal exemption", 3, "Harvard", api_name="/search")
    assert "Teckal" in html and citation.startswith("Baxendale and Mutual Ventures (2019)")
    labels = [label for label, _value in choices["choices"]]
    assert len(labels) == 3 and len(set(labels)) == 3 and choices["value"] == "0"


def test_bad_input_over_the_api_is_a_message(client: Client) -> None:
    assert client.predict("", [], api_name="/ask") == {"error": "Please type a question."}
    assert client.predict("\x00\x01", [], api_name="/ask") == {"error": "Please type a question."}
    assert "limit is 2,000" in client.predict("z" * 2001, [], api_name="/ask")["error"]


def test_concurrent_clients_all_get_the_same_answers(server: str, client: Client) -> None:
    questions = [
        "Are mutuals actually making money?",
        "What is the Teckal exemption?",
        "What is a CIC?",
        "What is the capital of Peru?",
        "What is Granta Medical Practices?",
    ]
    expected = {q: client.predict(q, [], api_name="/ask")["text"] for q in questions}
    latencies: list[float] = []

    def one_client(_: int) -> list[tuple[str, str]]:
        own = Client(server, verbose=False)
        out = []
        for q in questions:
            started = time.perf_counter()
            out.append((q, own.predict(q, [], api_name="/ask").get("text", "error")))
            latencies.append(time.perf_counter() - started)
        return out

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = [row for rows in pool.map(one_client, range(10)) for row in rows]
    assert len(results) == 50 and all(text == expected[q] for q, text in results)
    print(f"\n10 clients x 5 questions: p50 {statistics.median(latencies) * 1000:.0f} ms")
