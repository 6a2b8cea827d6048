from datetime import datetime

import pytest

from loyalty.domain.errors import InvalidQr
from loyalty.domain.qr import FiscalKey, parse_qr

CANONICAL = "t=20240301T1230&s=1499.00&fn=7380440800000001&i=12345&fp=1234567890&n=1"


@pytest.mark.parametrize("text", [
    CANONICAL,
    "t=20240301T123000&s=1499.00&fn=7380440800000001&i=12345&fp=1234567890&n=1",  # with seconds
    "t=20240301t1230&s=1499.00&fn=7380440800000001&i=12345&fp=1234567890&n=1",  # lower-case t
    "  t=20240301T1230 & s=1499.00 &fn=7380440800000001\n&i=12345&fp=1234567890&n=1 \n",  # spaces, breaks
    "t%3D20240301T1230%26s%3D1499.00%26fn%3D7380440800000001%26i%3D12345%26fp%3D1234567890%26n%3D1",
    "https://check.ofd.ru/rec?t=20240301T1230&s=1499.00&fn=7380440800000001&i=12345&fp=1234567890&n=1",
    "Мой чек: t=20240301T1230&s=1499&fn=7380440800000001&i=12345&fp=1234567890&n=1",  # bare integer sum
])
def test_reads_every_form_seen_in_the_wild(text: str) -> None:
    query = parse_qr(text)
    assert query.key == FiscalKey(fn="7380440800000001", fd=12345, fp=1234567890)
    assert query.total_kopecks == 149900
    assert query.issued_at.replace(second=0) == datetime(2024, 3, 1, 12, 30)
    assert query.operation == 1


def test_canonical_form_round_trips() -> None:
    query = parse_qr(CANONICAL)
    assert parse_qr(query.to_qr()) == query


def test_kopecks_are_exact() -> None:
    assert parse_qr(CANONICAL.replace("s=1499.00", "s=0.29")).total_kopecks == 29
    assert parse_qr(CANONICAL.replace("s=1499.00", "s=1285.21")).total_kopecks == 128521


def test_missing_operation_defaults_to_sale() -> None:
    assert parse_qr(CANONICAL.removesuffix("&n=1")).operation == 1


@pytest.mark.parametrize(("text", "reason"), [
    ("", "empty"),
    ("привет", "no QR fields"),
    ("t=20240301T1230&s=1499.00&fn=7380440800000001&fp=1234567890", "missing fields: i"),
    (CANONICAL.replace("fn=7380440800000001", "fn=73804408000000011"), "fn must be"),
    (CANONICAL.replace("fp=1234567890", "fp=9999999999"), "fp is out of range"),
    (CANONICAL.replace("t=20240301T1230", "t=2024-03-01"), "t is not a date-time"),
    (CANONICAL.replace("s=1499.00", "s=abc"), "s is not an amount"),
    (CANONICAL.replace("n=1", "n=7"), "n must be 1-4"),
    ("t=1" * 2000, "too long"),
])
def test_refuses_what_is_not_a_receipt_qr_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidQr, match=reason):
        parse_qr(text)
