"""The webhook's secret check: constant time, and no header value can break it."""

import hmac

import pytest
from pytest import MonkeyPatch

from loyalty.flows.edge import secret_matches

SECRET = "s3cr3t-token_ABC"


def test_the_secret_is_compared_in_constant_time_over_the_whole_value(monkeypatch: MonkeyPatch) -> None:
    compared, constant_time = [], hmac.compare_digest

    def spy(received: bytes, expected: bytes) -> bool:
        compared.append((received, expected))
        return constant_time(received, expected)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    # A guess wrong in its first byte and one wrong in its last reach the same constant-time comparison, whole:
    # nothing returns early on a prefix, so response times tell an attacker nothing.
    assert not secret_matches("X" + SECRET[1:], SECRET)
    assert not secret_matches(SECRET[:-1] + "X", SECRET)
    assert secret_matches(SECRET, SECRET)
    assert compared == [(b"X" + SECRET[1:].encode(), SECRET.encode()), (SECRET[:-1].encode() + b"X", SECRET.encode()),
                        (SECRET.encode(), SECRET.encode())]


@pytest.mark.parametrize("received", [None, "", SECRET + "," + SECRET, "секрет", "\udc80" + SECRET, SECRET * 1000])
def test_any_other_header_value_is_refused_without_an_error(received: str | None) -> None:
    assert secret_matches(received, SECRET) is False
