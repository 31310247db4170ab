"""The default answerer: offline, deterministic, verbatim.

It scores every sentence of the retrieved passages against the question (the bundled model's cosine plus
how many of the question's terms the sentence holds), keeps the best few that are not redundant, keeps them
word for word, orders them by source and position, and cites each one. A question asking for a list gets
the list the best passage belongs to — its introduction and each item — not one stray bullet. When nothing
retrieved is close enough it says the reports don't cover the question.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache

from assistant.answers import cues
from assistant.answers.base import Answerer, register
from assistant.answers.refusal import Evidence, RefusalPolicy
from assistant.answers.specifics import Missing, gives, read_question, unmet
from assistant.answers.types import REFUSAL_TEXT, Answer, Citation
from assistant.config import AnswerSettings
from assistant.passage import Passage
from assistant.retrieval.about import asks_about_document, describes_itself
from assistant.retrieval.bm25 import content_terms
from assistant.retrieval.hits import Hits, SentenceHit
from assistant.retrieval.recommendations import asks_for_recommendation, labelled

REDUNDANT = 0.8


def _folded(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9%£]+", text.casefold()))


def _distinct(chosen: list[Scored]) -> list[Scored]:
    """No sentence twice: the same words in two documents (a report and its summary page) are quoted once,
    from the first (best) of them; the passage still says where else they appear."""
    out: list[Scored] = []
    for x in chosen:
        text = _folded(x.sentence.text)
        if any(text == _folded(y.sentence.text) or (len(text) > 40 and text in _folded(y.sentence.text)) for y in out):
            continue
        out.append(x)
    return out


def _introduces(text: str) -> bool:
    """Ends in a colon (sometimes followed by a stray full stop): what it introduces comes next."""
    return text.rstrip().rstrip(".").endswith(":")


@lru_cache(maxsize=16384)
def _terms(text: str) -> frozenset[str]:
    return frozenset(content_terms(text))


@dataclass(frozen=True)
class Scored:
    sentence: SentenceHit
    rank: int  # position of its passage in the answer's passage list
    score: float
    cosine: float
    coverage: float


@register
class ExtractiveAnswerer(Answerer):
    name = "extractive"

    def __init__(self, settings: AnswerSettings | None = None):
        self.settings = settings or AnswerSettings()
        s = self.settings
        self.refusal = RefusalPolicy(s.refusal_min_cosine, s.full_coverage_cosine)
        self._question = threading.local()  # what this thread's question asks for (the app answers in threads)

    @property
    def _outline(self) -> bool:
        """The question being answered (on this thread) asks how a document is organised."""
        return bool(getattr(self._question, "outline", False))

    @_outline.setter
    def _outline(self, value: bool) -> None:
        self._question.outline = value

    # ---- what a sentence can do ----------------------------------------------------------------------

    @staticmethod
    def _structure(s: SentenceHit) -> bool:
        return cues.is_structure(s.text, starts_line=s.starts_line, glossary=s.passage.kind == "glossary")

    def quotable(self, s: SentenceHit, wanted: cues.Wants = cues.Wants.ANY, outline: bool = False) -> bool:
        """Can be a sentence of the answer: content, not structure (a by-line may answer "who…"), and not the
        document's outline ("This section presents…") unless the question asks how it is organised."""
        if not cues.answer_worthy(s.text):
            return False
        if not outline and self.settings.signpost_penalty and cues.is_signpost(s.text):
            return False
        if not self._structure(s):
            return True
        # a by-line can answer "who…?" and a dateline ("Published 4 November 2019") "when…?"
        byline = wanted is cues.Wants.PERSON or (wanted is cues.Wants.TIME and cues.supplies(s.text, wanted))
        return byline and cues.is_heading_like(s.text)

    @staticmethod
    def _recommends(s: SentenceHit, recommending: set[str]) -> bool:
        return labelled(s.text) or (s.passage.id in recommending and s.passage.kind == "table" and s.starts_line)

    # ---- scoring ---------------------------------------------------------------------------------------

    def score_sentences(self, hits: Hits, passages: list[Passage]) -> list[Scored]:
        s = self.settings
        query = hits.query
        wanted = hits.term_weights or dict.fromkeys(_terms(query), 1.0)
        kind = cues.wants(query)
        asked = read_question(query)
        recommending = {p.id for p in passages if p.extra.get("recommends")} if asks_for_recommendation(query) else set()
        about = s.about_weight and asks_about_document(query)
        front = {p.id for p in passages if p.extra.get("front") or describes_itself(p.text)} if about else set()
        outline_penalty = 0.0 if cues.asks_about_structure(query) else s.signpost_penalty
        scored: list[Scored] = []
        best = passages[0].score if passages else 0.0
        for rank, passage in enumerate(passages):
            prior = s.passage_weight * (passage.score - best) if passage.score else 0.0
            sentences = hits.sentences_of(passage)
            for j, sentence in enumerate(sentences):
                if not cues.answer_worthy(sentence.text):
                    continue
                coverage = self._coverage(wanted, sentence, sentences[j - 1] if j > 0 else None)
                score = sentence.cosine + s.coverage_weight * coverage - s.rank_penalty * rank + prior
                if passage.kind == "footnote" or passage.section.endswith("Bibliography"):
                    score -= 0.15
                if kind is not cues.Wants.ANY and s.type_weight and cues.supplies(sentence.text, kind, query):
                    score += s.type_weight  # "how many…" is answered by a sentence with a figure in it
                    if s.direct_weight and gives(
                        query, asked, sentence, sentences[j - 1] if j > 0 else None, wanted, s.focus_share, s.lean_back
                    ):
                        score += s.direct_weight  # ... above all one giving the figure of what was asked about
                if outline_penalty and cues.is_signpost(sentence.text):
                    score -= outline_penalty
                if recommending and s.recommendation_weight and self._recommends(sentence, recommending):
                    score += s.recommendation_weight
                if passage.id in front:
                    score += s.about_weight * (1 + describes_itself(sentence.text))
                scored.append(Scored(sentence, rank, score, sentence.cosine, coverage))
        scored.sort(key=lambda x: -x.score)
        return scored

    def _coverage(self, wanted: dict[str, float], sentence: SentenceHit, previous: SentenceHit | None) -> float:
        """Share of the question's terms in the sentence, each weighted by its rarity; terms only its
        predecessor in the passage holds count at ``context_weight`` ("The trust now manages…" after a
        sentence naming the trust)."""
        total = sum(wanted.values())
        if not total:
            return 0.0
        own = wanted.keys() & _terms(sentence.text)
        context: set[str] = set()
        if self.settings.context_weight and previous is not None:
            context = (wanted.keys() & _terms(previous.text)) - own
        return (sum(wanted[t] for t in own) + self.settings.context_weight * sum(wanted[t] for t in context)) / total

    @staticmethod
    def evidence(hits: Hits, scored: list[Scored]) -> Evidence:
        return Evidence(
            best_cosine=max((x.cosine for x in scored), default=0.0),
            best_coverage=max((x.coverage for x in scored), default=0.0),
            unknown_names=hits.unknown_terms,
        )

    # ---- choosing ------------------------------------------------------------------------------------

    def select(self, question: str, scored: list[Scored], passages: list[Passage], hits: Hits) -> list[Scored]:
        s = self.settings
        wanted = cues.wants(question)
        self._outline = cues.asks_about_structure(question)
        scored = [x for x in scored if self.quotable(x.sentence, wanted, self._outline)]
        if s.reference_lists_quiet and not cues.asks_about_sources(question):
            scored = [x for x in scored if not cues.in_reference_list(x.sentence.passage.section)]
        if not scored:
            return []
        if s.list_answers and cues.is_list_question(question):
            listed = self._list_answer(scored, passages, hits)
            if listed:
                return listed
        top = scored[0]
        chosen = [top]
        if s.lead_sentences > 1:  # the best passage is usually the right one: hear a little more of it
            lead = [x for x in scored if x.rank == 0 and x is not top]
            for x in lead[: s.lead_sentences - (top.rank == 0)]:
                if x.score >= top.score - s.lead_margin:
                    chosen.append(x)
        if s.per_passage:  # the best sentence of each of the best passages first
            firsts: dict[int, Scored] = {}
            for x in scored:
                firsts.setdefault(x.rank, x)
            for rank in sorted(firsts)[: s.max_sentences]:
                x = firsts[rank]
                if x not in chosen and x.score >= top.score - s.margin and len(chosen) < s.max_sentences:
                    chosen.append(x)
        for candidate in scored[1:]:
            if len(chosen) >= s.max_sentences:
                break
            if candidate.score < top.score - s.margin or any(c.sentence is candidate.sentence for c in chosen):
                continue
            if any(float(candidate.sentence.vector @ c.sentence.vector) > REDUNDANT for c in chosen):
                continue  # says the same thing again
            chosen.append(candidate)
        chosen = _distinct(chosen)
        if s.continuation:
            chosen = self._add_continuations(chosen, hits)
        return self._complete_introductions(chosen, hits, passages)

    def _add_continuations(self, chosen: list[Scored], hits: Hits) -> list[Scored]:
        """A chosen sentence followed by one that leans back on it ("They pointed out that…") brings it along:
        that is often where the point is made."""
        out = list(chosen)
        for x in chosen:
            sentences = hits.sentences_of(x.sentence.passage)
            following = x.sentence.position + 1
            if following >= len(sentences):
                continue
            nxt = sentences[following]
            if (
                self.quotable(nxt, outline=self._outline)
                and cues.leans_back(nxt.text)
                and all(c.sentence is not nxt for c in out)
            ):
                out.append(Scored(nxt, x.rank, x.score, x.cosine, x.coverage))
        return out

    def _complete_introductions(self, chosen: list[Scored], hits: Hits, passages: list[Passage]) -> list[Scored]:
        """A chosen sentence ending in ":" means nothing without what it introduces: add the items that follow,
        on into the next passages of the same section when the list runs on (they join ``passages``)."""
        out = list(chosen)
        for x in chosen:
            if not _introduces(x.sentence.text):
                continue
            section = hits.neighbours.get(x.sentence.passage.id, [x.sentence.passage])
            ids = [p.id for p in section]
            start = ids.index(x.sentence.passage.id) if x.sentence.passage.id in ids else 0
            items: list[tuple[SentenceHit, Passage]] = []
            for passage in section[start:]:
                following = hits.sentences_of(passage)
                if passage.id == x.sentence.passage.id:
                    following = following[x.sentence.position + 1 :]
                lines = [f for f in following if f.starts_line and self.quotable(f, outline=self._outline)]
                if passage.id != x.sentence.passage.id and (not lines or passage.kind not in ("list", "table")):
                    break  # the list ended with the passage
                items += [(f, passage) for f in lines]
            rank_of = {p.id: i for i, p in enumerate(passages)}
            for item, passage in items[: self.settings.max_list_items]:
                if passage.id not in rank_of:
                    rank_of[passage.id] = len(passages)
                    passages.append(passage)
                if all(item is not c.sentence for c in out):
                    out.append(Scored(item, rank_of[passage.id], x.score, x.cosine, x.coverage))
        return out

    def _list_answer(self, scored: list[Scored], passages: list[Passage], hits: Hits) -> list[Scored]:
        """Intro and items of the list (bullets or rows) that the best-scoring list passage belongs to.

        The list may run on into neighbouring passages of the same section; those are added to ``passages``
        (in place) so that every item can be cited.
        """
        kinds = ("list", "table")
        anchor = next(
            (x for x in scored[:8] if x.sentence.passage.kind in kinds and x.rank < self.settings.list_anchor_rank), None
        )
        if anchor is None:
            return []
        rank_of = {p.id: i for i, p in enumerate(passages)}
        picked: list[Scored] = []
        for passage in hits.neighbours.get(anchor.sentence.passage.id, [anchor.sentence.passage]):
            for sentence in hits.sentences_of(passage):
                text = sentence.text.rstrip()
                intro = _introduces(text) or "following" in text.lower()
                # a list item may be a bare name ("Adult Social Care."): in a list it is an item, not a heading
                label = passage.kind == "list" and cues.is_item_label(text)
                quotable = self.quotable(sentence, outline=self._outline) or label
                if sentence.starts_line and quotable and (passage.kind in kinds or intro):
                    if passage.id not in rank_of:
                        rank_of[passage.id] = len(passages)
                        passages.append(passage)
                    picked.append(Scored(sentence, rank_of[passage.id], anchor.score, anchor.cosine, anchor.coverage))
                    if len(picked) >= self.settings.max_list_items:
                        return picked
        return picked if len(picked) >= 2 else []

    # ---- writing -------------------------------------------------------------------------------------

    def compose(self, question: str, chosen: list[Scored], passages: list[Passage]) -> tuple[str, list[Citation]]:
        chosen = _distinct(chosen)
        wanted = cues.wants(question)
        if wanted is not cues.Wants.ANY:  # a figure, date or name asked for: the sentence giving it comes first
            direct = next((x for x in chosen if cues.supplies(x.sentence.text, wanted, question)), None)
            if direct is not None:
                chosen = [direct, *(x for x in chosen if x is not direct)]
        order: list[int] = []  # passage ranks in citation order: the best sentence's passage first
        for x in chosen:
            if x.rank not in order:
                order.append(x.rank)
        number = {rank: n for n, rank in enumerate(order, start=1)}
        listing = self.settings.list_answers and cues.is_list_question(question) and len(chosen) > 2
        if listing:  # a list reads in document order
            grouped = sorted(chosen, key=lambda x: (passages[x.rank].doc_id, x.sentence.start))
        else:
            grouped = sorted(chosen, key=lambda x: (number[x.rank], x.sentence.start))
        citations: list[Citation] = []
        for rank in order:
            mine = sorted((x for x in grouped if x.rank == rank), key=lambda x: x.sentence.start)
            spans = tuple((x.sentence.start, x.sentence.end) for x in mine)
            citations.append(
                Citation(
                    n=number[rank],
                    passage=passages[rank],
                    quote_start=spans[0][0],
                    quote_end=spans[-1][1],
                    quote=" … ".join(x.sentence.text for x in mine),
                    spans=spans,
                )
            )
        lines = [f"{x.sentence.text} [{number[x.rank]}]" for x in grouped]
        if listing:
            head, *items = lines
            if _introduces(head.split(" [")[0]) or "following" in head.lower():
                return head + "\n" + "\n".join(f"- {line}" for line in items), citations
            return "\n".join(f"- {line}" for line in lines), citations
        return " ".join(lines), citations

    def answer(self, question: str, hits: Hits) -> Answer:
        passages = list(hits.passages)
        scored = self.score_sentences(hits, passages)
        if self.refusal.refuse(self.evidence(hits, scored)):
            return Answer(question, REFUSAL_TEXT, [], "refused", hits.query, passages=passages[:3])
        chosen = self.select(hits.query, scored, passages, hits)
        if not chosen:
            return Answer(question, REFUSAL_TEXT, [], "refused", hits.query, passages=passages[:3])
        body, citations = self.compose(hits.query, chosen, passages)
        missing = self.missing(hits, scored)
        if missing is not None:
            text = f"{missing.statement} Nearest in the reports:\n{body}"
            return Answer(question, text, citations, "partial", hits.query, missing=missing.what, passages=passages)
        return Answer(question, body, citations, "answered", hits.query, passages=passages)

    def missing(self, hits: Hits, scored: list[Scored]) -> Missing | None:
        """What the question asks for that the best sentences do not state (None when they do)."""
        if not self.settings.near_miss:
            return None
        best = [x for x in scored if self.quotable(x.sentence)][: self.settings.near_miss_sentences]
        pairs = []
        for x in best:
            sentences = hits.sentences_of(x.sentence.passage)
            position = x.sentence.position
            pairs.append((x.sentence, sentences[position - 1] if position > 0 else None))
        s = self.settings
        return unmet(hits.query, pairs, hits.unknown_terms, hits.term_weights, hits.unplaced_names, s.focus_share, s.lean_back)
