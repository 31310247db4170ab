"""Answers: every sentence cited, citations span-exact, follow-ups read in context, honest refusals."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from assistant.answers.types import REFUSAL_TEXT
from assistant.errors import BadQuestion
from assistant.evaluation.answers import answer_text, spans_intact


def _markers(text: str) -> set[int]:
    return {int(n) for n in re.findall(r"\[(\d+)\]", text)}


def test_answer_cites_every_sentence_with_span_exact_passages(assistant) -> None:  # type: ignore[no-untyped-def]
    answer = assistant.ask("Are mutuals actually making money?")
    assert not answer.refused
    assert "96% of mutuals are profitable" in answer.text
    assert _markers(answer.text) == {c.n for c in answer.citations} == set(range(1, len(answer.citations) + 1))
    for sentence in filter(None, re.split(r"(?<=\])\s+", answer.text)):
        assert re.search(r"\[\d+\]$", sentence), sentence
    assert spans_intact(assistant, answer)
    for c in answer.citations:
        for start, end in c.spans:
            assert assistant.document(c.passage.doc_id).text[start:end] in c.passage.text


def test_answer_sentences_are_verbatim_quotes(assistant) -> None:  # type: ignore[no-untyped-def]
    answer = assistant.ask("Why can mutuals decide things faster than public bodies?")
    for line in re.split(r"\s*\[\d+\]\s*", answer.text):
        line = line.removeprefix("- ").strip()
        if line:
            assert any(line in c.passage.text for c in answer.citations), line


def test_answers_are_deterministic(assistant) -> None:  # type: ignore[no-untyped-def]
    first = assistant.ask("What is the Teckal exemption?")
    second = assistant.ask("What is the Teckal exemption?")
    assert first.text == second.text and [c.passage.id for c in first.citations] == [c.passage.id for c in second.citations]


def test_list_question_gets_the_whole_list(assistant) -> None:  # type: ignore[no-untyped-def]
    answer = assistant.ask("What did the DCMS support package for mutuals include?")
    items = [line for line in answer.text.split("\n") if line.startswith("- ")]
    assert len(items) >= 3
    assert "Mutuals Mentoring Scheme" in answer.text and "Mutual Partnership Support Programme" in answer.text


def test_list_items_that_are_bare_names_are_kept_in_a_list_answer(assistant) -> None:  # type: ignore[no-untyped-def]
    # "- **Adult Social Care**. The sector is…": the item's name alone reads like a heading, but it is the answer
    answer = assistant.ask("Which service areas have the highest potential for mutualisation?")
    items = [line for line in answer.text.split("\n") if line.startswith("- ")]
    for area in ("Primary Care (", "Adult Social Care.", "Enabling Services.", "Primary Care Networks", "Integration Models."):
        assert any(area in item for item in items), (area, answer.text)


def test_follow_up_is_read_in_context_and_shows_the_rewrite(assistant) -> None:  # type: ignore[no-untyped-def]
    history = [
        {"role": "user", "content": "What is Granta Medical Practices?"},
        {"role": "assistant", "content": "Granta consists of four merged practices [1]."},
    ]
    answer = assistant.ask("Who is its strategy director?", history=history)
    assert answer.rewritten and "Granta" in answer.query
    assert "Gerard Newnham" in answer.text


@pytest.mark.parametrize(
    ("question", "leans_on_the_last"),
    [("Who published the report?", False), ("Who funded the research?", False), ("Any examples?", True), ("Why?", True)],
)
def test_a_short_question_is_read_in_context_only_when_it_names_nothing_of_its_own(
    assistant, question: str, leans_on_the_last: bool
) -> None:  # type: ignore[no-untyped-def]
    history = [
        {"role": "user", "content": "What did the 2023 staff survey say about Granta Medical Practices?"},
        {"role": "assistant", "content": "The reports don't give anything for 2023."},
    ]
    assert (assistant.standalone_query(question, history) != question) is leans_on_the_last


def test_topic_shift_follow_up_keeps_the_question_frame(assistant) -> None:  # type: ignore[no-untyped-def]
    history = [
        {"role": "user", "content": "What barriers do mutuals face in adult social care?"},
        {"role": "assistant", "content": "A perception of lack of support [1]."},
    ]
    answer = assistant.ask("And what about in primary care?", history=history)
    assert answer.query == "What barriers do mutuals face in primary care?"


def test_a_follow_up_of_a_follow_up_carries_the_first_topic_not_the_second_wording(assistant) -> None:  # type: ignore[no-untyped-def]
    history = [
        {"role": "user", "content": "How many mutuals are there working in health and social care?"},
        {"role": "assistant", "content": "Today, there are approximately 60 mutuals in the health and social care sector. [1]"},
        {"role": "user", "content": "How big are they, in turnover?"},
        {"role": "assistant", "content": "Turnovers grew by 50% on average [1]."},
    ]
    query = assistant.standalone_query("and what about their staff?", history)
    assert "mutuals" in query and "staff" in query
    assert "big are they" not in query and "are there" not in query


def test_the_second_one_is_read_from_the_previous_answer(assistant) -> None:  # type: ignore[no-untyped-def]
    history = [
        {"role": "user", "content": "Which service areas does the report cover?"},
        {"role": "assistant", "content": "Three: primary care, adult social care, and enabling services [1]."},
    ]
    answer = assistant.ask("What are the risks in the second one?", history=history)
    assert "adult social care" in answer.query


@pytest.mark.parametrize(
    "question",
    [
        "How will Granta be run once it has converted?",
        "Different question: what does APMS stand for?",
        "What is the Teckal exemption?",
    ],
)
def test_a_question_that_stands_on_its_own_is_left_alone(assistant, question: str) -> None:  # type: ignore[no-untyped-def]
    from assistant.evaluation.answers import borrowed

    history = [{"role": "user", "content": "What is blended finance?"}, {"role": "assistant", "content": "A mix of funding [1]."}]
    answer = assistant.ask(question, history=history)
    assert not borrowed(question, answer.query), answer.query


def test_standalone_question_is_not_rewritten(assistant) -> None:  # type: ignore[no-untyped-def]
    history = [{"role": "user", "content": "What is Granta?"}, {"role": "assistant", "content": "A practice [1]."}]
    answer = assistant.ask("How many mutuals are there in Scotland?", history=history)
    assert not answer.rewritten


@pytest.mark.parametrize("question", ["What is the offside rule in football?", "How do I file a self-assessment tax return?"])
def test_questions_off_the_reports_topic_are_refused(assistant, question: str) -> None:  # type: ignore[no-untyped-def]
    answer = assistant.ask(question)
    assert answer.state == "refused" and answer.text == REFUSAL_TEXT
    assert answer.citations == []
    assert answer.passages, "the nearest passages are offered"


@pytest.mark.parametrize(
    ("question", "missing"),
    [
        ("What share of mutuals in health and social care made a profit in 2022?", "2022"),
        ("How many staff does Granta Medical Practices employ?", "staff"),
        ("How many mutuals are there in Scotland?", "Scotland"),
        ("How did the COVID-19 pandemic affect health and social care mutuals?", "COVID"),
        ("What is Manchester City Council's adult social care budget for this year?", "Manchester City Council"),
        # each word is in the reports ("Thurrock", "Medical", "Practices"), the organisation is not
        ("How is Thurrock Medical Practices run?", "Thurrock Medical Practices"),
        # a share of mutuals *that* are rated Outstanding: a share of mutuals in general does not give it
        ("What proportion of social care mutuals are rated Outstanding by inspectors?", "Outstanding"),
    ],
)
def test_a_near_miss_says_what_is_missing_then_cites_the_nearest(assistant, question: str, missing: str) -> None:  # type: ignore[no-untyped-def]
    answer = assistant.ask(question)
    assert answer.state == "partial" and missing in answer.missing
    first, _, rest = answer.text.partition("\n")
    assert first.startswith("The reports don't") and missing in first and "[" not in first
    assert answer.citations and spans_intact(assistant, answer)
    assert re.search(r"\[1\]", rest), "the nearest thing the reports do say is cited"
    assert answer.to_json()["state"] == "partial" and answer.to_json()["missing"] == answer.missing


def test_a_name_whose_words_the_reports_hold_together_is_not_called_missing(assistant) -> None:  # type: ignore[no-untyped-def]
    hits = assistant.retrieve("What does Granta Medical Practices plan to become?")
    assert hits.unplaced_names == ()
    assert assistant.retrieve("What does the GOV.UK page say the research covers?").unplaced_names == ()


def test_a_date_stated_after_its_subject_answers_when(assistant) -> None:  # type: ignore[no-untyped-def]
    # "More should be done … to raise awareness … for PCNs. The crucial period … will be post July 2019."
    for settings_on, state in ((True, "answered"), (False, "partial")):
        answers = replace(assistant.settings.answers, lean_back=settings_on)
        answer = assistant.with_settings(replace(assistant.settings, answers=answers)).ask(
            "When should awareness of mutuals be raised with PCNs?"
        )
        assert answer.state == state, answer.text
        assert ("July 2019" in answer_text(answer)) is settings_on


def test_a_share_the_reports_give_is_answered_not_called_missing(assistant) -> None:  # type: ignore[no-untyped-def]
    answer = assistant.ask("What percentage of public service mutuals operate in health and social care?")
    assert answer.state == "answered" and "48%" in answer_text(answer), answer.text


def test_the_nearest_figure_is_offered_for_a_year_the_reports_do_not_cover(assistant) -> None:  # type: ignore[no-untyped-def]
    answer = assistant.ask("What share of mutuals in health and social care made a profit in 2022?")
    assert "2018" in answer.text and "96%" in answer.text


def test_no_sentence_is_quoted_twice(assistant) -> None:  # type: ignore[no-untyped-def]
    from assistant.evaluation.answers import repeats_a_sentence

    for question in (
        "What percentage of public service mutuals work in health and social care?",
        "What does the GOV.UK page say the report is for?",
    ):
        answer = assistant.ask(question)
        assert not repeats_a_sentence(answer), answer.text


def test_a_figure_question_leads_with_the_figure(assistant) -> None:  # type: ignore[no-untyped-def]
    answer = assistant.ask("What percentage of public service mutuals work in health and social care?")
    assert answer.text.startswith("48% of public service mutuals operate in health and social care.")


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        pytest.param(
            "Who wrote the report?",
            ("Baxendale and Mutual Ventures", "Authors:"),
            marks=pytest.mark.xfail(reason="known gap: the publication page's purpose sentence outranks the credits"),
        ),
        ("Who commissioned the report?", ("Department for Digital, Culture, Media and Sport",)),
        ("When was the report published?", ("4 November 2019",)),  # a dateline answers "when…?"
    ],
)
def test_questions_about_the_documents_are_answered_from_them(assistant, question: str, expected: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    answer = assistant.ask(question)
    assert answer.state == "answered", answer.text
    assert any(e in answer_text(answer) for e in expected), answer.text
    assert spans_intact(assistant, answer)


def test_bibliography_entries_are_not_quoted_unless_sources_are_asked_about(assistant) -> None:  # type: ignore[no-untyped-def]
    from assistant.answers.cues import in_reference_list

    answer = assistant.ask("When was the report published?")
    assert not any(in_reference_list(c.passage.section) for c in answer.citations), answer.text
    sources = assistant.ask("Which sources does the report cite on NHS finances?")
    assert any(in_reference_list(c.passage.section) for c in sources.citations), sources.text


def test_outlines_are_not_answers_unless_asked(assistant) -> None:  # type: ignore[no-untyped-def]
    answer = assistant.ask("What holds back mutuals in primary care?")
    assert "This section" not in answer.text and "is organised into" not in answer.text
    outline = assistant.ask("How is the report organised into sections?")
    assert "sections" in answer_text(outline)


def test_empty_and_huge_questions_get_a_clear_message(assistant) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BadQuestion, match="Please type a question"):
        assistant.ask("  ")
    with pytest.raises(BadQuestion, match="too long"):
        assistant.ask("x" * 10_000)


def test_other_languages_and_odd_input_do_not_crash(assistant) -> None:  # type: ignore[no-untyped-def]
    for question in ["¿Cuántas mutuales hay en Escocia?", "相互会社はいくつありますか", "mutuals\x00\x1b[31m profit"]:
        answer = assistant.ask(question)
        assert answer.refused or answer.citations


def test_long_malformed_history_is_trimmed(assistant) -> None:  # type: ignore[no-untyped-def]
    history = [{"role": "user", "content": "tell me about enabling services " * 400}] * 300 + [None, {"content": "x"}]
    answer = assistant.ask("What are the risks there?", history=history)  # type: ignore[arg-type]
    assert answer.refused or answer.citations
    assert len(answer.query) < 2000


def test_what_one_question_asks_for_is_not_seen_by_a_question_on_another_thread(assistant) -> None:  # type: ignore[no-untyped-def]
    import threading

    answerer = assistant.extractive
    answerer._outline = True  # this thread's question asks how the report is organised
    seen: list[bool] = []
    other = threading.Thread(target=lambda: seen.append(answerer._outline))
    other.start()
    other.join()
    answerer._outline = False
    assert seen == [False]
