"""Pseudonymous shopper ids: keyed, stable, short, and different under another secret."""

from __future__ import annotations

import hashlib
import hmac
import re

from shopguide.privacy.pseudonym import Pseudonymizer, key_id, pseudonymize

SECRET = b"a-test-secret-of-enough-length"


def test_pseudonym_is_a_prefixed_keyed_hmac() -> None:
    expected = "u_" + hmac.new(SECRET, b"shopper-001", hashlib.sha256).hexdigest()[:20]
    assert pseudonymize("shopper-001", SECRET) == expected
    assert re.fullmatch(r"u_[0-9a-f]{20}", expected)
    assert pseudonymize("shopper-001", SECRET) == pseudonymize("shopper-001", SECRET)  # stable: exports link up
    assert pseudonymize("shopper-002", SECRET) != expected
    assert pseudonymize("顾客-七", SECRET).startswith("u_")  # any id, any script


def test_another_secret_changes_every_pseudonym() -> None:
    rotated = b"the-rotated-secret-of-enough-length"
    ids = [f"shopper-{n:03d}" for n in range(200)]
    before = {pseudonymize(u, SECRET) for u in ids}
    after = {pseudonymize(u, rotated) for u in ids}
    assert len(before) == len(after) == 200 and before.isdisjoint(after)
    assert key_id(SECRET) != key_id(rotated) and len(key_id(SECRET)) == 12
    assert key_id(SECRET) not in SECRET.hex() and key_id(SECRET) != pseudonymize("", SECRET)[2:14]


def test_memoised_pseudonymizer_agrees_with_the_function() -> None:
    p = Pseudonymizer(SECRET, max_entries=3)
    ids = ["a", "b", "c", "d", "a", "e", "b"]
    assert [p(u) for u in ids] == [pseudonymize(u, SECRET) for u in ids]
    assert p(None) is None and p.key_id == key_id(SECRET)
