"""One hierarchy of domain errors. The library raises these; the CLI and the app word them for users.

Every message is a single sentence a user can act on: no paths to internals, no tracebacks.
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base of every error the assistant raises on purpose."""


class CorpusError(AssistantError):
    """The corpus folder or its manifest cannot be used (missing, unlisted, empty or non-UTF-8 file)."""


class ModelMissing(AssistantError):
    """The embedding model cannot be loaded offline."""


class IndexMissing(AssistantError):
    """There is no built index where one was expected."""


class IndexCorrupt(AssistantError):
    """An index artifact does not match its manifest (damaged or tampered with)."""


class BadQuestion(AssistantError):
    """A query or question that cannot be searched: empty, too long, or unreadable."""


class BadHistory(AssistantError):
    """Conversation history that is not a list of {role, content} messages."""


class IndexStale(AssistantError):
    """The index was built from another corpus or with other settings; it must be rebuilt."""


class DocumentError(AssistantError):
    """A file that cannot be added to the library: unsupported, encrypted, empty, scanned, malformed or too big."""


class LibraryError(AssistantError):
    """A library operation that cannot be done: an unknown id, a duplicate, a manifest that cannot be written."""


class IndexUnwritable(AssistantError):
    """The index folder cannot be written (read-only, full, no permission)."""


class IndexBusy(AssistantError):
    """Another process is building the index."""


class RebuildTooLarge(AssistantError):
    """A rebuild would embed more than the configured limit and was not confirmed."""


class LoginConfigError(AssistantError):
    """The app's logins cannot be used: a malformed users file or ASSISTANT_APP_AUTH, or an unusable password."""


class UnsafeHost(AssistantError):
    """The app was asked to listen beyond this machine with no login and without --public."""


class NoteError(AssistantError):
    """A briefing note that cannot be written: a format other than .md or .docx, or a place that cannot be written."""


class FeedbackError(AssistantError):
    """Feedback that cannot be recorded or exported: an unknown rating, a data folder or file that cannot be written."""
