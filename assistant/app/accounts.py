"""Who may log in to the web app: a users file of bcrypt hashes and/or one ``ASSISTANT_APP_AUTH=user:password``.

The users file (``ASSISTANT_APP_USERS``) holds one ``name:bcrypt-hash`` a line; blank lines and lines starting
with ``#`` are ignored. It is read once when the app starts; ``assistant users add|remove`` edits it.
"""

from __future__ import annotations

import functools
import hmac
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import anyio.to_thread
import bcrypt

from assistant.config import AppSettings
from assistant.errors import LoginConfigError

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}")
BCRYPT_HASH = re.compile(r"\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}")
MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_BYTES = 72  # bcrypt reads no further, and bcrypt 5 refuses longer passwords
ROUNDS = 12  # bcrypt's default: ≈ 0.6 s a hash or a check on this machine


@dataclass(frozen=True)
class Accounts:
    """The logins the app accepts. False when there are none (the app then has no login)."""

    hashes: dict[str, str] = field(default_factory=dict)
    single: tuple[str, str] | None = field(default=None, repr=False)

    @classmethod
    def from_settings(cls, settings: AppSettings) -> Accounts:
        hashes: dict[str, str] = {}
        if settings.users_file is not None:
            _, hashes = _read(settings.users_file)
            if not hashes:
                raise LoginConfigError(
                    f"The users file {settings.users_file} lists nobody: add someone with "
                    f"`assistant users add NAME --file {settings.users_file}`."
                )
        return cls(hashes=hashes, single=_parse_auth(settings.auth))

    def __bool__(self) -> bool:
        return bool(self.hashes) or self.single is not None

    def verify(self, name: str, password: str) -> bool:
        """True for a known name with its password. An unknown name costs a bcrypt check too, so timing
        does not tell which names exist."""
        ok = False
        if self.single is not None:
            same_name = hmac.compare_digest(name.encode(), self.single[0].encode())
            same_password = hmac.compare_digest(password.encode(), self.single[1].encode())
            ok = same_name and same_password
        if self.hashes:
            matches = _check(password, self.hashes.get(name, _decoy_hash()))
            ok = ok or (matches and name in self.hashes)
        return ok

    async def check(self, name: str, password: str) -> bool:
        """``verify`` in a worker thread (Gradio awaits it), so a bcrypt check does not stall the server."""
        return await anyio.to_thread.run_sync(self.verify, name, password)


def hash_password(password: str) -> str:
    """A bcrypt hash of a new password, after checking its length."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise LoginConfigError(f"Use a password of at least {MIN_PASSWORD_CHARS} characters.")
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        raise LoginConfigError(f"Use a password of at most {MAX_PASSWORD_BYTES} bytes (bcrypt reads no further).")
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(ROUNDS)).decode("ascii")


def set_password(path: Path, name: str, password: str) -> bool:
    """Add ``name`` to the users file (created if missing), or change its password. True if it was there."""
    if not NAME.fullmatch(name):
        raise LoginConfigError(f"{name!r} is not a usable name: use letters, digits and ._@+- (up to 64).")
    entry = f"{name}:{hash_password(password)}"
    lines, hashes = _read(path, missing_ok=True)
    known = name in hashes
    lines = [entry if _name_of(line) == name else line for line in lines] if known else [*lines, entry]
    _write(path, lines)
    return known


def remove_user(path: Path, name: str) -> None:
    """Take ``name`` out of the users file."""
    lines, hashes = _read(path)
    if name not in hashes:
        raise LoginConfigError(f"There is no user {name} in {path}.")
    _write(path, [line for line in lines if _name_of(line) != name])


def _parse_auth(value: str) -> tuple[str, str] | None:
    if not value.strip():
        return None
    name, sep, password = value.partition(":")
    if not sep or not name or not password:
        raise LoginConfigError("ASSISTANT_APP_AUTH must be user:password (or unset).")
    return name, password


def _read(path: Path, missing_ok: bool = False) -> tuple[list[str], dict[str, str]]:
    """The file's lines as they are and its users, every line checked."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if missing_ok:
            return [], {}
        raise LoginConfigError(
            f"The users file {path} does not exist: create it with `assistant users add NAME --file {path}`."
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LoginConfigError(f"The users file {path} cannot be read as UTF-8 text.") from exc
    lines = text.splitlines()
    hashes: dict[str, str] = {}
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, hashed = line.partition(":")
        if not sep or not NAME.fullmatch(name):
            raise LoginConfigError(f"{path} line {number}: expected NAME:BCRYPT-HASH.")
        if not BCRYPT_HASH.fullmatch(hashed):
            raise LoginConfigError(
                f"{path} line {number}: the password of {name} is not a bcrypt hash; set it with `assistant users add {name}`."
            )
        if name in hashes:
            raise LoginConfigError(f"{path} line {number}: {name} is listed twice.")
        hashes[name] = hashed
    return lines, hashes


def _name_of(line: str) -> str | None:
    line = line.strip()
    return None if not line or line.startswith("#") else line.partition(":")[0]


def _write(path: Path, lines: list[str]) -> None:
    """Replace the file in one step, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", delete=False) as out:
        out.write("".join(f"{line}\n" for line in lines))
    os.chmod(out.name, 0o600)
    os.replace(out.name, path)


def _check(password: str, hashed: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode(), hashed.encode("ascii"))
    except ValueError:  # longer than bcrypt reads: never a password that was stored
        return False


@functools.cache
def _decoy_hash() -> str:
    return bcrypt.hashpw(os.urandom(16).hex().encode(), bcrypt.gensalt(ROUNDS)).decode("ascii")
