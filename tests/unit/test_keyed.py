"""Ids and markers keyed with the stack's secret (domain/keyed.py): stable for the stack, unforgeable without it."""

import hashlib

from loyalty.domain.codes import ALPHABET
from loyalty.domain.keyed import Keyed

ONE, OTHER = Keyed(lambda: "one stack's key"), Keyed(lambda: "another stack's key")


def test_an_id_is_stable_for_its_parts_readable_and_different_under_another_key() -> None:
    made = ONE.id("nudge", "7000001", "site", "7380440800000017:1:1")
    assert made == ONE.id("nudge", "7000001", "site", "7380440800000017:1:1") and len(made) == 10
    assert set(made) <= set(ALPHABET)
    assert made != OTHER.id("nudge", "7000001", "site", "7380440800000017:1:1")
    assert made != ONE.id("nudge", "7000001", "site", "7380440800000017:1:2")


def test_what_a_client_sends_back_is_accepted_only_if_this_stack_issued_it_for_those_parts() -> None:
    order = ONE.id("order", "7000001", "samples", "1001")
    assert ONE.issued(order, "order", "7000001", "samples", "1001")
    assert not ONE.issued(order, "order", "7000002", "samples", "1001")  # another member's
    assert not OTHER.issued(order, "order", "7000001", "samples", "1001")
    assert not ONE.issued("ЗАКАЗ", "order", "7000001", "samples", "1001")  # not even ASCII: refused, no error


def test_an_erasure_marker_is_not_a_bare_hash_anyone_could_recompute_from_a_telegram_id() -> None:
    marker = ONE.marker("member", "7000001")
    assert len(marker) == 32 and marker != OTHER.marker("member", "7000001")
    bare = {hashlib.sha256(text.encode()).hexdigest() for text in ("7000001", "loyalty-erased:7000001")}
    assert not any(candidate.startswith(marker) for candidate in bare)
    assert marker != ONE.marker("phone", "7000001")  # a phone's marker never matches an id's
