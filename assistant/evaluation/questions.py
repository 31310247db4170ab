"""Reference questions (eval/questions.jsonl): loading and validation."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from assistant.config import REPO_ROOT
from assistant.errors import AssistantError

DEFAULT_QUESTIONS = REPO_ROOT / "eval" / "questions.jsonl"
KINDS = (
    "number",
    "definition",
    "list",
    "recommendation",
    "case_study",
    "reasoning",
    "multi_hop",
    "followup",
    "unanswerable",
    "fact",
)
SPLITS = ("dev", "test")


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

    @property
    def answerable(self) -> bool:
        return bool(self.evidence)


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
                evidence=tuple(str(e) for e in data.get("evidence", [])),
                doc=str(data.get("doc", "")),
                kind=str(data["kind"]),
                split=str(data.get("split", "dev")),
                history=list(data.get("history") or []),
            )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise QuestionsError(f"Line {number} of {path.name} is not a valid question ({exc}).") from exc
        questions.append(question)
    if not questions:
        raise QuestionsError(f"The questions file {path.name} holds no questions.")
    return questions


def validate(questions: list[Question], corpus_texts: dict[str, str]) -> list[str]:
    """Problems with the reference set: unknown kinds or splits, duplicate ids, evidence not in the corpus."""
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
        if q.kind == "unanswerable" and q.evidence:
            problems.append(f"{q.id}: unanswerable questions carry no evidence")
        if q.kind != "unanswerable" and not q.evidence:
            problems.append(f"{q.id}: no evidence")
        if q.kind == "followup" and not q.history:
            problems.append(f"{q.id}: a follow-up needs history")
        for evidence in q.evidence:
            if not 40 <= len(evidence) <= 250:
                problems.append(f"{q.id}: evidence of {len(evidence)} characters (40–250 expected)")
            if not any(evidence in text for text in corpus_texts.values()):
                problems.append(f"{q.id}: evidence not in the corpus: {evidence[:60]!r}")
        if q.doc and q.doc not in corpus_texts:
            problems.append(f"{q.id}: unknown doc {q.doc}")
    return problems
