"""Whether the reports answer a question at all, decided from what retrieval found.

Two signals (thresholds in ``AnswerSettings``, chosen on the dev split; ``assistant eval`` reports the
trade-off): the cosine of the best sentence found, and how much of the question's terms one sentence holds.
A question is refused when its best sentence is weak — unless one sentence holds every term of the
question, which a little less closeness then suffices for. A question the reports cover in part (a year,
a place or a figure they do not give) is not refused: see ``specifics``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Evidence:
    """What retrieval found for a question: the signals refusal is decided on."""

    best_cosine: float
    best_coverage: float
    unknown_names: tuple[str, ...]  # names in the question (Scotland, COVID-19) that no document mentions


@dataclass(frozen=True)
class RefusalPolicy:
    min_cosine: float = 0.40  # below this no sentence in the reports is close enough
    full_coverage_cosine: float = 0.25  # enough when one sentence holds every term of the question

    def refuse(self, evidence: Evidence) -> bool:
        floor = min(self.full_coverage_cosine, self.min_cosine) if evidence.best_coverage >= 1.0 else self.min_cosine
        return evidence.best_cosine < floor
