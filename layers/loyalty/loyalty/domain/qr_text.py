"""A receipt's QR code read from text, with the standard library only: the webhook's edge tells a QR code from any
other message with it, before pydantic or the program are loaded (domain/qr.py builds the receipt's query from it).

Shoppers paste it with spaces, line breaks, URL-encoding, a lower-case `t` separator, or inside a link;
all of those are accepted.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import NamedTuple
from urllib.parse import parse_qsl, unquote

from loyalty.domain.errors import InvalidQr

_MAX_QR_LENGTH = 2048
# strptime would read "1230" as 12:03:00 under the longer format, so the format is chosen by length.
_TIME_FORMATS = {15: "%Y%m%dT%H%M%S", 13: "%Y%m%dT%H%M"}
# The first QR key: everything before it is a link or noise the shopper pasted along.
_QUERY_START = re.compile(r"(?<![0-9A-Za-z_])(t|s|fn|i|fp|n)=", re.IGNORECASE)


class QrFields(NamedTuple):
    fn: str  # fiscal drive serial (ФН)
    fd: int  # fiscal document number (ФД, QR `i`)
    fp: int  # fiscal sign (ФП)
    issued_at: datetime  # local time of the sale, naive: the QR carries no time zone
    total_kopecks: int
    operation: int


def is_qr(text: str) -> bool:
    """Whether `text` is a receipt's QR code (as read_qr reads it)."""
    try:
        read_qr(text)
    except InvalidQr:
        return False
    return True


def read_qr(text: str) -> QrFields:
    """Read a receipt QR string in any form seen in the wild. Raises InvalidQr with a reason."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidQr("empty text")
    if len(text) > _MAX_QR_LENGTH:
        raise InvalidQr("text too long for a receipt QR")
    cleaned = "".join(unquote(text).split())  # URL-decoding first, then every kind of whitespace
    start = _QUERY_START.search(cleaned)
    if start is None:
        raise InvalidQr("no QR fields found")
    fields: dict[str, str] = {}
    for name, value in parse_qsl(cleaned[start.start(1) :].split("#", 1)[0], keep_blank_values=True):
        fields.setdefault(name.lower(), value)
    missing = [name for name in ("t", "s", "fn", "i", "fp") if not fields.get(name)]
    if missing:
        raise InvalidQr(f"missing fields: {', '.join(missing)}")
    return QrFields(fn=_digits(fields["fn"], "fn", 1, 16), fd=int(_digits(fields["i"], "i", 1, 10)),
                    fp=_fiscal_sign(fields["fp"]), issued_at=_time(fields["t"]), total_kopecks=_kopecks(fields["s"]),
                    operation=_operation(fields.get("n") or "1"))



def _digits(value: str, name: str, min_len: int, max_len: int) -> str:
    if not value.isdigit() or not (min_len <= len(value) <= max_len) or not value.isascii():
        raise InvalidQr(f"{name} must be {min_len}-{max_len} digits")
    return value


def _fiscal_sign(value: str) -> int:
    number = int(_digits(value, "fp", 1, 10))
    if number >= 2**32:  # the fiscal sign is an unsigned 32-bit integer
        raise InvalidQr("fp is out of range")
    return number


def _time(value: str) -> datetime:
    fmt = _TIME_FORMATS.get(len(value))
    if fmt is not None and value.isascii():
        try:
            return datetime.strptime(value.upper(), fmt)
        except ValueError:
            pass
    raise InvalidQr("t is not a date-time like 20240301T1230")


def _kopecks(value: str) -> int:
    if not re.fullmatch(r"\d{1,10}(?:[.,]\d{1,2})?", value):
        raise InvalidQr("s is not an amount")
    try:
        amount = Decimal(value.replace(",", "."))
    except InvalidOperation as error:  # pragma: no cover - the pattern above already rules this out
        raise InvalidQr("s is not an amount") from error
    return int(amount * 100)


def _operation(value: str) -> int:
    if value not in {"1", "2", "3", "4"}:
        raise InvalidQr("n must be 1-4")
    return int(value)
