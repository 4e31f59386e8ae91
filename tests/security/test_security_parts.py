"""The parts of access control on their own: token buckets, the server secret, keys and cookies."""

from __future__ import annotations

import stat
from types import SimpleNamespace

import pytest
from pydantic import SecretStr

from shopguide.config import Settings
from shopguide.errors import AuthError, ConfigError, PermissionDeniedError, RateLimitedError
from shopguide.security.auth import Authenticator, Principal
from shopguide.security.keys import check_scopes, matches, new_key, parse_key_id, rotated
from shopguide.security.ratelimit import RateLimiter, retry_after_header
from shopguide.security.secret import SECRET_FILE, server_secret


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_refills_at_its_rate_and_says_how_long_to_wait() -> None:
    clock = Clock()
    limiter = RateLimiter(clock=clock)
    assert [limiter.take("k", rate=2, burst=3) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("k", rate=2, burst=3) == pytest.approx(0.5)
    clock.now = 0.5  # one token back
    assert limiter.take("k", rate=2, burst=3) == 0.0
    assert limiter.take("other", rate=2, burst=3) == 0.0  # buckets are per name
    assert all(limiter.take("free", rate=0, burst=1) == 0.0 for _ in range(100))  # 0: unlimited
    assert retry_after_header(0.2) == "1" and retry_after_header(2.1) == "3"


def test_idle_buckets_are_dropped_beyond_the_cap() -> None:
    limiter = RateLimiter(clock=Clock(), max_buckets=2)
    for name in ("a", "b", "c"):
        limiter.take(name, rate=1, burst=1)
    assert limiter.take("a", rate=1, burst=1) == 0.0  # "a" was dropped: a full bucket again
    assert limiter.take("c", rate=1, burst=1) > 0


def test_the_server_secret_is_made_once_owner_only_and_a_short_one_is_refused(tmp_path) -> None:
    settings = SimpleNamespace(home=tmp_path, secret=None)
    first = server_secret(settings)
    assert len(first) == 64 and server_secret(settings) == first
    assert stat.S_IMODE((tmp_path / SECRET_FILE).stat().st_mode) == 0o600
    assert server_secret(SimpleNamespace(home=tmp_path, secret=SecretStr("x" * 20))) == b"x" * 20
    with pytest.raises(ConfigError, match="at least 16"):
        server_secret(SimpleNamespace(home=tmp_path, secret=SecretStr("short")))


def test_keys_parse_match_and_rotate() -> None:
    key, record = new_key(b"k" * 32, "backend", ["ingest", "read", "read"], expires_in_days=10, now=1000.0)
    assert parse_key_id(key) == record.key_id and record.scopes == ("read", "ingest")
    assert matches(b"k" * 32, key, record) and not matches(b"other-secret-000", key, record)
    assert parse_key_id("sg_nothex______" + "x" * 43) is None and parse_key_id(key + "x") is None
    assert record.status(now=1000.0 + 9 * 86400) == "active" and record.status(now=1000.0 + 11 * 86400) == "expired"
    new, successor = rotated(b"k" * 32, record, now=5000.0)
    assert new != key and successor.name == "backend" and successor.expires_at == 5000.0 + 10 * 86400
    with pytest.raises(ConfigError, match="unknown scope 'root'"):
        check_scopes(["root"])
    assert new_key(b"k" * 32, "ops", ["admin"])[1].allows("catalog")


def test_cookies_are_signed_and_expire(tmp_path) -> None:
    clock = Clock()
    clock.now = 1_800_000_000.0
    auth = Authenticator(Settings(_env_file=None, home=tmp_path), b"s" * 32, clock=clock)
    cookie = auth.new_cookie()
    assert auth.cookie_browser(cookie) == cookie.split(".")[0]
    browser, expires, signature = cookie.split(".")
    assert auth.cookie_browser(f"{browser}.{int(expires) + 999}.{signature}") is None  # extended by hand
    assert auth.cookie_browser(f"{'0' * 32}.{expires}.{signature}") is None  # another browser's signature
    clock.now += 13 * 3600
    assert auth.cookie_browser(cookie) is None


def test_admit_refuses_with_the_right_error(tmp_path) -> None:
    auth = Authenticator(Settings(_env_file=None, home=tmp_path, rate_limit_per_key=1), b"s" * 32, clock=Clock())
    auth.limiter = RateLimiter(clock=Clock())
    reader = Principal("key:r", "reader", frozenset({"read"}))
    with pytest.raises(AuthError):
        auth.admit(None, "read", "1.2.3.4")
    with pytest.raises(PermissionDeniedError, match="'catalog'"):
        auth.admit(reader, "catalog", "1.2.3.4")
    assert auth.admit(reader, "read", "1.2.3.4") is reader and auth.admit(reader, "read", "1.2.3.4") is reader
    with pytest.raises(RateLimitedError) as limited:
        auth.admit(reader, "read", "1.2.3.4")  # rate 1/s, burst 2
    assert limited.value.retry_after > 0
