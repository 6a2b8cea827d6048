"""The stack's key: what ids outsiders must not forge, and erasure markers, are keyed with (read once per container)."""

from __future__ import annotations

from functools import cache

from loyalty.adapters.secrets import secret
from loyalty.domain.keyed import Keyed


def stack_key(secret_name: str) -> Keyed:
    """Ids and markers keyed with the stack's secret (read once per container, when the first one is made)."""
    return Keyed(cache(lambda: secret(secret_name)))
