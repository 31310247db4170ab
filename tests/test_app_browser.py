"""The app in a real browser (Debian's Chromium through Playwright) at 1280 px and at 390 px: user text shown
as text, input handled as users expect, citations staff can paste, feedback and notes, sessions kept apart, and
the evaluation on a phone. Screenshots of each check go to the test's temp folder."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docx
import pytest

from assistant import feedback
from assistant.app.launch import launch
from assistant.app.screenshot import CHROMIUM, CHROMIUM_ARGS, WIDTHS, ask_in_browser, free_port, open_tab
from assistant.config import AppSettings
from assistant.evaluation import report as reports

from .conftest import retrieval_split

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium is not installed (.ci/run installs it)"),
]

ATTACK = (
    "<img src=x onerror=\"document.title='pwned'\"> <script>document.title='pwned'</script> "
    "[click](javascript:document.title='pwned') ![pixel](http://127.0.0.1:9/pixel.png) "
    "Are mutuals making money?"
)


def _report(folder: Path) -> None:
    names = ("dev", "test", "blind", "unseen:housing-first", "unseen:libraries-trust", "unseen")
    data = {
        "created": "2026-11-23T00:00:00Z",
        "counts": {s: {"questions": 60, "answerable": 50} for s in names},
        "systems": {
            "project": {"splits": {s: retrieval_split(0.9) for s in names}},
            "bm25-only": {"splits": {s: retrieval_split(0.7) for s in names}},
            "langchain-tutorial": {"splits": {s: retrieval_split(0.6) for s in names}},
        },
        "answers": {
            "splits": {s: {"answer_contains_evidence": 0.8, "supporting_citation": 0.85, "n_answerable": 50} for s in names}
        },
    }
    path = folder / "20261123T000000Z.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    reports.plot(data, path.with_suffix(".png"))


@pytest.fixture(scope="module")
def server(assistant, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("reports")
    _report(folder)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("assistant.app.handlers.REPORTS_DIR", folder)
        port = free_port()
        app = launch(assistant, port=port, block=False, settings=AppSettings())
        yield f"http://127.0.0.1:{port}/"
        app.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(params=list(WIDTHS.values()), ids=list(WIDTHS))
def page(request: pytest.FixtureRequest, browser: Any, server: str) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": request.param, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.rstrip("/"))
    page = context.new_page()
    page.requests = []  # type: ignore[attr-defined]
    page.on("request", lambda r: page.requests.append(r.url))  # type: ignore[attr-defined]
    page.goto(server)
    page.locator("#question textarea").wait_for()
    yield page
    context.close()


def _shot(page: Any, tmp_path: Path, name: str) -> None:
    width = page.viewport_size["width"]
    page.screenshot(path=str(tmp_path / f"{name}-{width}.png"), full_page=True)


def test_user_text_is_shown_as_text_creating_no_element_and_no_request(page: Any, tmp_path: Path) -> None:
    ask_in_browser(page, ATTACK)
    bubble = page.locator("#chat .question").first
    assert bubble.inner_text().strip() == ATTACK
    chat = page.locator("#chat")
    assert chat.locator("img").count() == 0 and chat.locator("script").count() == 0
    assert chat.locator("a").count() == 0 and page.title() != "pwned"
    assert not [url for url in page.requests if ":9/" in url or url.endswith("/x")]
    assert chat.locator(".answer-message .marker").count() >= 1
    _shot(page, tmp_path, "attack")


def test_an_empty_message_adds_no_bubble_and_shows_a_hint(page: Any, tmp_path: Path) -> None:
    box = page.locator("#question textarea")
    box.fill("   ")
    box.press("Enter")
    page.locator("#status .notice").wait_for(timeout=15_000)
    assert "Type a question first" in page.locator("#status").inner_text()
    assert page.locator("#chat .question, #chat .answer-message").count() == 0
    _shot(page, tmp_path, "empty")


def test_an_over_long_paste_is_counted_refused_whole_and_kept(page: Any, tmp_path: Path) -> None:
    text = "mutual " * 714 + "x"  # 4,999 characters
    box = page.locator("#question textarea")
    box.fill(text)
    page.locator("#counter .over").wait_for(timeout=10_000)
    assert "4,999 / 2,000" in page.locator("#counter").inner_text()
    box.press("Enter")
    page.locator("#status .notice").wait_for(timeout=15_000)
    assert "4,999 characters" in page.locator("#status").inner_text()
    assert box.input_value() == text  # nothing cut, nothing lost
    assert page.locator("#chat .question").count() == 0
    _shot(page, tmp_path, "too-long")


def test_the_chat_has_no_label_over_its_first_line(page: Any) -> None:
    assert page.locator("#chat [data-testid='block-label'], #chat label").count() == 0


def test_a_citation_opens_on_the_highlighted_span_and_its_full_reference(page: Any, tmp_path: Path) -> None:
    ask_in_browser(page, "Are mutuals actually making money?")
    citation = page.locator("#chat details.citation").first
    citation.locator("summary").click()
    citation.locator("mark").first.wait_for(state="visible", timeout=10_000)
    assert "96% of mutuals are profitable" in " ".join(citation.locator("mark").all_inner_texts())
    assert citation.locator(".reference").inner_text().startswith("Baxendale and Mutual Ventures (2019).")
    assert "[1]" in page.locator("#sources").inner_text()
    _shot(page, tmp_path, "citation")


def test_a_new_conversation_clears_the_sources_and_the_follow_up_context(page: Any, tmp_path: Path) -> None:
    ask_in_browser(page, "What is Granta Medical Practices?")
    assert "Granta" in page.locator("#sources").inner_text()
    page.locator("#clear").click()
    page.wait_for_function("() => !document.querySelector('#chat .answer-message')", timeout=15_000)
    assert "appear here" in page.locator("#sources").inner_text()
    ask_in_browser(page, "Who is its strategy director?")
    assert "Understood as" not in page.locator("#chat").inner_text()
    _shot(page, tmp_path, "cleared")


def test_search_picker_options_differ_and_the_copy_button_copies_the_full_reference(page: Any, tmp_path: Path) -> None:
    open_tab(page, "Search")
    page.locator("#search-query textarea").fill("mutuals in primary care")
    page.locator("#search-button").click()
    page.locator("#search-results .result").first.wait_for(timeout=30_000)
    options = page.locator("#search-choice label").all_inner_texts()
    assert len(options) == 5 and len(set(options)) == 5
    third_words = options[2].split("“", 1)[1][:20]
    page.locator("#search-choice label").nth(2).click()
    page.wait_for_function("w => document.querySelector('#citation textarea').value.includes(w)", arg=third_words, timeout=10_000)
    house = page.locator("#citation textarea").input_value()
    assert "Section:" in house and "“" in house
    page.locator("#style label", has_text="Harvard").click()
    page.wait_for_function("() => !document.querySelector('#citation textarea').value.includes('Section:')", timeout=10_000)
    page.locator("#citation button[aria-label*='opy' i], #citation button[title*='opy' i]").first.click()
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied == page.locator("#citation textarea").input_value() and third_words in copied
    assert re.match(r"[A-Z][^()]+ \(\d{4}\) ", copied), copied  # Harvard: author (year) title…
    _shot(page, tmp_path, "search")


def test_a_dislike_with_a_comment_is_recorded(page: Any, assistant, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    question = f"How big is a primary care network? ({page.viewport_size['width']} px)"
    ask_in_browser(page, question)
    page.locator("#chat button[aria-label='Dislike']").last.click()
    page.locator("#comment textarea").wait_for(state="visible", timeout=10_000)
    page.locator("#comment textarea").fill("No patient numbers in the answer.")
    page.locator("#send-comment").click()
    page.wait_for_function("() => document.querySelector('#status').innerText.includes('saved')", timeout=10_000)
    mine = [r for r in feedback.read(assistant.settings.data_dir) if r["question"] == question]
    assert len(mine) == 1 and mine[0]["rating"] == "down" and mine[0]["comment"] == "No patient numbers in the answer."
    _shot(page, tmp_path, "feedback")


def test_save_as_note_downloads_a_word_note_of_the_conversation(page: Any, tmp_path: Path) -> None:
    ask_in_browser(page, "What is the Teckal exemption?")
    page.locator("#save-note").click()
    link = page.locator("#note-file a").first
    link.wait_for(timeout=30_000)
    with page.expect_download() as info:
        link.click()
    path = tmp_path / "note.docx"
    info.value.save_as(path)
    text = "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
    assert "What is the Teckal exemption?" in text and "References" in text and "Baxendale and Mutual Ventures (2019)" in text


def test_two_people_at_once_each_see_only_their_own_results(browser: Any, server: str, tmp_path: Path) -> None:
    pages = []
    for query in ("Teckal exemption", "primary care networks"):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(server)
        open_tab(page, "Search")
        page.locator("#search-query textarea").fill(query)
        pages.append(page)
    for page in pages:  # both searches in flight together
        page.locator("#search-button").click()
    for page in pages:
        page.locator("#search-results .result").first.wait_for(timeout=30_000)
        page.wait_for_function("() => document.querySelector('#citation textarea').value.length > 0", timeout=10_000)
    first, second = (p.locator("#search-results").inner_text() for p in pages)
    assert "Teckal" in first and "“teckal" not in second.lower()[:80]
    assert "Teckal" in pages[0].locator("#citation textarea").input_value()
    assert "Teckal" not in pages[1].locator("#citation textarea").input_value()
    pages[1].locator("#search-choice label").nth(1).click()
    pages[0].wait_for_timeout(500)
    assert "Teckal" in pages[0].locator("#citation textarea").input_value()
    for page in pages:
        page.context.close()


def test_the_evaluation_fits_the_screen_with_human_names(page: Any, tmp_path: Path) -> None:
    open_tab(page, "Evaluation")
    page.locator("#evaluation table").first.wait_for(timeout=15_000)
    text = page.locator("#evaluation").inner_text()
    assert "Found in the top 5" in text and "hit_rate" not in text and "mrr@10" not in text
    assert all(split in text for split in ("dev", "test", "blind", "unseen"))
    widths = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1] + 1  # the page never scrolls sideways; wide tables scroll in their own box
    box = page.locator("#evaluation .scroll").first.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"] + 1
    plot = page.locator("#evaluation img.plot").bounding_box()
    assert plot["width"] <= page.viewport_size["width"]
    _shot(page, tmp_path, "evaluation")
