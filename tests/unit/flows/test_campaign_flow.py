"""Campaign runs on in-memory adapters, day by day: the shipped ladder, its bonuses, its daytime hours, the
segment it keeps to, a broadcast, and the double-points offer — the rules, in milliseconds (tests/e2e proves
the queues, the paced sender and Telegram's answers)."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from loyalty.contracts import PurchaseLine
from loyalty.domain.campaign_results import results
from loyalty.domain.campaigns import Campaign, held_out
from loyalty.domain.program import Program
from tests.conftest import present
from tests.unit.flows.conftest import NOW, PROGRAM, SERUM, World

NOON = datetime(2026, 11, 23, 9, tzinfo=UTC)  # 12:00 Moscow
NICE_CREAM = PurchaseLine(name="Лепесток крем для рук 50 мл", sum_kopecks=110_000)


def days_of_runs(world: World, member_id: str, days: int, start: datetime = NOON) -> dict[int, str]:
    """Run the points schedule and the campaigns at noon every day; the campaign messages, by day."""
    sent = {}
    for day in range(1, days + 1):
        moment = start + timedelta(days=day)
        world.schedule.run(moment)
        before = len(world.campaign_texts(member_id))
        world.campaign_runs.run(moment)
        for text in world.campaign_texts(member_id)[before:]:
            sent[day] = text
    return sent


def test_the_ladder_sends_at_30_60_and_90_days_once_each_and_its_bonus_lives_7_days(world: World) -> None:
    anna = world.join("401")
    world.buy(anna, channel="d2c", now=NOON, purchased_at=NOON)  # 145 available
    sent = days_of_runs(world, anna, 120)
    assert list(sent) == [30, 60, 90]
    assert sent[30].startswith("Давно не виделись! На вашем счёте 145 баллов")
    assert sent[60].startswith("Дарим вам 150 баллов! Они сгорят через 7 дней")
    assert sent[90].startswith("Мы очень скучаем: +300 баллов, только 7 дней")
    bonuses = [entry for entry in world.books.entries(anna) if entry.entry_id.startswith("campaign#")]
    assert [(entry.points, entry.details.campaign) for entry in bonuses] == [(150, "winback"), (300, "winback")]
    expired = sorted(entry.details.expired for entry in world.books.entries(anna) if entry.kind == "expiry")
    assert expired == [150, 300] and world.member(anna).available == 145  # each a week after it came
    assert world.campaigns.stats("winback") | {"points_spent": 0} == {
        "audience": 3, "delivered": 0, "blocked": 0, "converted": 0, "revenue_kopecks": 0, "points_given": 450,
        "points_spent": 0, "clicks": 0, "held": 0, "merged": 0, "dropped": 0, "stopped": 0,
        "held_out": 0, "holdout_converted": 0, "holdout_revenue_kopecks": 0,
        "budget_used": 0, "over_budget": 0, "skipped": 0}


def test_a_purchase_stops_the_ladder_and_the_next_lapse_climbs_it_again(world: World) -> None:
    boris = world.join("402")
    world.buy(boris, channel="d2c", now=NOON, purchased_at=NOON)
    assert list(days_of_runs(world, boris, 45)) == [30]
    world.buy(boris, channel="d2c", now=NOON + timedelta(days=45, hours=2),
              purchased_at=NOON + timedelta(days=45, hours=2))
    assert list(days_of_runs(world, boris, 40, start=NOON + timedelta(days=45))) == [31]  # 30 days after it


def test_a_win_back_run_at_night_reaches_nobody_and_the_mornings_run_reaches_them(world: World) -> None:
    vera = world.join("403")
    world.buy(vera, channel="d2c", now=NOON, purchased_at=NOON)
    world.campaign_runs.run(NOON + timedelta(days=29))
    night = NOON + timedelta(days=30, hours=13)  # 01:00 Moscow
    assert world.campaign_runs.run(night) == {} and world.campaign_texts(vera) == []
    assert world.campaign_runs.run(night + timedelta(hours=9)) == {"winback": 1}  # 10:00


def test_a_member_who_blocked_the_bot_is_passed_by_and_a_dry_run_names_who_a_run_reaches(world: World) -> None:
    gleb, dina = world.join("404"), world.join("405")
    for member in (gleb, dina):
        world.buy(member, channel="d2c", now=NOON, purchased_at=NOON)
    world.books.unsubscribe(dina)
    winback = PROGRAM.campaign("winback")
    world.campaign_runs.run(NOON + timedelta(days=29))
    moment = NOON + timedelta(days=30, hours=1)
    assert [touch.member_id for touch, _ in world.campaign_runs.select(present(winback), moment)] == [gleb]
    assert world.campaign_texts(gleb) == [] and world.campaign_runs.run(moment) == {"winback": 1}
    assert world.campaign_runs.run(moment + timedelta(hours=1)) == {"winback": 0}  # a repeated run: nobody twice
    assert world.campaign_texts(dina) == []


def test_a_member_who_blocked_the_bot_keeps_no_bonus_from_a_message_that_could_not_reach_them(world: World) -> None:
    """Telegram tells the bot of a block only when a message bounces (403): the bonus the run paid for that message
    is taken back, once, and what the member had before stays."""
    from loyalty.contracts import CampaignBonusWithdrawn, CampaignMessage
    from loyalty.flows.campaign_sender import CampaignSender
    from loyalty.flows.crm_feed import CrmFeed
    from tests.fakes import MemoryOnce, MemoryPace, MemoryTelegram
    from tests.unit.flows.test_senders_flow import record

    zoya = world.join("406")
    world.buy(zoya, channel="d2c", now=NOON, purchased_at=NOON)
    telegram = MemoryTelegram()
    telegram.open(406)
    sender = CampaignSender(telegram, MemoryOnce("message", lambda message: message.touch), MemoryPace(),
                            world.campaigns, world.books, world.accrual_queue, CrmFeed(world.crm_queue))

    def deliver() -> None:
        for message in world.campaign_queue.messages:
            assert isinstance(message, CampaignMessage)
            sender.handle_record(record(message))

    days_of_runs(world, zoya, 31)  # the first step, no bonus: delivered
    deliver()
    telegram.blocked.add(406)
    days_of_runs(world, zoya, 30, start=NOON + timedelta(days=31))  # the second: 150 points, to a blocked chat
    assert world.member(zoya).available == 145 + 150
    deliver()
    withdrawals = [command for command in world.accrual_queue.messages if isinstance(command, CampaignBonusWithdrawn)]
    assert len(withdrawals) == 2  # the bonus's message, and the reminder that it expires; only the first paid one
    for command in withdrawals * 2:  # redelivered: still once
        world.accrual.withdraw(command, NOON + timedelta(days=62))
    assert world.member(zoya).available == 145
    assert days_of_runs(world, zoya, 60, start=NOON + timedelta(days=62)) == {}  # unsubscribed: no third step
    taken = [entry for entry in world.books.entries(zoya) if entry.kind == "campaign_withdrawal"]
    assert [(entry.points, entry.details.campaign) for entry in taken] == [(-150, "winback")]
    assert not world.member(zoya).subscribed


def test_a_broadcast_goes_out_once_at_its_moment_to_its_segment() -> None:
    at = NOON + timedelta(days=3)
    document = PROGRAM.model_dump(mode="json", by_alias=True, exclude_none=True)
    document["campaigns"].append({"name": "news", "kind": "broadcast", "segment": "reachable", "at": at.isoformat(),
                                  "messages": {"ru": {"text": "Новинка: {brand} — сыворотка с витамином C."}}})
    world = World(Program.model_validate(document))
    members = [world.join(str(410 + n)) for n in range(3)]
    world.books.unsubscribe(members[2])
    assert "news" not in world.campaign_runs.run(at - timedelta(minutes=1))
    assert world.campaign_runs.run(at)["news"] == 2
    assert "news" not in world.campaign_runs.run(at + timedelta(days=1))  # once
    assert [world.campaign_texts(member) for member in members] == [
        ["Новинка: Лепесток — сыворотка с витамином C."]] * 2 + [[]]


def test_regulars_entering_the_segment_are_offered_double_points_once_and_earn_them_on_one_receipt(
        world: World) -> None:
    cora = world.join("420")
    for n in range(6):
        world.buy(cora, NICE_CREAM, channel="d2c", now=NOW + timedelta(minutes=n))
    assert world.campaign_texts(cora) == [
        "Вы наш постоянный покупатель! Купите на 1500 ₽ в ближайшие 5 дней — начислим двойные баллы."]
    assert world.buy(cora, NICE_CREAM, channel="d2c").details.credited == 110  # under 1,500 RUB
    doubled = world.buy(cora, SERUM, SERUM, channel="d2c")  # 2,580 RUB of face care: 1.5 x 10% x 2
    assert (doubled.details.credited, doubled.details.campaign) == (774, "double_points")
    assert world.buy(cora, SERUM, SERUM, channel="d2c").details.credited == 387  # the offer paid once
    assert len(world.campaign_texts(cora)) == 1  # still in the segment: not offered again
    late = World()
    late.join("421")
    for n in range(6):
        late.buy("421", NICE_CREAM, channel="d2c", now=NOW + timedelta(minutes=n))
    assert late.buy("421", SERUM, SERUM, channel="d2c", now=NOW + timedelta(days=6)).details.credited == 387  # expired


def test_a_broadcasts_holdout_gets_nothing_and_its_purchases_count_apart_as_the_campaigns_baseline() -> None:
    at = NOON + timedelta(days=3)
    document = PROGRAM.model_dump(mode="json", by_alias=True, exclude_none=True)
    document["campaigns"].append({"name": "gift", "kind": "broadcast", "at": at.isoformat(), "holdout_percent": 50,
                                  "bonus": {"points": 100, "expires_in_days": 7}, "goal": {"within_days": 5},
                                  "messages": {"ru": {"text": "Дарим {points} баллов"}}})
    program = Program.model_validate(document)
    world = World(program)
    members = [world.join(str(430 + n)) for n in range(20)]
    assert world.campaign_runs.run(at)["gift"] == sum(not held_out(present(program.campaign("gift")), m)
                                                      for m in members)
    kept = [m for m in members if held_out(present(program.campaign("gift")), m)]
    assert 3 <= len(kept) <= 17
    for member in kept:  # no message, no bonus; their last touch is the held-out one
        assert world.campaign_texts(member) == []
        assert not any(entry.entry_id.startswith("campaign#") for entry in world.books.entries(member))
        assert present(world.member(member).last_touch)["held_out"] is True
    sent = [m for m in members if m not in kept]
    for message in world.campaign_queue.messages:  # the sender delivers the others' messages
        world.campaigns.settle(message.campaign, message.touch, "delivered", at, also=[world.books.touched_item(
            message.member_id, {"campaign": "gift", "key": message.touch, "delivered_at": at.isoformat(),
                                "until": (at + timedelta(days=5)).isoformat()})])
    for member in [*kept[:2], *sent[:3]]:
        world.buy(member, channel="d2c", now=at + timedelta(days=1), purchased_at=at + timedelta(days=1))
    world.buy(kept[2], channel="d2c", now=at + timedelta(days=6), purchased_at=at + timedelta(days=6))  # too late
    stats = world.campaigns.stats("gift")
    assert (stats["audience"], stats["held_out"], stats["points_given"]) == (20, len(kept), 100 * len(sent))
    assert (stats["converted"], stats["holdout_converted"]) == (3, 2)
    assert stats["revenue_kopecks"] > 0 and stats["holdout_revenue_kopecks"] > 0


def with_campaign(campaign: dict[str, Any]) -> World:
    document = PROGRAM.model_dump(mode="json", by_alias=True, exclude_none=True)
    document["campaigns"].append(campaign)
    return World(Program.model_validate(document))


def test_a_budget_spent_mid_send_gives_no_more_bonuses_and_sends_no_message_that_promises_one() -> None:
    at = NOON + timedelta(days=3)
    world = with_campaign({"name": "gift", "kind": "broadcast", "at": at.isoformat(),
                           "bonus": {"points": 100, "expires_in_days": 7}, "budget": {"total_points": 250},
                           "messages": {"ru": {"text": "Дарим {points} баллов"}}})
    members = [world.join(str(440 + n)) for n in range(5)]
    assert world.campaign_runs.run(at)["gift"] == 2  # 250 points pay two bonuses of 100
    paid = [m for m in members if any(e.entry_id.startswith("campaign#") for e in world.books.entries(m))]
    assert len(paid) == 2 and all(world.campaign_texts(m) == ["Дарим 100 баллов"] for m in paid)
    assert all(world.campaign_texts(m) == [] for m in members if m not in paid)  # no message without its bonus
    stats = world.campaigns.stats("gift")
    assert (stats["points_given"], stats["budget_used"], stats["over_budget"]) == (200, 200, 3)


def test_a_ladders_budget_per_member_stops_a_members_bonuses_at_their_share() -> None:
    world = with_campaign({"name": "ladder", "kind": "winback", "budget": {"per_member_points": 200},
                           "steps": [{"after_days": 10, "bonus": {"points": 150, "expires_in_days": 7},
                                      "messages": {"ru": {"text": "+{points}"}}},
                                     {"after_days": 20, "bonus": {"points": 100, "expires_in_days": 7},
                                      "messages": {"ru": {"text": "+{points} ещё"}}}]})
    anna = world.join("450")
    world.buy(anna, channel="d2c", now=NOON, purchased_at=NOON)
    sent = days_of_runs(world, anna, 25)
    assert "+150" in sent.values() and "+100 ещё" not in sent.values()  # 150 + 100 is over her 200
    assert world.campaigns.stats("ladder")["over_budget"] == 1


def test_a_multipliers_points_count_against_its_budget_capped_per_member_and_once_per_receipt() -> None:
    at = NOON + timedelta(days=3)
    world = with_campaign({"name": "double", "kind": "broadcast", "at": at.isoformat(), "goal": {"within_days": 5},
                           "bonus": {"multiplier": 2, "days": 5}, "budget": {"total_points": 100,
                                                                            "per_member_points": 50},
                           "messages": {"ru": {"text": "Двойные баллы"}}})
    vera, gleb = world.join("460"), world.join("461")
    world.campaign_runs.run(at)
    # 2 serums: 2,580 ₽ of face care at 1.5 × 10% = 387 points; doubled, 774: the extra 387 capped at her 50
    key = "7380440800000017:460:1"
    assert world.buy(vera, SERUM, SERUM, channel="d2c", now=at + timedelta(days=1), fiscal_key=key).details.credited \
        == 387 + 50
    assert world.campaigns.boosted("double", key, 50, at) is False  # the receipt's boost was counted once
    assert world.buy(gleb, SERUM, SERUM, channel="d2c", now=at + timedelta(days=1)).details.credited == 437
    stats = world.campaigns.stats("double")
    assert (stats["points_given"], stats["budget_used"]) == (100, 100)
    late = world.join("462")  # joined after the budget was spent: a later run offers them nothing
    world.campaigns.cursors.pop("double")
    assert world.campaign_runs.run(at + timedelta(days=2))["double"] == 0
    assert world.campaign_texts(late) == [] and world.campaigns.stats("double")["over_budget"] == 1


def test_variants_keep_each_member_in_one_by_their_id_and_the_results_compare_them() -> None:
    at = NOON + timedelta(days=3)
    world = with_campaign({"name": "ab", "kind": "broadcast", "at": at.isoformat(), "goal": {"within_days": 5},
                           "messages": {"ru": {"text": "Новинка"}},
                           "variants": [{"label": "А"}, {"label": "Б", "messages": {"ru": {"text": "Новинка, −10%"}}},
                                        {"label": "В", "bonus": {"points": 50, "expires_in_days": 7}}]})
    ab = present(world.campaign_runs.program.campaign("ab"))
    members = [world.join(str(500 + n)) for n in range(60)]
    world.campaign_runs.run(at)
    by_variant = {index: [m for m in members if ab.variant_of(m) == index] for index in range(3)}
    assert all(8 <= len(group) <= 32 for group in by_variant.values())  # about a third each
    assert all(world.campaign_texts(m) == ["Новинка"] for m in by_variant[0] + by_variant[2])
    assert all(world.campaign_texts(m) == ["Новинка, −10%"] for m in by_variant[1])
    assert all(any(e.entry_id.startswith("campaign#") for e in world.books.entries(m)) == (m in by_variant[2])
               for m in members)  # only В's bonus
    assert all(ab.variant_of(m) == index for index, group in by_variant.items() for m in group)  # sticky
    for message in world.campaign_queue.messages:
        world.campaigns.settle(message.campaign, message.touch, "delivered", at, also=[world.books.touched_item(
            message.member_id, {"campaign": "ab", "key": message.touch, "delivered_at": at.isoformat(),
                                "until": (at + timedelta(days=5)).isoformat()})])
    for member in by_variant[1][:3] + by_variant[2][:1]:
        world.buy(member, channel="d2c", now=at + timedelta(days=1), purchased_at=at + timedelta(days=1))
    page = results(world.campaigns.stats("ab"), world.campaigns.touches("ab"), 5, None, ["А", "Б", "В"])
    assert [(v.label, v.delivered, v.converted) for v in page.variants] == [
        ("А", len(by_variant[0]), 0), ("Б", len(by_variant[1]), 3), ("В", len(by_variant[2]), 1)]


def test_variants_are_for_a_broadcast_or_an_offer_two_or_three_of_them() -> None:
    base = {"name": "ab", "kind": "broadcast", "at": NOON.isoformat(), "messages": {"ru": {"text": "Новинка"}}}
    with pytest.raises(ValueError, match="variants: a broadcast or a triggered campaign may have 2 or 3"):
        Campaign.model_validate({**base, "variants": [{"label": "А"}]})
    with pytest.raises(ValueError, match="variants: a broadcast or a triggered campaign may have 2 or 3"):
        Campaign.model_validate({"name": "ladder", "kind": "winback", "variants": [{"label": "А"}, {"label": "Б"}],
                                 "steps": [{"after_days": 30, "messages": {"ru": {"text": "Ждём"}}}]})
    with pytest.raises(ValueError, match="a variant's messages need ru"):
        Campaign.model_validate({**base, "variants": [{"label": "А"},
                                                      {"label": "Б", "messages": {"en": {"text": "New"}}}]})


def test_a_broadcast_greets_each_member_by_name_and_their_last_product_or_says_the_fallback() -> None:
    at = NOON + timedelta(days=3)
    world = with_campaign({"name": "hello", "kind": "broadcast", "at": at.isoformat(), "messages": {"ru": {
        "text": "{first_name:Друг}, «{last_product:наша новинка}» снова в наличии. Уровень: {level:первый}."}}})
    anna, guest = world.join("470"), world.join("471")
    world.books.note_name(anna, "Анна")
    world.buy(anna, SERUM, NICE_CREAM, channel="d2c", now=NOON, purchased_at=NOON)
    world.campaign_runs.run(at)
    assert world.campaign_texts(anna) == [
        "Анна, «Лепесток сыворотка для лица 30 мл» снова в наличии. Уровень: Подруга."]  # 2,390 ₽ raised her
    assert world.campaign_texts(guest) == ["Друг, «наша новинка» снова в наличии. Уровень: Знакомство."]
