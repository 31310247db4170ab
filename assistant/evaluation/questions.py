"""Reference questions (format in eval/QUESTIONS.md): loading, validation, and the own-words check.

Four splits: ``dev`` (what rules, weights and thresholds are chosen on), ``test`` (scored to report), ``blind``
(written from the documents alone by someone who never read the code; scored only to report a finished
change) and ``unseen`` (about reports that are not in the shipped library; scored only to report).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from assistant.config import home
from assistant.errors import AssistantError
from assistant.evaluation.relevance import exact_match, tolerant_match

EVAL_DIR = home() / "eval"
DEFAULT_QUESTIONS = EVAL_DIR / "questions.jsonl"
BLIND_QUESTIONS = EVAL_DIR / "blind.jsonl"
UNSEEN_DIR = EVAL_DIR / "unseen"
KINDS = (
    "number",
    "definition",
    "list",
    "recommendation",
    "case_study",
    "reasoning",
    "multi_hop",
    "comparison",
    "metadata",
    "followup",
    "near_miss",
    "unanswerable",
    "fact",
)
SPLITS = ("dev", "test", "blind", "unseen")
REPORTED_ONLY = ("blind", "unseen")  # never a gate, never tuned on
_WORD = re.compile(r"[a-z0-9£%]+(?:[./-][a-z0-9]+)*")
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "has",
        "have",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "that",
        "the",
        "their",
        "this",
        "to",
        "was",
        "were",
        "with",
    ]
)


class QuestionsError(AssistantError):
    """The questions file is missing or malformed."""


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answer: str
    evidence: tuple[str, ...]
    doc: str
    kind: str
    split: str
    history: list[dict[str, str]] = field(default_factory=list)
    missing: tuple[str, ...] = ()  # near misses: words naming what the documents do not give
    nearest: tuple[str, ...] = ()  # near misses: the nearest thing they do give
    standalone: bool = False  # has history but does not depend on it

    @property
    def answerable(self) -> bool:
        return bool(self.evidence)

    @property
    def near_miss(self) -> bool:
        return self.kind == "near_miss"

    @property
    def off_topic(self) -> bool:
        return self.kind == "unanswerable"


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_questions(path: Path = DEFAULT_QUESTIONS) -> list[Question]:
    if not path.is_file():
        raise QuestionsError(f"The questions file {path} does not exist.")
    questions: list[Question] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            question = Question(
                id=str(data["id"]),
                question=str(data["question"]),
                answer=str(data.get("answer", "")),
                evidence=tuple(str(e) for e in data.get("evidence") or []),
                doc=str(data.get("doc", "")),
                kind=str(data["kind"]),
                split=str(data.get("split", "dev")),
                history=list(data.get("history") or []),
                missing=tuple(str(m) for m in data.get("missing") or []),
                nearest=tuple(str(n) for n in data.get("nearest") or []),
                standalone=bool(data.get("standalone", False)),
            )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise QuestionsError(f"Line {number} of {path.name} is not a valid question ({exc}).") from exc
        questions.append(question)
    if not questions:
        raise QuestionsError(f"The questions file {path.name} holds no questions.")
    return questions


def _in_text(evidence: str, text: str) -> bool:
    return exact_match(evidence, text) or tolerant_match(evidence, text)


def validate(questions: list[Question], corpus_texts: dict[str, str]) -> list[str]:
    """Problems with a reference set: unknown kinds or splits, duplicate ids, evidence not in the documents
    (compared as the relevance rule compares: case, spacing, quotes and markup folded)."""
    problems: list[str] = []
    seen: set[str] = set()
    for q in questions:
        if q.id in seen:
            problems.append(f"{q.id}: duplicate id")
        seen.add(q.id)
        if q.kind not in KINDS:
            problems.append(f"{q.id}: unknown kind {q.kind}")
        if q.split not in SPLITS:
            problems.append(f"{q.id}: unknown split {q.split}")
        if q.kind in ("unanswerable", "near_miss") and q.evidence:
            problems.append(f"{q.id}: {q.kind} questions carry no evidence")
        if q.kind not in ("unanswerable", "near_miss") and not q.evidence:
            problems.append(f"{q.id}: no evidence")
        if q.kind == "near_miss" and not q.missing:
            problems.append(f"{q.id}: a near miss names what is missing")
        if q.kind == "followup" and not q.history:
            problems.append(f"{q.id}: a follow-up needs history")
        for evidence in (*q.evidence, *q.nearest):
            if not 25 <= len(evidence) <= 300:
                problems.append(f"{q.id}: evidence of {len(evidence)} characters (25–300 expected)")
            if not any(_in_text(evidence, text) for text in corpus_texts.values()):
                problems.append(f"{q.id}: evidence not in the documents: {evidence[:60]!r}")
        if q.doc and q.doc not in corpus_texts:
            problems.append(f"{q.id}: unknown doc {q.doc}")
    return problems


def _words(text: str) -> list[str]:
    return _WORD.findall(text.casefold().replace("’", "'"))


def copied_run(question: Question) -> int:
    """The longest run of consecutive words the question shares with its evidence (or nearest text), not
    counting runs made only of names and figures (capitalised in the evidence, or digits) and stop words."""
    asked = _words(question.question)
    longest = 0
    for source in (*question.evidence, *question.nearest):
        words = _words(source)
        names = {w.casefold() for w in re.findall(r"\b(?:[A-Z][\w'’-]*|\d[\w.,/%-]*)", source)}
        positions: dict[str, list[int]] = {}
        for i, w in enumerate(words):
            positions.setdefault(w, []).append(i)
        for i in range(len(asked)):
            for j in positions.get(asked[i], []):
                n = 0
                while i + n < len(asked) and j + n < len(words) and asked[i + n] == words[j + n]:
                    n += 1
                run = asked[i : i + n]
                if all(w in names or w in _STOP or w.isdigit() for w in run):
                    continue  # names and figures may be copied
                longest = max(longest, n)
    return longest


def overlap_distribution(questions: list[Question]) -> dict[str, int]:
    """How many questions copy a longest run of 0, 1, 2, 3 and 4+ words from their evidence."""
    counts: Counter[str] = Counter()
    for q in questions:
        run = copied_run(q)
        counts["4+" if run >= 4 else str(run)] += 1
    return {k: counts.get(k, 0) for k in ("0", "1", "2", "3", "4+")}


def unseen_reports(directory: Path = UNSEEN_DIR) -> list[Path]:
    """Folders of reports kept out of the shipped library, each with its questions.jsonl and meta.json."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if (p / "questions.jsonl").is_file() and (p / "meta.json").is_file())
