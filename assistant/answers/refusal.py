"""Whether the reports answer a question at all, decided from what retrieval found.

Three signals (thresholds in ``AnswerSettings``, chosen on the dev split; ``assistant eval`` reports the
trade-off): the cosine of the best sentence found, how many of the question's terms one sentence holds, and
whether the question names something the library never mentions (a place, an event: a capitalised name
absent from every document). A question is refused when its best sentence is weak — unless one sentence
holds every term of the question, which a little less closeness then suffices for — or when it is only
middling and the question hinges on an unknown name.
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
    min_cosine: float = 0.50  # below this no sentence in the reports is close enough
    unknown_name_cosine: float = 0.70  # a question naming what the reports never mention needs a closer match
    full_coverage_cosine: float = 0.45  # enough when one sentence holds every term of the question

    def refuse(self, evidence: Evidence) -> bool:
        floor = min(self.full_coverage_cosine, self.min_cosine) if evidence.best_coverage >= 1.0 else self.min_cosine
        if evidence.best_cosine < floor:
            return True
        return bool(evidence.unknown_names) and evidence.best_cosine < self.unknown_name_cosine
