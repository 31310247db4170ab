"""The corpus profile (corpus/profile.toml): what is specific to one library, kept as data.

The app's title, description and example questions; acronyms the documents use without defining them; and
everyday phrasings → the documents' own words. Every part is optional: without a profile the assistant works
the same, with defaults.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from assistant.corpus.manifest import PROFILE_NAME
from assistant.errors import CorpusError

DEFAULT_TITLE = "Report assistant"


@dataclass(frozen=True)
class Profile:
    title: str = DEFAULT_TITLE
    description: str = "Answers come only from the documents in the library; every sentence cites the passage it comes from."
    examples: tuple[str, ...] = ()
    acronyms: dict[str, str] = field(default_factory=dict)
    synonyms: dict[str, str] = field(default_factory=dict)

    def related_words(self, query: str) -> list[str]:
        """The documents' words for everyday phrasings the query uses (none already in it)."""
        lowered = query.casefold()
        out: list[str] = []
        for phrase, words in self.synonyms.items():
            if re.search(rf"\b{re.escape(phrase.casefold())}\b", lowered):
                out += [w for w in words.split() if w.casefold() not in lowered and w not in out]
        return out


def _strings(table: object, where: str) -> dict[str, str]:
    if not isinstance(table, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in table.items()):
        raise CorpusError(f"The corpus profile's [{where}] must map words to words.")
    return dict(table)


def read_profile(folder: Path) -> Profile:
    """The profile of the library in ``folder`` (defaults when it has none)."""
    path = folder / PROFILE_NAME
    if not path.is_file():
        return Profile()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CorpusError(f"The corpus profile {PROFILE_NAME} cannot be read ({exc}).") from exc
    app = data.get("app", {})
    examples = app.get("examples", [])
    if not isinstance(examples, list) or not all(isinstance(e, str) for e in examples):
        raise CorpusError("The corpus profile's examples must be a list of questions.")
    return Profile(
        title=str(app.get("title", DEFAULT_TITLE)),
        description=str(app.get("description", Profile.description)),
        examples=tuple(examples),
        acronyms=_strings(data.get("acronyms", {}), "acronyms"),
        synonyms=_strings(data.get("synonyms", {}), "synonyms"),
    )
