"""Analyst sign-in for the 数据管理 page: salted password hashes, lockout, and room for OIDC.

Viewing the dashboards needs no sign-in. Uploading, committing and rolling back need an
*analyst* identity, which comes from one of two places:

1. A password account in the credentials file — ``.streamlit/secrets.toml`` of the project
   (env ``FISCAL_SECRETS`` overrides the path). Accounts are written by
   ``python -m fiscal add-user NAME``; the file holds only a scrypt hash with a random
   per-user salt, compared in constant time::

       [analysts."zhangsan"]
       password_hash = "scrypt$16384$8$1$<salt, base64>$<hash, base64>"
       updated = "2025-03-01T08:00:00+00:00"

2. An identity provider (OIDC) through Streamlit's ``st.login``: when the app's
   ``secrets.toml`` has an ``[auth]`` section, a signed-in ``st.user`` whose e-mail is listed
   in the credentials file is accepted as an analyst::

       [oidc_analysts]
       emails = ["zhangsan@czj.example.gov.cn"]

   (``oidc_identity`` below; the page offers the identity-provider button only when
   ``[auth]`` is configured. Nothing requires it.)

No accounts (and no OIDC analysts) → uploading is disabled; it is never open by default.

Repeated failures lock an account: ``MAX_FAILURES`` wrong passwords within
``LOCK_MINUTES`` lock it for ``LOCK_MINUTES``. The counters live in
``signin_state.json`` in the audit directory (audit.py), so they hold across reruns,
sessions and restarts; every sign-in, failure and lockout is written to the audit log.
Unknown user names are counted and locked exactly like real ones, so the answers do not
reveal which accounts exist.

Before any account is counted, the *client* is: ``CLIENT_MAX_FAILURES`` (fewer than
``MAX_FAILURES``) wrong passwords from one client within ``LOCK_MINUTES`` throttle that
client for ``LOCK_MINUTES`` without touching the account. A stranger who knows an analyst's
name therefore cannot lock the analyst out from one machine; it takes failures from
several clients, each of them logged.
"""
from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from filelock import FileLock

from .audit import AuditLog
from .settings import DISPLAY_TZ, secrets_path

STATE_NAME = "signin_state.json"

MAX_FAILURES = 5
LOCK_MINUTES = 15
CLIENT_MAX_FAILURES = MAX_FAILURES - 1  # one client alone can never lock an account
MIN_PASSWORD_LENGTH = 8

# scrypt parameters: 16 MiB of memory and ~50 ms per check.
SCRYPT_N, SCRYPT_R, SCRYPT_P, HASH_BYTES, SALT_BYTES = 2**14, 8, 1, 32, 16

NAME_PATTERN = re.compile(r"[\w.@-]{1,64}")  # \w includes Chinese characters


class AuthConfigError(Exception):
    """The credentials file cannot be read or written (message in Chinese)."""


@dataclass(frozen=True)
class Identity:
    name: str
    method: str  # "password" or "oidc"

    @property
    def label(self) -> str:
        return self.name if self.method == "password" else f"{self.name}（统一身份认证）"


@dataclass(frozen=True)
class SignIn:
    ok: bool
    message: str
    identity: Identity | None = None
    locked_until: dt.datetime | None = None


# ---------------------------------------------------------------- hashes

def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                            dklen=HASH_BYTES, maxmem=64 * 1024 * 1024)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Constant-time check of a password against a stored ``scrypt$…`` or ``pbkdf2_sha256$…`` hash."""
    try:
        scheme, *fields = stored.split("$")
        if scheme == "scrypt":
            n, r, p, salt, expected = int(fields[0]), int(fields[1]), int(fields[2]), fields[3], fields[4]
            expected = base64.b64decode(expected, validate=True)
            actual = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt, validate=True),
                                    n=n, r=r, p=p, dklen=len(expected), maxmem=256 * 1024 * 1024)
        elif scheme == "pbkdf2_sha256":  # for hosts whose OpenSSL lacks scrypt
            iterations, salt, expected = int(fields[0]), fields[1], base64.b64decode(fields[2], validate=True)
            actual = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), base64.b64decode(salt, validate=True),
                                         iterations, dklen=len(expected))
        else:
            return False
    except (ValueError, IndexError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


@functools.cache
def _dummy_hash() -> str:
    """Checked against when the user does not exist, so that answers take the same time."""
    return hash_password("dummy-password-for-timing", salt=b"\0" * SALT_BYTES)


# ---------------------------------------------------------------- credentials file

def valid_name(name: str) -> bool:
    return bool(NAME_PATTERN.fullmatch(name or ""))


def load_credentials(path: str | Path | None = None) -> dict:
    """The parsed credentials file ({} when it does not exist)."""
    path = Path(path) if path else secrets_path()
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise AuthConfigError(f"账号配置文件 {path.name} 无法读取：{exc}") from exc


def analysts(credentials: Mapping) -> dict[str, str]:
    """name → password hash, for the well-formed entries of [analysts]."""
    table = credentials.get("analysts", {})
    if not isinstance(table, Mapping):
        return {}
    return {name: entry["password_hash"] for name, entry in table.items()
            if valid_name(name) and isinstance(entry, Mapping) and isinstance(entry.get("password_hash"), str)}


def oidc_emails(credentials: Mapping) -> set[str]:
    table = credentials.get("oidc_analysts", {})
    emails = table.get("emails", []) if isinstance(table, Mapping) else []
    return {str(e).strip().lower() for e in emails if isinstance(e, str) and e.strip()}


def set_password(name: str, password: str, path: str | Path | None = None) -> bool:
    """Add the analyst or change their password. Returns True if the account is new.

    The rest of the file (e.g. Streamlit's [auth] section, comments) is kept as written;
    the file is replaced atomically and readable by its owner only."""
    if not valid_name(name):
        raise AuthConfigError("用户名只能包含字母、数字、汉字和 . _ - @，最长 64 个字符")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthConfigError(f"密码至少 {MIN_PASSWORD_LENGTH} 个字符")
    path = Path(path) if path else secrets_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    # The lock lives in the temp dir (keyed by the file's path), not beside the file in the project.
    lock_name = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
    with FileLock(str(Path(tempfile.gettempdir()) / f"fiscal-secrets-{lock_name}.lock"), timeout=30):
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        load_credentials(path)  # refuse to edit a file we cannot parse
        kept, existed = _without_table(text, name)
        stamp = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        block = f'[analysts."{name}"]\npassword_hash = "{hash_password(password)}"\nupdated = "{stamp}"\n'
        if not text.strip():
            kept = "# 数据管理页的分析员账号：由 python -m fiscal add-user 维护，只保存加盐哈希。\n"
        new_text = kept.rstrip("\n") + "\n\n" + block
        try:
            parsed = tomllib.loads(new_text)
        except tomllib.TOMLDecodeError as exc:
            raise AuthConfigError(f"更新后的账号配置文件无法解析：{exc}") from exc
        if analysts(parsed).get(name) is None:
            raise AuthConfigError("账号配置文件的结构不符合预期（[analysts] 应为表），请手工检查")
        _atomic_write(path, new_text)
    return not existed


_TABLE_HEADER = re.compile(r"^\s*\[\[?\s*(.*?)\s*\]\]?\s*(?:#.*)?$")


def _without_table(text: str, name: str) -> tuple[str, bool]:
    """The text without the [analysts."<name>"] table (header through the line before the next header)."""
    wanted = {f'analysts."{name}"', f"analysts.{name}", f"analysts.'{name}'"}
    out, skipping, found = [], False, False
    for line in text.splitlines(keepends=True):
        header = _TABLE_HEADER.match(line)
        if header:
            key = re.sub(r"\s*\.\s*", ".", header[1])
            skipping = key in wanted
            found = found or skipping
        if not skipping:
            out.append(line)
    return "".join(out), found


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".secrets-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------- sign-in with lockout

def local_time(moment: dt.datetime) -> str:
    return moment.astimezone(DISPLAY_TZ).strftime("%H:%M")


class Authenticator:
    """Password sign-in against the credentials file, with lockout state beside the audit log."""

    def __init__(self, audit: AuditLog, credentials_path: str | Path | None = None, *,
                 max_failures: int = MAX_FAILURES, lock_minutes: int = LOCK_MINUTES):
        self.audit = audit
        self.credentials_path = Path(credentials_path) if credentials_path else secrets_path()
        self.max_failures = max_failures
        self.lock = dt.timedelta(minutes=lock_minutes)
        self.state_path = audit.folder / STATE_NAME

    def credentials(self) -> dict:
        return load_credentials(self.credentials_path)

    def configured(self) -> bool:
        """True when at least one password account or OIDC analyst exists."""
        creds = self.credentials()
        return bool(analysts(creds) or oidc_emails(creds))

    def has_password_accounts(self) -> bool:
        return bool(analysts(self.credentials()))

    def locked_until(self, name: str, now: dt.datetime | None = None) -> dt.datetime | None:
        now = now or _now()
        entry = self._read_state().get(name, {})
        until = _parse(entry.get("locked_until"))
        return until if until and until > now else None

    def sign_in(self, name: str, password: str, now: dt.datetime | None = None,
                client: str | None = None) -> SignIn:
        """`client` identifies where the attempt comes from (an IP address, else a session)."""
        name, now = (name or "").strip(), now or _now()
        accounts = analysts(self.credentials())
        if not accounts:
            return SignIn(False, "尚未配置分析员账号，无法登录")
        if not valid_name(name) or not password:
            # Not counted: nothing to lock. A malformed name is not written to the log (it may be a password).
            verify_password(password or "", _dummy_hash())
            return SignIn(False, "用户名或密码错误")
        client_key = f"client:{client}" if client else None  # ":" never occurs in a valid name
        with self._state_lock():
            state = self._read_state()
            throttled = _parse(state.get(client_key, {}).get("locked_until")) if client_key else None
            if throttled and throttled > now:
                self.audit.append("login_throttled", name, method="password", client=client,
                                  locked_until=throttled.isoformat())
                return SignIn(False, _throttled_message(throttled))
            entry = state.get(name, {})
            until = _parse(entry.get("locked_until"))
            if until and until > now:
                self.audit.append("login_locked", name, method="password", locked_until=until.isoformat())
                return SignIn(False, _locked_message(until, now), locked_until=until)
            ok = verify_password(password, accounts.get(name, _dummy_hash())) and name in accounts
            if ok:
                state.pop(name, None)
                state.pop(client_key, None)
                self._write_state(state, now)
                self.audit.append("login_success", name, method="password")
                return SignIn(True, f"已登录：{name}", Identity(name, "password"))
            if client_key:
                state[client_key] = self._failed(state.get(client_key, {}), now, CLIENT_MAX_FAILURES)
                throttled = _parse(state[client_key].get("locked_until"))
            last = _parse(entry.get("last_failure"))
            recent = last is not None and now - last <= self.lock and not until
            failures = (int(entry.get("failures", 0)) if recent else 0) + 1
            entry = {"failures": failures, "last_failure": now.isoformat()}
            if failures >= self.max_failures:
                until = now + self.lock
                entry = {"failures": 0, "last_failure": now.isoformat(), "locked_until": until.isoformat()}
                state[name] = entry
                self._write_state(state, now)
                self.audit.append("login_failure", name, method="password", failures=failures)
                self.audit.append("lockout", name, failures=failures, locked_until=until.isoformat())
                minutes = int(self.lock.total_seconds() // 60)
                return SignIn(False, f"连续 {failures} 次登录失败，账户已锁定 {minutes} 分钟，"
                                     f"请于 {local_time(until)}（北京时间）后再试", locked_until=until)
            state[name] = entry
            self._write_state(state, now)
            self.audit.append("login_failure", name, method="password", failures=failures)
            if throttled:
                return SignIn(False, _throttled_message(throttled))
            left = self.max_failures - failures
            return SignIn(False, f"用户名或密码错误（再错 {left} 次将锁定 {int(self.lock.total_seconds() // 60)} 分钟）")

    def _failed(self, entry: dict, now: dt.datetime, limit: int) -> dict:
        """A client's counter after one more failure: throttled for the lock time at `limit`."""
        last = _parse(entry.get("last_failure"))
        recent = last is not None and now - last <= self.lock
        failures = (int(entry.get("failures", 0)) if recent else 0) + 1
        if failures >= limit:
            return {"failures": 0, "last_failure": now.isoformat(), "locked_until": (now + self.lock).isoformat()}
        return {"failures": failures, "last_failure": now.isoformat()}

    def oidc_identity(self, user: Mapping | None) -> Identity | None:
        """An analyst identity for an OIDC-signed-in user (st.user) whose e-mail is allowed; else None."""
        if not user or not user.get("is_logged_in"):
            return None
        email = str(user.get("email") or "").strip().lower()
        if not email or email not in oidc_emails(self.credentials()):
            return None
        return Identity(email, "oidc")

    # ---- state file ----
    def _state_lock(self) -> FileLock:
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.state_path) + ".lock", timeout=30)

    def _read_state(self) -> dict:
        try:
            data = json.loads(self.state_path.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write_state(self, state: dict, now: dt.datetime) -> None:
        def live(entry) -> bool:  # forget old failures so the file stays small
            until, last = _parse(entry.get("locked_until")), _parse(entry.get("last_failure"))
            return bool((until and until > now) or (last and now - last <= self.lock))
        state = {k: v for k, v in state.items() if isinstance(v, dict) and live(v)}
        fd, tmp = tempfile.mkstemp(prefix=".signin-", dir=self.state_path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(state, handle, ensure_ascii=False)
        os.replace(tmp, self.state_path)


def _throttled_message(until: dt.datetime) -> str:
    return f"本机登录失败次数过多，已暂停登录，请于 {local_time(until)}（北京时间）后再试"


def _locked_message(until: dt.datetime, now: dt.datetime) -> str:
    minutes = max(1, int((until - now).total_seconds() + 59) // 60)
    return f"账户已锁定，请于 {local_time(until)}（北京时间，约 {minutes} 分钟后）再试"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _parse(text) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(text) if text else None
    except (TypeError, ValueError):
        return None
