"""What the CRM is told, on in-memory adapters: one message per ledger entry, in order, keyed on the entry, so
the events of a member add up to their balance and a replay is the same message (which the FIFO queue drops)."""

from datetime import timedelta

from loyalty.contracts import CrmBatch, LevelChanged, PointsChanged, ReceiptRecorded
from loyalty.flows.redemption import CommitRequest, HoldRequest
from tests.unit.flows.conftest import CREAM, NOW, SERUM, World


def batches(world: World, member_id: str) -> list[CrmBatch]:
    return [message for message in world.crm_queue.messages if message.member_id == member_id]


def test_a_purchase_is_one_message_with_the_order_its_points_and_the_level_it_opened(world: World) -> None:
    ann = world.join("401")
    world.buy(ann, CREAM, SERUM, fiscal_key="7380440800000017:555:1")
    welcome, purchase = batches(world, ann)
    assert [event.type for event in welcome.events] == ["points_changed"]
    assert [event.type for event in purchase.events] == ["receipt_accepted", "points_changed", "level_changed"]
    order, points, level = purchase.events
    assert isinstance(order, ReceiptRecorded) and isinstance(points, PointsChanged)
    assert isinstance(level, LevelChanged)
    assert (order.fiscal_key, order.channel, order.brand_sum_kopecks) == ("7380440800000017:555:1", "wildberries",
                                                                         174_000)
    assert [(line.name, line.sum_kopecks) for line in order.lines] == [(CREAM.name, CREAM.sum_kopecks),
                                                                       (SERUM.name, SERUM.sum_kopecks)]
    assert order.points == points.points == world.member(ann).pending  # Wildberries' points wait for returns
    assert level.level_before != level.level == world.member(ann).level
    assert world.crm_queue.groups == [ann, ann]  # grouped by member: consumed in this order


def test_a_redelivered_purchase_puts_the_same_message_again_which_the_fifo_queue_drops(world: World) -> None:
    ann = world.join("402")
    world.buy(ann, fiscal_key="7380440800000017:556:1")
    before = list(world.crm_queue.messages)
    world.buy(ann, fiscal_key="7380440800000017:556:1")  # AccrualQueue redelivered it
    assert world.crm_queue.puts == len(before) + 1  # reported again: a report lost to a crash is made good …
    assert world.crm_queue.messages == before  # … and the queue takes it once


def test_every_balance_change_is_reported_and_the_events_add_up_to_the_balance(world: World) -> None:
    bea = world.join("403", phone="+79160000403")
    world.buy(bea, SERUM, channel="d2c")
    world.buy(bea, CREAM)  # pending for 14 days
    hold = world.redemption.hold(bea, "checkout-1", HoldRequest(order_id="site-1", points=150), NOW)
    world.redemption.commit(bea, "checkout-1", CommitRequest(order_id="site-1"), NOW)
    world.schedule.run(NOW + timedelta(days=15))  # the Wildberries points become available
    events = [event for batch in batches(world, bea) for event in batch.events if isinstance(event, PointsChanged)]
    member = world.member(bea)
    assert sum(event.points for event in events) == member.available + member.pending
    last = events[-1].balance_after
    assert (last.available, last.pending, last.held) == (member.available, member.pending, member.held)
    kinds = [event.kind for event in events]
    assert kinds == ["bonus", "accrual", "accrual", "hold", "commit", "activation"]
    assert hold.points == -events[3].points == events[3].change.held
    ids = [event.event_id for batch in world.crm_queue.messages for event in batch.events]
    assert len(ids) == len(set(ids))  # every event its own idempotency key
