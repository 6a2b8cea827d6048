"""An imported member's points moving to the shopper who proved the phone, on in-memory adapters: every lot as
it was (pending stays pending, each expiry kept), the level if higher, once however often the command comes."""

from datetime import timedelta

from loyalty.contracts import MembersMerged
from loyalty.domain import postings
from loyalty.domain.ledger import OPENING_ENTRY, Kind
from loyalty.domain.wallet import audit
from tests.unit.flows.conftest import NOW, PROGRAM, World, shopper

IMPORTED = "phone:+79165550101"


def imported(world: World, points: int, level: str) -> None:
    world.books.join(IMPORTED, chat_id=None)
    world.books.apply(IMPORTED, OPENING_ENTRY, Kind.OPENING,
                      lambda wal: postings.opening(PROGRAM, wal, OPENING_ENTRY, points, NOW + timedelta(days=90),
                                                   level, NOW), now=NOW)


def test_the_imported_points_and_level_move_once_with_their_expiry(world: World) -> None:
    imported(world, 1200, "connoisseur")
    anna = world.join("501")  # 100 welcome points of her own
    moved = world.accrual.merge(MembersMerged(shopper=shopper(anna), source=IMPORTED), NOW + timedelta(days=1))
    assert moved.points == 1200
    assert (world.member(anna).available, world.member(anna).level) == (1300, "connoisseur")
    assert world.member(IMPORTED).available == 0
    lot = world.books.read(anna)[0].lots[f"{IMPORTED}/{OPENING_ENTRY}"]
    assert (lot.points, lot.expires_at) == (1200, NOW + timedelta(days=90))
    assert any("Перенесли 1200" in text for text in world.texts(anna))

    again = world.accrual.merge(MembersMerged(shopper=shopper(anna), source=IMPORTED), NOW + timedelta(days=2))
    assert not again.applied and world.member(anna).available == 1300  # a redelivery moves nothing more
    for member_id in (anna, IMPORTED):
        wallet, _, _ = world.books.read(member_id)
        assert audit(wallet.balance, wallet, [e.change for e in world.books.entries(member_id)]) == []


def test_a_lower_imported_level_never_lowers_the_member(world: World) -> None:
    imported(world, 10, "registered")
    bob = world.join("502")
    for _ in range(5):
        world.buy(bob)
    world.review(bob, "r1")
    assert world.member(bob).level == "connoisseur"
    world.accrual.merge(MembersMerged(shopper=shopper(bob), source=IMPORTED), NOW)
    assert world.member(bob).level == "connoisseur"


def test_the_crm_is_not_told_of_imported_points_it_has_from_its_own_import(world: World) -> None:
    imported(world, 1200, "connoisseur")
    anna = world.join("503")
    before = len(world.crm_queue.messages)
    world.accrual.merge(MembersMerged(shopper=shopper(anna), source=IMPORTED), NOW)
    assert len(world.crm_queue.messages) == before
