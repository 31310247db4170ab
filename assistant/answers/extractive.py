"""The default answerer: offline, deterministic, verbatim.

It scores every sentence of the retrieved passages against the question (the bundled model's cosine
plus how many of the question's terms the sentence holds), keeps the best few that are not redundant,
keeps them word for word, orders them by source and position, and cites each one. A question asking
for a list gets the list the best passage belongs to — its introduction and the lead of each item —
not one stray bullet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from assistant.answers.cues import (
    Wants,
    answer_worthy,
    is_heading_like,
    is_list_question,
    is_signpost,
    is_structure,
    leans_back,
    supplies,
    wants,
)
from assistant.answers.types import Citation
from assistant.chunks.sentences import Sentence
from assistant.passage import Passage
from assistant.retrieval.bm25 import content_terms
from assistant.retrieval.hybrid import HybridRetriever
from assistant.retrieval.recommendations import asks_for_recommendation, is_recommendation

_NAME = re.compile(r"\b[A-Z][\w-]*")  # capitalised words after the first: names, places, acronyms
LIST_WINDOW = 4  # passages either side of the best list passage that may hold the rest of its list
REDUNDANT = 0.8
INTRO_ITEMS = 4


def _introduces(text: str) -> bool:
    """Ends in a colon (sometimes followed by a stray full stop): what it introduces comes next."""
    return text.rstrip().rstrip(".").endswith(":")


@dataclass(frozen=True)
class ExtractiveSettings:
    """How sentences are scored and chosen (tuned with ``assistant eval`` on the dev split)."""

    max_sentences: int = 4
    max_list_items: int = 8
    coverage_weight: float = 0.5  # share of the question's terms the sentence holds
    context_weight: float = 0.5  # ... counting terms only the sentence before holds at this weight
    rank_penalty: float = 0.02  # per rank of the sentence's passage
    margin: float = 0.2  # how far below the best sentence another may score and still be chosen
    per_passage: bool = True  # the best sentence of each of the best passages first
    lead_sentences: int = 3  # up to this many from the best passage ...
    lead_margin: float = 0.4  # ... within this of the best sentence
    type_weight: float = 0.2  # holds what the question asks for: a figure, a date, a name
    recommendation_weight: float = 0.4  # "should…?" is answered by one of the report's recommendations
    signpost_penalty: float = 0.3  # "please refer to Appendix 1…"
    continuation: bool = True  # a following sentence that leans back on a chosen one comes with it


@dataclass(frozen=True)
class Scored:
    sentence: int  # index into the retriever's sentences
    passage_rank: int  # position of its passage in the search results
    score: float
    cosine: float
    coverage: float


@dataclass(frozen=True)
class Evidence:
    """What retrieval found for a question: the signals refusal is decided on."""

    best_cosine: float
    best_coverage: float
    unknown_names: tuple[str, ...]  # names in the question (Scotland, COVID-19) that no passage mentions


class ExtractiveAnswerer:
    def __init__(self, retriever: HybridRetriever, settings: ExtractiveSettings | None = None):
        self.retriever = retriever
        self.settings = settings or ExtractiveSettings()
        texts = [p.embed_text for p in retriever.passages if not p.section.endswith("Bibliography")]
        self.vocabulary: set[str] = set().union(*(content_terms(t) for t in texts)) if texts else set()
        self.sentence_terms = [content_terms(s.text) for s in retriever.sentences]
        self.line_start = [self._starts_line(s) for s in retriever.sentences]
        self.worthy = [answer_worthy(s.text) for s in retriever.sentences]
        self.structure = [
            is_structure(s.text, starts_line=self.line_start[i], glossary=retriever.passages[s.passage].kind == "glossary")
            for i, s in enumerate(retriever.sentences)
        ]
        self.heading_like = [is_heading_like(s.text) for s in retriever.sentences]
        self.signpost = [is_signpost(s.text) for s in retriever.sentences]
        self.recommendation = [is_recommendation(s.text) for s in retriever.sentences]

    def _starts_line(self, sentence: Sentence) -> bool:
        passage = self.retriever.passages[sentence.passage]
        offset = sentence.start - passage.start
        return offset == 0 or passage.text[offset - 1] == "\n"

    def score_sentences(self, query: str, vector: np.ndarray, passages: list[Passage]) -> list[Scored]:
        r = self.retriever
        wanted = content_terms(query)
        kind = wants(query)
        recommending = asks_for_recommendation(query)
        scored: list[Scored] = []
        for rank, passage in enumerate(passages):
            position = r.by_id.get(passage.id)
            if position is None:
                continue
            for i in r.sentences_of[position]:
                if not self.worthy[i]:
                    continue
                cosine = float(r.sentence_matrix[i] @ vector[0])
                coverage = self._coverage(wanted, i)
                score = (
                    cosine
                    + self.settings.coverage_weight * coverage
                    - self.settings.rank_penalty * rank
                    - 0.15 * r.is_reference[position]
                )
                if kind is not Wants.ANY and supplies(r.sentences[i].text, kind, query):
                    score += self.settings.type_weight  # "how many…" is answered by a sentence with a figure in it
                if self.signpost[i]:
                    score -= self.settings.signpost_penalty
                if recommending and self.recommendation[i]:
                    score += self.settings.recommendation_weight
                scored.append(Scored(i, rank, score, cosine, coverage))
        scored.sort(key=lambda s: -s.score)
        return scored

    def _coverage(self, wanted: set[str], i: int) -> float:
        """Share of the question's terms in the sentence; terms only its predecessor in the passage holds
        count at ``context_weight`` ("The trust now manages…" after a sentence naming the trust)."""
        if not wanted:
            return 0.0
        own = wanted & self.sentence_terms[i]
        sentences = self.retriever.sentences
        context: set[str] = set()
        if self.settings.context_weight and i > 0 and sentences[i - 1].passage == sentences[i].passage:
            context = (wanted & self.sentence_terms[i - 1]) - own
        return (len(own) + self.settings.context_weight * len(context)) / len(wanted)

    def evidence(self, query: str, scored: list[Scored]) -> Evidence:
        names = [m.group(0) for m in _NAME.finditer(query) if m.start() > 0]
        unknown = tuple(sorted({t for name in names for t in content_terms(name) if t not in self.vocabulary}))
        return Evidence(
            best_cosine=max((s.cosine for s in scored), default=0.0),
            best_coverage=max((s.coverage for s in scored), default=0.0),
            unknown_names=unknown,
        )

    def quotable(self, sentence: int, wanted: Wants = Wants.ANY) -> bool:
        """Can be a sentence of the answer: content, not structure (a by-line may answer "who…")."""
        if not self.worthy[sentence]:
            return False
        return not self.structure[sentence] or (wanted is Wants.PERSON and self.heading_like[sentence])

    def select(self, question: str, scored: list[Scored], passages: list[Passage]) -> list[Scored]:
        wanted = wants(question)
        scored = [s for s in scored if self.quotable(s.sentence, wanted)]
        if not scored:
            return []
        if is_list_question(question):
            listed = self._list_answer(scored, passages)
            if listed:
                return listed
        r = self.retriever
        top = scored[0]
        chosen = [top]
        if self.settings.lead_sentences > 1:  # the best passage is usually the right one: hear a little more of it
            lead = [s for s in scored if s.passage_rank == 0 and s is not top]
            for s in lead[: self.settings.lead_sentences - (top.passage_rank == 0)]:
                if s.score >= top.score - self.settings.lead_margin:
                    chosen.append(s)
        if self.settings.per_passage:  # the best sentence of each of the best passages first
            firsts: dict[int, Scored] = {}
            for s in scored:
                firsts.setdefault(s.passage_rank, s)
            for rank in sorted(firsts)[: self.settings.max_sentences]:
                s = firsts[rank]
                if s not in chosen and s.score >= top.score - self.settings.margin and len(chosen) < self.settings.max_sentences:
                    chosen.append(s)
        for candidate in scored[1:]:
            if len(chosen) >= self.settings.max_sentences:
                break
            if candidate.score < top.score - self.settings.margin or any(c.sentence == candidate.sentence for c in chosen):
                continue
            vector = r.sentence_matrix[candidate.sentence]
            if any(float(vector @ r.sentence_matrix[c.sentence]) > REDUNDANT for c in chosen):
                continue  # says the same thing again
            chosen.append(candidate)
        if self.settings.continuation:
            chosen = self._add_continuations(chosen)
        return self._complete_introductions(chosen)

    def _add_continuations(self, chosen: list[Scored]) -> list[Scored]:
        """A chosen sentence followed by one that leans back on it ("They pointed out that…") brings it along:
        that is often where the point is made."""
        r = self.retriever
        out = list(chosen)
        for s in chosen:
            following = s.sentence + 1
            if (
                following < len(r.sentences)
                and r.sentences[following].passage == r.sentences[s.sentence].passage
                and self.quotable(following)
                and leans_back(r.sentences[following].text)
                and all(c.sentence != following for c in out)
            ):
                out.append(Scored(following, s.passage_rank, s.score, s.cosine, s.coverage))
        return out

    def _complete_introductions(self, chosen: list[Scored]) -> list[Scored]:
        """A chosen sentence ending in ":" means nothing without what it introduces: add the items that follow."""
        r = self.retriever
        out = list(chosen)
        for s in chosen:
            if not _introduces(r.sentences[s.sentence].text):
                continue
            following = [i for i in r.sentences_of[r.sentences[s.sentence].passage] if i > s.sentence]
            items = [i for i in following if self.line_start[i] and self.quotable(i)][:INTRO_ITEMS]
            out.extend(
                Scored(i, s.passage_rank, s.score, s.cosine, s.coverage) for i in items if all(i != c.sentence for c in out)
            )
        return out

    def _list_answer(self, scored: list[Scored], passages: list[Passage]) -> list[Scored]:
        """Intro and item leads of the list (bullets or rows) that the best-scoring list passage belongs to.

        The list may run on into neighbouring passages of the same section; those are added to
        ``passages`` (in place) so that every item can be cited.
        """
        r = self.retriever
        kinds = ("list", "table")
        anchor = next((s for s in scored[:8] if r.passages[r.sentences[s.sentence].passage].kind in kinds), None)
        if anchor is None:
            return []
        position = r.sentences[anchor.sentence].passage
        section, doc_id = r.passages[position].section, r.passages[position].doc_id
        rank_of = {p.id: i for i, p in enumerate(passages)}
        picked: list[Scored] = []
        for q in range(max(0, position - LIST_WINDOW), min(len(r.passages), position + LIST_WINDOW + 1)):
            passage = r.passages[q]
            if passage.section != section or passage.doc_id != doc_id or passage.duplicate_of:
                continue
            for i in r.sentences_of[q]:
                text = r.sentences[i].text.rstrip()
                intro = _introduces(text) or "following" in text.lower()
                if self.line_start[i] and self.quotable(i) and (passage.kind in kinds or intro):
                    if passage.id not in rank_of:
                        rank_of[passage.id] = len(passages)
                        passages.append(passage)
                    picked.append(Scored(i, rank_of[passage.id], anchor.score, anchor.cosine, anchor.coverage))
                    if len(picked) >= self.settings.max_list_items:
                        return picked
        return picked if len(picked) >= 2 else []

    def compose(self, question: str, chosen: list[Scored], passages: list[Passage]) -> tuple[str, list[Citation]]:
        r = self.retriever
        order: list[int] = []  # passage ranks in citation order: the best sentence's passage first
        for s in chosen:
            if s.passage_rank not in order:
                order.append(s.passage_rank)
        number = {rank: n for n, rank in enumerate(order, start=1)}
        listing = is_list_question(question) and len(chosen) > 2
        if listing:  # a list reads in document order
            grouped = sorted(chosen, key=lambda s: (passages[s.passage_rank].doc_id, r.sentences[s.sentence].start))
        else:
            grouped = sorted(chosen, key=lambda s: (number[s.passage_rank], r.sentences[s.sentence].start))
        citations: list[Citation] = []
        for rank in order:
            mine = sorted((s for s in grouped if s.passage_rank == rank), key=lambda s: r.sentences[s.sentence].start)
            spans = tuple((r.sentences[s.sentence].start, r.sentences[s.sentence].end) for s in mine)
            citations.append(
                Citation(
                    n=number[rank],
                    passage=passages[rank],
                    quote_start=spans[0][0],
                    quote_end=spans[-1][1],
                    quote=" … ".join(r.sentences[s.sentence].text for s in mine),
                    spans=spans,
                )
            )
        lines = [f"{r.sentences[s.sentence].text} [{number[s.passage_rank]}]" for s in grouped]
        if listing:
            head, *items = lines
            if _introduces(head.split(" [")[0]) or "following" in head.lower():
                return head + "\n" + "\n".join(f"- {line}" for line in items), citations
            return "\n".join(f"- {line}" for line in lines), citations
        return " ".join(lines), citations
