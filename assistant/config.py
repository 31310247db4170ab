"""All configuration in one place: nested, typed settings with offline defaults, read from environment variables.

Where things live: ``ASSISTANT_HOME`` (default: the repository checkout when running from one, else the current
folder) holds ``corpus/`` (the library), ``index/`` (generated), ``eval/`` and ``data/`` (feedback). Each can be
moved on its own with ``ASSISTANT_CORPUS``, ``ASSISTANT_INDEX`` and ``ASSISTANT_DATA``.

Every tunable the retrieval and the answerers use is here, so an evaluation can switch one off
(``assistant eval --ablate``) and README can say where each default came from.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

PACKAGE_ROOT = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_ROOT.parent
BUNDLED_MODEL = "bundled:all-MiniLM-L6-v2"
# Per-user, outside the package: an installed package's folder may be read-only.
DEFAULT_MODEL_CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "assistant"


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def home() -> Path:
    """ASSISTANT_HOME, or the checkout this package runs from, or the current folder."""
    explicit = os.environ.get("ASSISTANT_HOME", "").strip()
    if explicit:
        return Path(explicit).expanduser()
    if (REPO_ROOT / "pyproject.toml").is_file() and (REPO_ROOT / "corpus").is_dir():
        return REPO_ROOT
    return Path.cwd()


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
class RetrievalSettings:
    """How candidates are found and scored. Weights were chosen on the dev split of eval/questions.jsonl."""

    candidates: int = 40
    sentence_candidates: int = 120
    method: str = "linear"  # "linear" (weighted features) or "rrf" (reciprocal rank fusion)
    rrf_k: int = 60
    dense_weight: float = 1.0  # cosine of the passage
    sentence_weight: float = 1.0  # cosine of its best sentence
    bm25_weight: float = 0.0  # BM25 scaled by the best BM25 score (BM25 still proposes candidates)
    coverage_weight: float = 1.0  # share of the question's content terms the passage contains
    reference_penalty: float = 0.2  # footnotes and bibliography, unless nothing else matches
    footnote_inheritance: bool = True  # a matching footnote speaks for the passage that cites it
    definition_boost: float = 0.3  # "what is X?" prefers the glossary entry for X
    document_boost: float = 0.15  # "what does the GOV.UK page say…" prefers the document named (manifest aliases)
    recommendation_boost: float = 0.4  # "should…?" prefers passages that recommend
    about_boost: float = 0.3  # "who wrote the report?" prefers front matter and short describing documents
    answer_type_weight: float = 1.0  # "how many…?", "when…?": the best sentence stating a figure or date counts again
    acronym_expansion: bool = True  # PCN ↔ Primary Care Network, mined from the documents
    profile_synonyms: bool = True  # everyday words → the documents' words, from corpus/profile.toml
    decompose: bool = True  # "X versus Y", "who did A and who did B": each part searched as well
    unplaced_names: bool = True  # a name whose words no passage holds together is reported as not in the library
    as_asked_weight: float = 0.5  # a rewritten follow-up is also searched in its own words, at this weight
    expand_dense: bool = True


@dataclass(frozen=True)
class AnswerSettings:
    """How the extractive answerer scores and chooses sentences, and when it says the reports don't answer."""

    passages: int = 6  # retrieved passages an answer draws on
    max_sentences: int = 4
    max_list_items: int = 8
    coverage_weight: float = 0.5  # share of the question's terms the sentence holds
    context_weight: float = 0.5  # ... counting terms only the sentence before holds at this weight
    rank_penalty: float = 0.02  # per rank of the sentence's passage
    passage_weight: float = 0.0  # the passage's retrieval score (relative to the best passage's) counts this much
    margin: float = 0.2  # how far below the best sentence another may score and still be chosen
    per_passage: bool = True  # the best sentence of each of the best passages first
    lead_sentences: int = 3  # up to this many from the best passage ...
    lead_margin: float = 0.4  # ... within this of the best sentence
    type_weight: float = 0.2  # holds what the question asks for: a figure, a date, a name
    direct_weight: float = 0.2  # ... of the very thing asked about (the figure of staff at Granta)
    recommendation_weight: float = 0.4  # "should…?" is answered by a recommendation
    about_weight: float = 0.2  # "who wrote the report?" is answered from front matter
    signpost_penalty: float = 0.3  # "please refer to Appendix 1…"
    reference_lists_quiet: bool = True  # a bibliography's entries are not quoted unless sources are asked about
    continuation: bool = True  # a following sentence that leans back on a chosen one comes with it
    list_answers: bool = True  # a list question gets the list the best passage belongs to
    list_anchor_rank: int = 8  # ... when that list is in one of this many best passages
    near_miss: bool = True  # a figure, date, name, year or place asked for and not stated → a partial answer
    near_miss_sentences: int = 12  # the best sentences searched for what is asked
    focus_share: float = 0.3  # a figure gives what is asked when its sentence holds this share of what it is of
    lean_back: bool = True  # a date or a name may take what it is about from the sentence before
    refusal_min_cosine: float = 0.40  # below this no sentence is close enough to answer (dev trade-off in README)
    full_coverage_cosine: float = 0.25  # enough when one sentence holds every term of the question


@dataclass(frozen=True)
class LLMSettings:
    """The optional generative answerer: any OpenAI-compatible endpoint."""

    url: str = ""
    model: str = ""
    api_key: str = ""
    timeout: float = 30.0


@dataclass(frozen=True)
class AppSettings:
    """Who may use the web app and what it accepts. ``AppSettings.from_env()`` reads ``ASSISTANT_APP_*``.

    A failed login from one client address is free ``login_free_attempts`` times; then that address waits
    ``login_delay`` seconds, doubled at each further failure up to ``login_max_delay``. Adding documents from
    the browser is off unless ``uploads`` (ASSISTANT_APP_UPLOADS=1), and then needs a login and stays under
    ``max_upload_mb``.
    """

    auth: str = field(default="", repr=False)  # "user:password", one login without a users file
    users_file: Path | None = None  # one "user:bcrypt-hash" a line (`assistant users add NAME`)
    uploads: bool = False
    max_upload_mb: int = 50
    login_free_attempts: int = 5
    login_delay: float = 1.0
    login_max_delay: float = 900.0
    log_questions: bool = False  # question text in the server log only when asked for
    max_input_chars: int = 2000
    rate_per_minute: int = 30  # questions and searches per browser session

    @property
    def max_upload_bytes(self) -> int:
        """0 refuses every upload (the app has no file input unless uploads are on)."""
        return self.max_upload_mb * 1_000_000 if self.uploads else 0

    @classmethod
    def from_env(cls, **overrides: Any) -> AppSettings:
        users = _env("ASSISTANT_APP_USERS", "")
        base = cls(
            auth=os.environ.get("ASSISTANT_APP_AUTH", ""),
            users_file=Path(users).expanduser() if users else None,
            uploads=_flag("ASSISTANT_APP_UPLOADS"),
            max_upload_mb=int(_env("ASSISTANT_APP_MAX_UPLOAD_MB", "50")),
            login_free_attempts=int(_env("ASSISTANT_APP_LOGIN_ATTEMPTS", "5")),
            login_delay=float(_env("ASSISTANT_APP_LOGIN_DELAY", "1")),
            log_questions=_flag("ASSISTANT_LOG_QUESTIONS"),
            rate_per_minute=int(_env("ASSISTANT_APP_RATE", "30")),
        )
        return replace(base, **overrides) if overrides else base


@dataclass(frozen=True)
class Settings:
    """Runtime settings. ``Settings.from_env()`` reads ``ASSISTANT_*`` variables over these defaults."""

    corpus_dir: Path = field(default_factory=lambda: home() / "corpus")
    index_dir: Path = field(default_factory=lambda: home() / "index")
    data_dir: Path = field(default_factory=lambda: home() / "data")
    model: str = BUNDLED_MODEL
    model_cache: Path = DEFAULT_MODEL_CACHE  # derived model files (the ONNX export), rebuilt when missing
    encoder: str = "onnx"  # "onnx" (onnxruntime, fp32: torch's vectors, no torch at run time) or "torch"
    index_type: str = "flat"  # "flat" (exact inner product) or "hnsw"
    batch_size: int = 32  # texts per batch of the encoder ...
    batch_tokens: int = 1024  # ... and word pieces, padding included (ONNX encoder; measured in onnx_encoder.py)
    lock_wait_seconds: float = 0.0
    confirm_embeds_over: int = 20_000  # a rebuild embedding more texts than this asks first (`--yes`)
    max_query_chars: int = 2000
    max_history_turns: int = 6
    chunking: ChunkSettings = field(default_factory=ChunkSettings)
    retrieval: RetrievalSettings = field(default_factory=RetrievalSettings)
    answers: AnswerSettings = field(default_factory=AnswerSettings)
    llm: LLMSettings = field(default_factory=LLMSettings)
    app: AppSettings = field(default_factory=AppSettings)

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        root = home()
        base = cls(
            corpus_dir=Path(_env("ASSISTANT_CORPUS", str(root / "corpus"))).expanduser(),
            index_dir=Path(_env("ASSISTANT_INDEX", str(root / "index"))).expanduser(),
            data_dir=Path(_env("ASSISTANT_DATA", str(root / "data"))).expanduser(),
            model=_env("ASSISTANT_MODEL", BUNDLED_MODEL),
            model_cache=Path(_env("ASSISTANT_MODEL_CACHE", str(DEFAULT_MODEL_CACHE))).expanduser(),
            encoder=_env("ASSISTANT_ENCODER", "onnx"),
            index_type=_env("ASSISTANT_INDEX_TYPE", "flat"),
            llm=LLMSettings(
                url=_env("ASSISTANT_LLM_URL", ""),
                model=_env("ASSISTANT_LLM_MODEL", ""),
                api_key=_env("ASSISTANT_LLM_API_KEY", ""),
                timeout=float(_env("ASSISTANT_LLM_TIMEOUT", "30")),
            ),
            app=AppSettings.from_env(),
        )
        return replace(base, **overrides) if overrides else base

    def with_retrieval(self, **changes: Any) -> Settings:
        return replace(self, retrieval=replace(self.retrieval, **changes))

    def with_answers(self, **changes: Any) -> Settings:
        return replace(self, answers=replace(self.answers, **changes))
