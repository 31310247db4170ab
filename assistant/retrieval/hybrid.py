"""Hybrid retrieval: BM25 and dense (FAISS) candidates, scored by weighted features, duplicates collapsed.

Candidates come from BM25, dense passage search and dense sentence search; each is scored by its passage
cosine, its best sentence's cosine and how many of the question's terms it holds (weights chosen on the
dev split), with a few structural cues that can each be switched off in ``RetrievalSettings`` (and are, in
turn, by ``assistant eval --ablate``): footnotes count for the passages citing them, "what is X?" prefers
the glossary entry for X, "what should…?" prefers recommending passages, a document named by one of its
aliases is preferred, and "how many…?" or "when…?" also scores the best sentence that states a figure or a
date (the answer's type, read from the question's wording alone, so it carries to any report). Reciprocal
rank fusion remains available (``method="rrf"``).
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache
from typing import Any

import numpy as np

from assistant.answers.cues import Wants, supplies, wants
from assistant.answers.specifics import read_question
from assistant.chunks.sentences import Sentence
from assistant.config import RetrievalSettings
from assistant.corpus import Document
from assistant.corpus.profile import Profile
from assistant.index.embedder import Embedder
from assistant.passage import Passage
from assistant.retrieval.about import asks_about_document, describes_itself, front_matter
from assistant.retrieval.bm25 import BM25Index, content_terms
from assistant.retrieval.decompose import parts
from assistant.retrieval.glossary import Glossary, build_glossary
from assistant.retrieval.hits import Hits, SentenceHit
from assistant.retrieval.recommendations import asks_for_recommendation, recommending

NEIGHBOURS = 4  # passages either side of a retrieved one that may continue its section (a long list)
NAMED_PASSAGES = 60  # a document named in the question brings this many of its passages into the running
_NAME = re.compile(r"\b[A-Z][\w.-]*[\w-]|\b[A-Z]\b")

_DEFINITION_CUE = re.compile(
    r"^\s*(?:what(?:'s|\s+is|\s+are|\s+was|\s+does|\s+do)\b|define\b|definition\b|meaning\b|who\s+is\b)|\b(?:mean|means|stand for|stands for|defined)\b",
    re.IGNORECASE,
)


def reciprocal_rank_fusion(rankings: list[list[int]], weights: list[float], k: int) -> dict[int, float]:
    scores: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, position in enumerate(ranking):
            scores[position] = scores.get(position, 0.0) + weight / (k + rank + 1)
    return scores


PART_WEIGHT = 0.5  # a part of a two-part question counts half as much as the whole question
FUSION_K = 10


def _fuse(lists: list[tuple[float, list[tuple[int, float, dict[str, Any]]]]]) -> list[tuple[int, float, dict[str, Any]]]:
    """One ranking from the whole question's and its parts' (weighted reciprocal ranks; the whole question's
    score and signals kept for each passage)."""
    fused: dict[int, float] = {}
    first: dict[int, tuple[int, float, dict[str, Any]]] = {}
    for weight, ranked in lists:
        for rank, item in enumerate(ranked):
            fused[item[0]] = fused.get(item[0], 0.0) + weight / (FUSION_K + rank + 1)
            first.setdefault(item[0], item)
    return [first[i] for i in sorted(fused, key=lambda i: (-fused[i], i))]


def _fold(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.casefold().replace("’", "'").replace("'s", "")))


def _citing_passages(passages: list[Passage]) -> dict[int, list[int]]:
    """Footnote passage position → positions of the passages (same document) that cite its footnotes."""
    holder: dict[tuple[str, int], int] = {}
    for i, p in enumerate(passages):
        if p.kind == "footnote":
            for number in re.findall(r"^Footnote (\d+):", p.text, flags=re.MULTILINE):
                holder[(p.doc_id, int(number))] = i
    cited: dict[int, list[int]] = {}
    for i, p in enumerate(passages):
        if p.kind == "footnote":
            continue
        for number in p.footnotes:
            if (p.doc_id, number) in holder:
                cited.setdefault(holder[(p.doc_id, number)], []).append(i)
    return cited


def _alias_patterns(documents: dict[str, Document]) -> dict[str, re.Pattern[str]]:
    """doc id → a pattern for the names people use for it (manifest aliases)."""
    out: dict[str, re.Pattern[str]] = {}
    for doc_id, doc in documents.items():
        names = [re.escape(a).replace(r"\ ", r"\s*") for a in doc.aliases if a.strip()]
        if names:
            out[doc_id] = re.compile(r"\b(?:" + "|".join(names) + r")\b", re.IGNORECASE)
    return out


class HybridRetriever:
    """Search over one loaded index. ``retrieve`` returns Hits (span-exact passages, best first, each once)."""

    def __init__(
        self,
        passages: list[Passage],
        vectors: Any,
        embedder: Embedder,
        settings: RetrievalSettings,
        sentences: list[Sentence],
        sentence_vectors: Any,
        documents: dict[str, Document],
        profile: Profile | None = None,
    ):
        import faiss

        # A query touches a few thousand vectors: one thread is plenty, and idle FAISS (OpenMP) threads
        # spinning after each search would otherwise steal the CPU from the query embedding.
        faiss.omp_set_num_threads(1)
        self.passages = passages
        self.vectors = vectors
        self.sentences = sentences
        self.sentence_vectors = sentence_vectors
        self.embedder = embedder
        self.settings = settings
        self.by_id = {p.id: i for i, p in enumerate(passages)}
        self.is_reference = [p.kind == "footnote" or p.section.endswith("Bibliography") for p in passages]
        self.is_recommendation = recommending(passages)
        self.is_front = front_matter(passages, documents)
        self.describes_itself = [describes_itself(p.text) for p in passages]
        self.passage_matrix = vectors.reconstruct_n(0, vectors.ntotal)
        self.sentence_matrix = (
            sentence_vectors.reconstruct_n(0, sentence_vectors.ntotal)
            if sentences
            else np.zeros((0, self.passage_matrix.shape[1]), dtype=np.float32)
        )
        self.cited_by = _citing_passages(passages)
        self.aliases = _alias_patterns(documents)
        self.of_document: dict[str, list[int]] = {}
        for i, p in enumerate(passages):
            self.of_document.setdefault(p.doc_id, []).append(i)
        self.glossary_terms = [_fold(p.text.split(":", 1)[0]) if p.kind == "glossary" else "" for p in passages]
        self.sentences_of: list[list[int]] = [[] for _ in passages]
        for i, sentence in enumerate(self.sentences):
            self.sentences_of[sentence.passage].append(i)
        self.line_start = [self._starts_line(s) for s in self.sentences]
        # which sentences state a figure or a date, for questions asking for one
        self.states = {
            kind: np.array([supplies(s.text, kind) for s in self.sentences], dtype=bool) for kind in (Wants.NUMBER, Wants.TIME)
        }
        self.bm25 = BM25Index([p.embed_text for p in passages])
        self.profile = profile or Profile()
        self.glossary: Glossary = build_glossary(passages, self.profile.acronyms)
        # a query is expanded three times (lexical, dense, the answer's term weights): one pass over the pairs
        self._with_acronyms = lru_cache(maxsize=256)(self.glossary.expand)
        # the library's words (its passages' terms as BM25 already holds them, and the documents' own names)
        held = [terms for p, terms in zip(passages, self.bm25.terms, strict=True) if not p.section.endswith("Bibliography")]
        held += [content_terms(" ".join((d.title, *d.aliases, d.authors, d.publisher))) for d in documents.values()]
        self.vocabulary: set[str] = set().union(*held) if held else set()
        # what a name must fall within to count as in the library: one passage, or one document's own names
        self.held_together = [*self.bm25.terms, *(content_terms(" ".join((d.title, *d.aliases))) for d in documents.values())]

    def _starts_line(self, sentence: Sentence) -> bool:
        passage = self.passages[sentence.passage]
        offset = sentence.start - passage.start
        return offset == 0 or passage.text[offset - 1] == "\n"

    def _score(self, candidates: list[int], vector: np.ndarray, query: str, bm25: dict[int, float]) -> dict[int, float]:
        """Weighted features for every candidate, computed exactly (not only for those FAISS returned)."""
        f = self.settings
        passage_cos = self.passage_matrix[candidates] @ vector[0]
        # only the candidates' own sentences are scored, so the cost does not grow with the corpus
        rows = [self.sentences_of[c] for c in candidates]
        lengths = np.array([len(r) for r in rows])
        best_sentence = np.zeros(len(candidates), dtype=np.float32)
        if lengths.sum():
            flat = np.fromiter((i for r in rows for i in r), dtype=np.int64, count=int(lengths.sum()))
            cosines = self.sentence_matrix[flat] @ vector[0]
            starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
            present = lengths > 0
            best_sentence[present] = np.maximum.reduceat(cosines, starts[present])
            wanted = wants(query) if f.answer_type_weight else Wants.ANY
            if wanted in self.states:
                typed = np.where(self.states[wanted][flat], cosines, 0.0)
                best_typed = np.zeros(len(candidates), dtype=np.float32)
                best_typed[present] = np.maximum.reduceat(typed, starts[present])
                best_sentence += f.answer_type_weight * best_typed
        top_bm25 = max(bm25.values(), default=0.0) or 1.0
        _, coverage = self.bm25.coverage(query)
        scores: dict[int, float] = {}
        for j, c in enumerate(candidates):
            scores[c] = (
                f.dense_weight * float(passage_cos[j])
                + f.sentence_weight * float(best_sentence[j])
                + f.bm25_weight * bm25.get(c, 0.0) / top_bm25
                + f.coverage_weight * coverage[c]
            )
        if f.footnote_inheritance:  # a matching footnote (a source, an author quoted) speaks for its citing passage
            for c in list(scores):
                if self.passages[c].kind != "footnote":
                    continue
                for citing in self.cited_by.get(c, []):
                    inherited = scores[c] - f.reference_penalty / 2
                    if inherited > scores.get(citing, float("-inf")):
                        scores[citing] = inherited
        for c in scores:
            scores[c] -= f.reference_penalty * self.is_reference[c]
        named = {doc_id for doc_id, pattern in self.aliases.items() if pattern.search(query)}
        if named and f.document_boost:
            for c in scores:
                if self.passages[c].doc_id in named:
                    scores[c] += f.document_boost
        if f.recommendation_boost and asks_for_recommendation(query):
            for c in scores:
                scores[c] += f.recommendation_boost * self.is_recommendation[c]
        if f.about_boost and asks_about_document(query):
            for c in scores:
                scores[c] += f.about_boost * (self.is_front[c] + self.describes_itself[c])
        if f.definition_boost and _DEFINITION_CUE.search(query):
            lowered = f" {_fold(query)} "
            for c in scores:
                term = self.glossary_terms[c]
                if term and f" {term} " in lowered:
                    scores[c] += f.definition_boost
        return scores

    def expand(self, query: str) -> str:
        """The query with the other side of its acronyms (PCN ↔ Primary Care Network) and, for the lexical
        search, the documents' words for everyday phrasings named in the corpus profile."""
        expanded = self._with_acronyms(query) if self.settings.acronym_expansion else query
        words = self.profile.related_words(query) if self.settings.profile_synonyms else []
        return f"{expanded} ({' '.join(words)})" if words else expanded

    def embed_query(self, query: str) -> np.ndarray:
        return np.asarray(self.embedder.embed([query]), dtype=np.float32)

    def dense(self, vector: np.ndarray, n: int) -> list[tuple[int, float]]:
        scores, ids = self.vectors.search(vector, min(n, len(self.passages)))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=False) if i >= 0]

    def sentence_dense(self, vector: np.ndarray, n: int) -> list[tuple[int, float]]:
        """Passages ranked by their best-matching sentence."""
        if not self.sentences:
            return []
        scores, ids = self.sentence_vectors.search(vector, min(n, len(self.sentences)))
        best: dict[int, float] = {}
        for i, score in zip(ids[0], scores[0], strict=False):
            if i >= 0:
                best.setdefault(self.sentences[int(i)].passage, float(score))
        return sorted(best.items(), key=lambda item: -item[1])

    def search(self, query: str, k: int = 5, as_asked: str | None = None) -> list[Passage]:
        """The k best passages, as ``retrieve`` finds them, without the sentences an answer needs."""
        return self._best(query, k, as_asked)[0]

    def _rank(self, query: str, n: int) -> tuple[list[tuple[int, float, dict[str, Any]]], np.ndarray]:
        """Candidates for one query, best first: (position, score, signals), and the query vector."""
        expanded = self.expand(query)
        vector = self.embed_query(
            self._with_acronyms(query) if self.settings.expand_dense and self.settings.acronym_expansion else query
        )
        dense = self.dense(vector, n)
        by_sentence = self.sentence_dense(vector, self.settings.sentence_candidates)
        lexical = self.bm25.search(expanded, n)
        if self.settings.method == "rrf":
            fused = reciprocal_rank_fusion(
                [[i for i, _ in dense], [i for i, _ in by_sentence[:n]], [i for i, _ in lexical]],
                [self.settings.dense_weight, self.settings.sentence_weight, self.settings.bm25_weight or 1.0],
                self.settings.rrf_k,
            )
        else:
            candidates = {i for i, _ in dense} | {i for i, _ in by_sentence[:n]} | {i for i, _ in lexical}
            if self.settings.document_boost:  # a document named in the question competes with all its passages
                named = {doc_id for doc_id, pattern in self.aliases.items() if pattern.search(query)}
                candidates |= {i for doc_id in named for i in self.of_document.get(doc_id, [])[:NAMED_PASSAGES]}
            fused = self._score(sorted(candidates), vector, expanded, dict(lexical))
        dense_score, sentence_best, bm25_score = dict(dense), dict(by_sentence), dict(lexical)
        ranked = []
        for i in sorted(fused, key=lambda i: (-fused[i], i)):
            signals = {
                "dense": max(dense_score.get(i, 0.0), sentence_best.get(i, 0.0)),
                "bm25": bm25_score.get(i, 0.0),
                "expanded_query": expanded,
            }
            ranked.append((i, fused[i], signals))
        return ranked, vector

    def retrieve(self, query: str, k: int = 5, as_asked: str | None = None) -> Hits:
        """The k best passages for ``query`` with their sentences scored, their sections and the query vector.

        A question about two things ("X versus Y") is also searched part by part; the results take turns, so
        the best passages for each part are among the k. ``as_asked`` is a follow-up's own wording when
        ``query`` is its rewrite: it is searched as a part too, so the carried-over topic cannot drown out what
        the new question asks ("what sort of turnover do they have?" after "how many mutuals are there?").
        """
        results, positions, vectors = self._best(query, k, as_asked)
        return self._hits(query, results, positions, vectors)

    def _best(self, query: str, k: int, as_asked: str | None) -> tuple[list[Passage], list[int], np.ndarray]:
        """The k best passages, their positions, and the vectors of the query and its parts."""
        n = max(self.settings.candidates, 4 * k)
        ranked, vector = self._rank(query, n)
        vectors = [vector]
        subqueries = [(PART_WEIGHT, sub) for sub in parts(query)] if self.settings.decompose else []
        if as_asked and as_asked != query and self.settings.as_asked_weight:
            subqueries.append((self.settings.as_asked_weight, as_asked))
        if subqueries:
            lists = [(1.0, ranked)]
            for weight, sub in subqueries:
                sub_ranked, sub_vector = self._rank(sub, n)
                lists.append((weight, sub_ranked))
                vectors.append(sub_vector)
            ranked = _fuse(lists)
        results: list[Passage] = []
        positions: list[int] = []
        placed: set[str] = set()
        for position, score, signals in ranked:
            passage = self.passages[position]
            extra = dict(signals)
            if passage.duplicate_of and passage.duplicate_of in self.by_id:
                position = self.by_id[passage.duplicate_of]
                passage = self.passages[position]
            if passage.id in placed:
                continue
            placed.add(passage.id)
            extra["recommends"] = self.is_recommendation[position]
            extra["front"] = self.is_front[position]
            positions.append(position)
            results.append(replace(passage, score=round(score, 6), extra=extra))
            if len(results) >= k:
                break
        return results, positions, np.vstack(vectors)

    def _hits(self, query: str, results: list[Passage], positions: list[int], vector: np.ndarray) -> Hits:
        sentences: dict[str, list[SentenceHit]] = {}
        neighbours: dict[str, list[Passage]] = {}

        def add_sentences(position: int, passage: Passage) -> None:
            if passage.id in sentences:
                return
            rows = self.sentences_of[position]
            # the best match to the question or to any of its parts
            cosines = (self.sentence_matrix[rows] @ vector.T).max(axis=1) if rows else []
            sentences[passage.id] = [
                SentenceHit(
                    passage=passage,
                    start=self.sentences[i].start,
                    end=self.sentences[i].end,
                    text=self.sentences[i].text,
                    cosine=float(cosine),
                    vector=self.sentence_matrix[i],
                    starts_line=self.line_start[i],
                    position=j,
                )
                for j, (i, cosine) in enumerate(zip(rows, cosines, strict=True))
            ]

        for position, passage in zip(positions, results, strict=True):
            add_sentences(position, passage)
            section = []
            for q in range(max(0, position - NEIGHBOURS), min(len(self.passages), position + NEIGHBOURS + 1)):
                other = self.passages[q]
                if other.section != passage.section or other.doc_id != passage.doc_id or other.duplicate_of:
                    continue
                shown = passage if q == position else other
                section.append(shown)
                add_sentences(q, shown)
            neighbours[passage.id] = section
        names = [m.group(0) for m in _NAME.finditer(query) if m.start() > 0]
        unknown = tuple(sorted({t for name in names for t in content_terms(name) if t not in self.vocabulary}))
        weights = self.bm25.weights(content_terms(self.expand(query)))  # the question's words, and the documents' for them
        return Hits(query, results, sentences, vector[:1], neighbours, unknown, weights, self.unplaced_names(query))

    def unplaced_names(self, query: str) -> tuple[str, ...]:
        """Names of two or more words in the query whose words no single passage holds together: each word may
        be in the library ("Manchester", "City", "Council") while the organisation it names is not."""
        if not self.settings.unplaced_names:
            return ()
        out = []
        for name in read_question(query).names:
            terms = {t for t in content_terms(name) if not t.isdigit()}
            if len(terms) >= 2 and not any(terms <= held for held in self.held_together):
                out.append(name)
        return tuple(out)
