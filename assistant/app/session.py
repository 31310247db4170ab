"""What one browser session holds: its conversation, its last search, and how often it has asked.

A ``Session`` lives in a ``gr.State``, so each visitor has their own; nothing about a visitor is kept on the
handlers. ``RateLimit`` counts requests per session id (Gradio's session hash) for the API endpoints, which
have no ``gr.State``; it forgets a session a minute after its last request.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from assistant.answers.types import Answer
from assistant.passage import Passage

WINDOW_SECONDS = 60.0


@dataclass
class Turn:
    """One question of the conversation and its answer; ``index`` is the answer's place in the chat."""

    question: str
    answer: Answer
    index: int
    feedback: str = ""  # the id of the feedback record, once rated
    rating: str = ""


@dataclass
class Session:
    """One visitor's state. ``history`` is what follow-up questions read; a message refused before it was
    answered (empty, too long, too fast) never enters it."""

    turns: list[Turn] = field(default_factory=list)
    results: list[Passage] = field(default_factory=list)
    query: str = ""
    asked: deque[float] = field(default_factory=deque)
    rated: int = -1  # the chat index of the answer last rated: a comment goes with it

    def history(self) -> list[dict[str, str]]:
        messages: list[dict[str, str]] = []
        for turn in self.turns:
            messages.append({"role": "user", "content": turn.question})
            messages.append({"role": "assistant", "content": turn.answer.text})
        return messages

    def turn_at(self, index: int) -> Turn | None:
        return next((t for t in self.turns if t.index == index), None)

    def allow(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> float:
        """0 if one more request is allowed now (and counts it), else the seconds to wait."""
        return _allow(self.asked, per_minute, clock())


def _allow(asked: deque[float], per_minute: int, now: float) -> float:
    while asked and now - asked[0] >= WINDOW_SECONDS:
        asked.popleft()
    if per_minute > 0 and len(asked) >= per_minute:
        return WINDOW_SECONDS - (now - asked[0])
    asked.append(now)
    return 0.0


class RateLimit:
    """Requests per minute for each session id (the API endpoints' sessions)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._asked: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, session_id: str) -> float:
        now = self.clock()
        with self._lock:
            if len(self._asked) > 1000:
                for key in [k for k, q in self._asked.items() if not q or now - q[-1] >= WINDOW_SECONDS]:
                    del self._asked[key]
            return _allow(self._asked.setdefault(session_id, deque()), self.per_minute, now)


def wait_message(seconds: float) -> str:
    return f"That is a lot of questions in one minute: please wait {max(1, round(seconds))} s before the next."
