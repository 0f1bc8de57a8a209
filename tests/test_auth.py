"""Analyst accounts: salted hashes, the credentials file, the add-user CLI, lockout, OIDC identities."""
from __future__ import annotations

import datetime as dt
import io
import stat
import subprocess
import sys
import tomllib

import pytest

from fiscal import auth, cli
from fiscal.audit import AuditLog
from tests.upload_support import ROOT

T0 = dt.datetime(2026, 11, 21, 1, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def secrets(tmp_path, monkeypatch):
    path = tmp_path / "secrets.toml"
    monkeypatch.setenv("FISCAL_SECRETS", str(path))
    return path


@pytest.fixture
def log(tmp_path):
    return AuditLog(tmp_path / "audit")


@pytest.fixture
def authn(secrets, log):
    auth.set_password("zhangsan", "right-password", secrets)
    return auth.Authenticator(log, secrets)


# ---------------------------------------------------------------- hashes

def test_hash_is_salted_scrypt_and_verifies():
    first, second = auth.hash_password("密码 with spaces"), auth.hash_password("密码 with spaces")
    assert first.startswith("scrypt$16384$8$1$") and first != second  # a fresh salt each time
    assert auth.verify_password("密码 with spaces", first) and auth.verify_password("密码 with spaces", second)
    assert not auth.verify_password("密码 with space", first)
    assert "密码" not in first


@pytest.mark.parametrize("stored", ["", "plain-text", "scrypt$1$2", "scrypt$16384$8$1$!!$!!", "md5$abc$def"])
def test_malformed_or_unknown_hashes_never_verify(stored):
    assert not auth.verify_password("anything", stored)


def test_pbkdf2_hashes_are_accepted_too():
    import base64
    import hashlib
    salt = b"0123456789abcdef"
    digest = hashlib.pbkdf2_hmac("sha256", b"pw-123456", salt, 1000)
    stored = f"pbkdf2_sha256$1000${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"
    assert auth.verify_password("pw-123456", stored) and not auth.verify_password("pw-1234567", stored)


# ---------------------------------------------------------------- the credentials file

def test_set_password_writes_private_file_and_keeps_other_sections(secrets):
    secrets.write_text('# 运维备注\n[auth]\nredirect_uri = "http://localhost:8501/oauth2callback"\n\n'
                       '[oidc_analysts]\nemails = ["li@czj.example.gov.cn"]\n', encoding="utf-8")
    assert auth.set_password("zhangsan", "first-password", secrets) is True
    assert auth.set_password("张三", "second-password", secrets) is True
    text = secrets.read_text(encoding="utf-8")
    assert "# 运维备注" in text and "first-password" not in text and "second-password" not in text
    data = tomllib.loads(text)
    assert data["auth"]["redirect_uri"].endswith("oauth2callback")
    assert set(auth.analysts(data)) == {"zhangsan", "张三"}
    assert auth.oidc_emails(data) == {"li@czj.example.gov.cn"}
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o600
    assert sorted(p.name for p in secrets.parent.iterdir()) == ["secrets.toml"]  # no lock or temp file left


def test_set_password_updates_an_existing_user_in_place(secrets):
    auth.set_password("zhangsan", "first-password", secrets)
    auth.set_password("lisi", "lisi-password", secrets)
    before = auth.analysts(auth.load_credentials(secrets))
    assert auth.set_password("zhangsan", "changed-password", secrets) is False
    after = auth.analysts(auth.load_credentials(secrets))
    assert after["lisi"] == before["lisi"] and after["zhangsan"] != before["zhangsan"]
    assert auth.verify_password("changed-password", after["zhangsan"])
    assert secrets.read_text(encoding="utf-8").count('[analysts."zhangsan"]') == 1


@pytest.mark.parametrize("name", ["", "has space", 'quote"d', "a" * 65, "../x", "x]\n[auth"])
def test_bad_user_names_are_refused(secrets, name):
    with pytest.raises(auth.AuthConfigError, match="用户名只能包含"):
        auth.set_password(name, "long-enough-password", secrets)
    assert not secrets.exists()


def test_short_passwords_are_refused(secrets):
    with pytest.raises(auth.AuthConfigError, match="密码至少 8 个字符"):
        auth.set_password("zhangsan", "short", secrets)


def test_an_unparseable_file_is_not_touched(secrets):
    secrets.write_text("[analysts\nbroken", encoding="utf-8")
    with pytest.raises(auth.AuthConfigError, match="无法读取"):
        auth.set_password("zhangsan", "long-enough-password", secrets)
    assert secrets.read_text(encoding="utf-8") == "[analysts\nbroken"


def test_cli_add_user_reads_password_from_stdin(secrets, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("from-stdin-pass\n"))
    assert cli.main(["add-user", "王五", "--password-stdin"]) == 0
    assert "已添加分析员 王五" in capsys.readouterr().out
    assert auth.verify_password("from-stdin-pass", auth.analysts(auth.load_credentials(secrets))["王五"])


def test_cli_add_user_prompts_twice_and_refuses_a_mismatch(secrets, monkeypatch, capsys):
    answers = iter(["typed-password-1", "typed-password-2"])
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt="": next(answers))
    assert cli.main(["add-user", "zhaoliu"]) == 1
    assert "两次输入的密码不一致" in capsys.readouterr().err and not secrets.exists()
    answers = iter(["typed-password-1", "typed-password-1"])
    assert cli.main(["add-user", "zhaoliu"]) == 0


def test_cli_add_user_as_a_real_command(tmp_path):
    path = tmp_path / "nested" / "secrets.toml"
    done = subprocess.run([sys.executable, "-m", "fiscal", "add-user", "ops", "--password-stdin", "--secrets", str(path)],
                          input="pipe-password\n", capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert auth.verify_password("pipe-password", auth.analysts(auth.load_credentials(path))["ops"])
    short = subprocess.run([sys.executable, "-m", "fiscal", "add-user", "ops", "--password-stdin", "--secrets", str(path)],
                           input="short\n", capture_output=True, text=True, cwd=ROOT)
    assert short.returncode == 1 and "密码至少 8 个字符" in short.stderr


# ---------------------------------------------------------------- sign-in and lockout

def test_without_accounts_nothing_is_configured_and_sign_in_fails(secrets, log):
    authn = auth.Authenticator(log, secrets)
    assert not authn.configured()
    result = authn.sign_in("anyone", "anything")
    assert not result.ok and result.message == "尚未配置分析员账号，无法登录"


def test_success_and_wrong_password(authn, log):
    wrong = authn.sign_in("zhangsan", "nope", now=T0)
    assert not wrong.ok and wrong.message == "用户名或密码错误（再错 4 次将锁定 15 分钟）"
    ok = authn.sign_in("zhangsan", "right-password", now=T0)
    assert ok.ok and ok.identity == auth.Identity("zhangsan", "password")
    assert [r["event"] for r in log.read()] == ["login_success", "login_failure"]


def test_five_failures_lock_the_account_across_sessions_until_it_expires(authn, log, secrets):
    for i in range(4):
        assert "再错" in authn.sign_in("zhangsan", f"wrong-{i}", now=T0 + dt.timedelta(minutes=i)).message
    locked = authn.sign_in("zhangsan", "wrong-5", now=T0 + dt.timedelta(minutes=4))
    assert not locked.ok
    assert locked.message == "连续 5 次登录失败，账户已锁定 15 分钟，请于 09:19（北京时间）后再试"
    # A new authenticator (another session, or the app restarted) sees the lock: it is on disk.
    other = auth.Authenticator(AuditLog(log.folder), secrets)
    still = other.sign_in("zhangsan", "right-password", now=T0 + dt.timedelta(minutes=10))
    assert not still.ok and still.message == "账户已锁定，请于 09:19（北京时间，约 9 分钟后）再试"
    assert other.locked_until("zhangsan", now=T0 + dt.timedelta(minutes=10)) == T0 + dt.timedelta(minutes=19)
    after = other.sign_in("zhangsan", "right-password", now=T0 + dt.timedelta(minutes=19, seconds=1))
    assert after.ok
    events = [r["event"] for r in log.read()]
    assert events[:3] == ["login_success", "login_locked", "lockout"] and events.count("login_failure") == 5


def test_failures_are_forgotten_after_a_success_and_after_the_window(authn):
    for i in range(4):
        authn.sign_in("zhangsan", "wrong", now=T0)
    assert authn.sign_in("zhangsan", "right-password", now=T0).ok
    assert authn.sign_in("zhangsan", "wrong", now=T0).message.startswith("用户名或密码错误（再错 4 次")
    later = T0 + dt.timedelta(minutes=16)
    assert authn.sign_in("zhangsan", "wrong", now=later).message.startswith("用户名或密码错误（再错 4 次")


def test_unknown_users_get_the_same_answers_and_lock_too(authn):
    answers = [authn.sign_in("nobody", "pw", now=T0).message for _ in range(5)]
    known = [auth.Authenticator(authn.audit, authn.credentials_path).sign_in("zhangsan", "pw", now=T0).message
             for _ in range(5)]
    assert answers == known
    assert authn.sign_in("nobody", "pw", now=T0).message.startswith("账户已锁定")


def test_one_client_cannot_lock_an_analyst_out(authn, log):
    """A stranger who knows the name tries from one machine: that machine is throttled, the account is not."""
    for i in range(3):
        wrong = authn.sign_in("zhangsan", "guess", now=T0 + dt.timedelta(minutes=i), client="203.0.113.9")
        assert wrong.message == f"用户名或密码错误（再错 {4 - i} 次将锁定 15 分钟）"
    fourth = authn.sign_in("zhangsan", "guess", now=T0 + dt.timedelta(minutes=3), client="203.0.113.9")
    assert fourth.message == "本机登录失败次数过多，已暂停登录，请于 09:18（北京时间）后再试"
    more = [authn.sign_in("zhangsan", "guess", now=T0 + dt.timedelta(minutes=4), client="203.0.113.9")
            for _ in range(20)]  # not counted against the account any more
    assert {m.message for m in more} == {fourth.message}
    assert authn.locked_until("zhangsan", now=T0 + dt.timedelta(minutes=4)) is None
    mine = authn.sign_in("zhangsan", "right-password", now=T0 + dt.timedelta(minutes=5), client="198.51.100.7")
    assert mine.ok  # the analyst, from their own machine
    events = [r["event"] for r in log.read()]
    assert events.count("login_throttled") == 20 and "lockout" not in events
    assert log.read()[1]["client"] == "203.0.113.9"


def test_failures_from_two_clients_still_lock_the_account(authn):
    for i in range(4):
        authn.sign_in("zhangsan", "guess", now=T0, client="a")
    locked = authn.sign_in("zhangsan", "guess", now=T0, client="b")
    assert locked.message.startswith("连续 5 次登录失败，账户已锁定 15 分钟")


def test_a_malformed_name_is_rejected_without_being_logged(authn, log):
    result = authn.sign_in("my password is hunter2", "x", now=T0)
    assert not result.ok and result.message == "用户名或密码错误"
    assert log.read() == []


def test_oidc_identity_needs_login_and_an_allowed_email(secrets, log):
    secrets.write_text('[oidc_analysts]\nemails = ["Li@CZJ.example.gov.cn"]\n', encoding="utf-8")
    authn = auth.Authenticator(log, secrets)
    assert authn.configured() and not authn.has_password_accounts()
    assert authn.oidc_identity({"is_logged_in": True, "email": "li@czj.example.gov.cn"}) == \
        auth.Identity("li@czj.example.gov.cn", "oidc")
    assert authn.oidc_identity({"is_logged_in": False, "email": "li@czj.example.gov.cn"}) is None
    assert authn.oidc_identity({"is_logged_in": True, "email": "wang@czj.example.gov.cn"}) is None
    assert authn.oidc_identity({"email": "li@czj.example.gov.cn"}) is None
