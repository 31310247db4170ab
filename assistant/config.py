"""All configuration in one place: a dataclass with offline defaults, overridable by environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_MODEL = "bundled:all-MiniLM-L6-v2"


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _flag(name: str) -> bool:
    return _env(name, "").lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class ChunkSettings:
    """How documents are cut into passages. Changing any of these makes an index stale."""

    target_words: int = 70
    min_words: int = 35
    max_words: int = 130
    max_tokens: int = 256

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class Settings:
    """Runtime settings. ``Settings.from_env()`` reads ``ASSISTANT_*`` variables over these defaults."""

    corpus_dir: Path = REPO_ROOT / "corpus"
    index_dir: Path = REPO_ROOT / "index"
    model: str = BUNDLED_MODEL
    index_type: str = "flat"  # "flat" (exact inner product) or "hnsw"
    batch_size: int = 32
    chunking: ChunkSettings = field(default_factory=ChunkSettings)
    # retrieval
    candidates: int = 40
    rrf_k: int = 60
    max_query_chars: int = 2000
    # answers
    max_history_turns: int = 6
    refusal_min_cosine: float = 0.50  # calibrated with `assistant eval` (see the refusal trade-off table)
    llm_url: str = ""
    llm_model: str = ""
    llm_api_key: str = ""
    llm_timeout: float = 30.0

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        base = cls(
            corpus_dir=Path(_env("ASSISTANT_CORPUS", str(cls.corpus_dir))),
            index_dir=Path(_env("ASSISTANT_INDEX", str(cls.index_dir))),
            model=_env("ASSISTANT_MODEL", BUNDLED_MODEL),
            index_type=_env("ASSISTANT_INDEX_TYPE", "flat"),
            llm_url=_env("ASSISTANT_LLM_URL", ""),
            llm_model=_env("ASSISTANT_LLM_MODEL", ""),
            llm_api_key=_env("ASSISTANT_LLM_API_KEY", ""),
            llm_timeout=float(_env("ASSISTANT_LLM_TIMEOUT", "30")),
        )
        return replace(base, **overrides) if overrides else base  # type: ignore[arg-type]


@dataclass(frozen=True)
class AppSettings:
    """Who may use the web app and what it accepts. ``AppSettings.from_env()`` reads ``ASSISTANT_APP_*``.

    A failed login from one client address is free ``login_free_attempts`` times; then that address waits
    ``login_delay`` seconds, doubled at each further failure up to ``login_max_delay``.
    """

    auth: str = field(default="", repr=False)  # "user:password", one login without a users file
    users_file: Path | None = None  # one "user:bcrypt-hash" a line (`assistant users add NAME`)
    max_upload_bytes: int = 0  # 0 refuses every upload: the app has no file input
    login_free_attempts: int = 5
    login_delay: float = 1.0
    login_max_delay: float = 900.0
    log_questions: bool = False  # question text in the server log only when asked for

    @classmethod
    def from_env(cls, **overrides: object) -> AppSettings:
        users = _env("ASSISTANT_APP_USERS", "")
        base = cls(
            auth=os.environ.get("ASSISTANT_APP_AUTH", ""),
            users_file=Path(users) if users else None,
            max_upload_bytes=int(_env("ASSISTANT_APP_MAX_UPLOAD", "0")),
            login_free_attempts=int(_env("ASSISTANT_APP_LOGIN_ATTEMPTS", "5")),
            login_delay=float(_env("ASSISTANT_APP_LOGIN_DELAY", "1")),
            log_questions=_flag("ASSISTANT_LOG_QUESTIONS"),
        )
        return replace(base, **overrides) if overrides else base  # type: ignore[arg-type]
