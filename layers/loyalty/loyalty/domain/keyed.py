"""Ids and markers outsiders must not compute: HMAC-SHA256 with the stack's own secret key.

- **Ids** an outsider could otherwise forge or guess (a nudge's link, a ticket, a reward order): stable for the same
  parts, so a redelivered message makes the same id, and unforgeable without the key. An id a client sends back
  (a button's order) is checked with `issued`.
- **Markers** of an erased person (their Telegram id, their phone): a bare hash of a Telegram id is reversed by
  hashing every id; a keyed one only by whoever holds the key, which never leaves Secrets Manager.

The key is read when first needed (a callable, so a function that never makes an id never fetches it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable

from loyalty.domain.codes import ALPHABET

_ID_LENGTH = 10  # 50 bits of the code alphabet: fits a button's callback data beside its action


class Keyed:
    def __init__(self, key: Callable[[], str]):
        self._key = key

    def id(self, *parts: str) -> str:
        """A short id for what `parts` name, readable on a phone (no 0/O, 1/I)."""
        digest = self._mac("id", *parts)
        return "".join(ALPHABET[byte % len(ALPHABET)] for byte in digest[:_ID_LENGTH])

    def issued(self, candidate: str, *parts: str) -> bool:
        """Whether `candidate` is the id this stack made for `parts` (constant time)."""
        return hmac.compare_digest(candidate.encode(errors="replace"), self.id(*parts).encode())

    def marker(self, kind: str, value: str) -> str:
        """What is kept of a person after erasure: their `kind` ("member", "phone") keyed, 128 bits in hex."""
        return self._mac("marker", kind, value)[:16].hex()

    def signature(self, kind: str, payload: str) -> str:
        """A signature of `payload` for `kind` (a console session, its CSRF token), 256 bits in url-safe text."""
        return base64.urlsafe_b64encode(self._mac("sign", kind, payload)).decode().rstrip("=")

    def signed(self, candidate: str, kind: str, payload: str) -> bool:
        """Whether `candidate` is this stack's signature of `payload` (constant time)."""
        return hmac.compare_digest(candidate.encode(errors="replace"), self.signature(kind, payload).encode())

    def _mac(self, *parts: str) -> bytes:
        return hmac.new(self._key().encode(), "\x1f".join(parts).encode(), hashlib.sha256).digest()


def username_marker(keyed: Keyed, username: str) -> str:
    """The marker of a Telegram @username, as a person types it (with or without @, in any case)."""
    return keyed.marker("username", username.strip().lstrip("@").lower())
