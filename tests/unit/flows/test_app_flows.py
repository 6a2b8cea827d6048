"""The flows behind the HTTP API and the queues' far ends, on the fakes: a nudge's tracked link, the Mini App, a
reward's exchange (the last one taken once), and the CRM sync's answers to the CRM's."""

from datetime import timedelta

import pytest
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from loyalty.contracts import (
    BonusGranted,
    CampaignMessage,
    CrmBatch,
    PromoRequested,
    RewardRequested,
    Shopper,
)
from loyalty.domain.conversation import FollowUp
from loyalty.domain.errors import CrmRejected, CrmUnavailable
from loyalty.flows.crm_sync import CrmSync
from loyalty.flows.letters import CampaignLetters, Letters
from loyalty.flows.link_clicks import LinkClicks
from loyalty.flows.miniapp import MiniApp, NotAMember
from loyalty.flows.outcomes import RetryLater
from tests.conftest import present
from tests.fakes import STACK_KEY, MemoryCampaigns, MemoryCrm, MemoryDeadLetters
from tests.telegram_updates import contact_of
from tests.unit.flows.conftest import NOW, PROGRAM, shopper
from tests.unit.flows.test_bot_flow import BotWorld

NUDGE = PROGRAM.bot.nudges[0]


@pytest.fixture
def world() -> BotWorld:
    return BotWorld()


def test_a_nudges_link_counts_one_click_per_message_and_an_unknown_one_goes_to_the_site(world: BotWorld) -> None:
    campaigns = MemoryCampaigns()
    clicks = LinkClicks(PROGRAM, world.table, campaigns.figures, "https://lepestok.ru")
    world.table.schedule(FollowUp(id="NUDGE00001", member_id="901", kind="nudge", name=NUDGE.name, due_at=NOW))
    world.table.schedule(FollowUp(id="SURVEY0001", member_id="901", kind="survey", name="survey", due_at=NOW))
    assert clicks.follow("NUDGE00001") == clicks.follow("NUDGE00001") == NUDGE.link.url
    assert campaigns.figures.counters == {NUDGE.name: {"clicks": 1}}
    for unknown in ("NOSUCH0001", "SURVEY0001", "../../etc", "x" * 40):
        assert clicks.follow(unknown) == "https://lepestok.ru"
    assert campaigns.figures.counters == {NUDGE.name: {"clicks": 1}}


def test_a_campaign_messages_buttons_open_tracked_links_counted_once_per_message_then_their_own_pages(
        world: BotWorld) -> None:
    campaigns = MemoryCampaigns()
    letters = CampaignLetters(Letters(world.table, STACK_KEY), PROGRAM, "https://api.example")
    buttons = {"inline_keyboard": [[{"text": "Каталог", "url": "https://lepestok.ru/catalog"}],
                                   [{"text": "Акция", "url": "https://lepestok.ru/sale"}]]}
    letters.put(CampaignMessage(campaign="spring", touch="touch#904#spring:0:x", member_id="904", chat_id=904,
                                text="Весна", reply_markup=buttons, goal_days=5, queued_at=NOW))
    (letter,) = world.table.followups.values()
    sent = CampaignMessage.model_validate(letter.payload).reply_markup
    assert sent is not None
    links = [row[0]["url"] for row in sent["inline_keyboard"]]
    assert links == [f"https://api.example/go/{letter.id}-0", f"https://api.example/go/{letter.id}-1"]
    clicks = LinkClicks(PROGRAM, world.table, campaigns.figures, "https://lepestok.ru")
    opened = [clicks.follow(link.rsplit("/", 1)[1]) for link in (*links, links[0])]
    assert opened == ["https://lepestok.ru/catalog", "https://lepestok.ru/sale", "https://lepestok.ru/catalog"]
    assert campaigns.figures.counters == {"spring": {"clicks": 1}}  # once per message, whichever button
    assert clicks.follow(f"{letter.id}-2") == clicks.follow(f"{letter.id}-x") == "https://lepestok.ru"


def app_of(world: BotWorld) -> MiniApp:
    return MiniApp(PROGRAM, world.books, world.books, world.table, world.accrual_queue, STACK_KEY)


def test_the_mini_app_shows_a_member_their_points_level_rewards_and_invitation(world: BotWorld) -> None:
    world.joins(902, "+7 916 000-09-02")
    world.settle_points()
    me = app_of(world).me("902", NOW)
    assert (me.available, me.brand, me.level.id) == (PROGRAM.bonuses.welcome, PROGRAM.brand.name,
                                                     PROGRAM.levels[0].id)
    assert me.invite_link.endswith(f"start=ref_{world.table.invite_code('902')}")
    assert [reward.id for reward in me.rewards] == [reward.id for reward in PROGRAM.bot.rewards]
    assert len(me.history) == 1


def test_the_mini_app_is_for_members_with_a_phone_and_a_repeated_tap_orders_once(world: BotWorld) -> None:
    app = app_of(world)
    world.says(903, "/start")
    with pytest.raises(NotAMember):
        app.me("903", NOW)
    world.says(903, contact=contact_of(903))
    world.accrual_queue.messages.clear()
    first, again = app.exchange("903", "samples", "tap-1"), app.exchange("903", "samples", "tap-1")
    assert first == again and first["status"] == "queued"
    requests = [message for message in world.accrual_queue.messages if isinstance(message, RewardRequested)]
    assert {request.order_id for request in requests} == {first["order"]}  # one order, however many taps
    with pytest.raises(KeyError):
        app.exchange("903", "no-such-reward", "tap-2")
    app.promo("903", 300, "tap-3")
    assert isinstance(world.accrual_queue.messages[-1], PromoRequested)


def rich(world: BotWorld, user_id: int, points: int) -> Shopper:
    world.joins(user_id, f"+7 916 000-{user_id // 100:02d}-{user_id % 100:02d}")
    world.settle_points()
    world.accrual.bonus(BonusGranted(shopper=shopper(str(user_id)), bonus="review", reference=f"gift:{user_id}"), NOW)
    wallet = world.books.accounts[str(user_id)].wallet
    assert wallet.balance.available >= points
    return shopper(str(user_id))


def test_a_reward_is_exchanged_once_and_the_last_one_goes_to_one_member_only(world: BotWorld) -> None:
    last_one = PROGRAM.bot.rewards[0].model_copy(update={"stock": 1, "points": 10})
    bot = PROGRAM.bot.model_copy(update={"rewards": [last_one, *PROGRAM.bot.rewards[1:]]})
    rewards = present(world.accrual.rewards)
    rewards.program = PROGRAM.model_copy(update={"bot": bot})
    first, second = rich(world, 904, 10), rich(world, 905, 10)
    exchange = rewards.exchange
    assert exchange(RewardRequested(shopper=first, reward_id="samples", order_id="ORDER00001"), NOW) == "ordered"
    assert exchange(RewardRequested(shopper=first, reward_id="samples", order_id="ORDER00001"), NOW) == "ordered"
    assert world.table.stock_left("samples", 1) == 0
    assert exchange(RewardRequested(shopper=second, reward_id="samples", order_id="ORDER00002"), NOW) == "out_of_stock"
    assert world.books.entry("905", "hold#reward:ORDER00002") is None  # refused before holding anything
    # A race: the second member read the stock before the first took the last one. The commit's stock item is
    # refused in its transaction, and the hold is released: their points come back.
    setattr(world.table, "stock_left", lambda reward_id, initial: initial)  # noqa: B010 (a method swapped)
    assert exchange(RewardRequested(shopper=second, reward_id="samples", order_id="ORDER00005"), NOW) == "out_of_stock"
    assert [entry.kind.value for entry in world.books.entries("905")][-2:] == ["hold", "release"]
    assert present(world.books.get("905")).held == 0 and world.table.taken == {"samples": 1}
    assert present(world.table.ticket("ORDER00001")).kind == "reward"
    assert sum(1 for entry in world.books.entries("904") if entry.kind.value == "commit") == 1


def test_a_reward_above_the_members_level_or_points_is_refused_and_holds_nothing(world: BotWorld) -> None:
    member = rich(world, 906, 0)
    exchange = present(world.accrual.rewards).exchange
    assert exchange(RewardRequested(shopper=member, reward_id="tote", order_id="ORDER00003"), NOW) == "level_needed"
    assert exchange(RewardRequested(shopper=member, reward_id="samples", order_id="ORDER00004"),
                    NOW + timedelta(minutes=1)) == "too_few"
    assert present(world.books.get("906")).held == 0


def crm_batches(world: BotWorld) -> list[SQSRecord]:
    world.joins(907, "+7 916 000-09-07")
    return [SQSRecord({"messageId": "m", "body": batch.model_dump_json()}) for batch in world.crm.messages]


def test_crm_sync_delivers_each_event_retries_an_outage_and_parks_a_refusal(world: BotWorld) -> None:
    (record,) = crm_batches(world)
    crm, parked = MemoryCrm(), MemoryDeadLetters()
    sync = CrmSync(crm, parked, world.books)
    crm.failures.append(CrmUnavailable("HTTP 503", retry_after_seconds=30))
    with pytest.raises(RetryLater) as retry:
        sync.handle_record(record)
    assert retry.value.delay_seconds == 30 and crm.events == []
    sync.handle_record(record)
    assert [event.type for event in crm.events] == ["member_registered"]
    crm.failures.append(CrmRejected("HTTP 400", '{"status": "ValidationError"}'))
    sync.handle_record(record)
    ((body, reason, context),) = parked.parked
    assert reason.startswith("HTTP 400") and context["event_type"] == "member_registered"
    assert CrmBatch.model_validate_json(body).key.startswith("parked:")


def test_a_member_whose_registration_the_crm_refused_once_is_registered_from_our_data_with_their_next_event(
        world: BotWorld) -> None:
    """Not stranded: the next event finds the member unknown there, registers them as they are now (the phone, the
    source), then goes through; nothing more is parked, and an erased member's stray event registers nobody."""
    (joined,) = crm_batches(world)
    crm, parked = MemoryCrm(), MemoryDeadLetters()
    sync = CrmSync(crm, parked, world.books)
    crm.failures.append(CrmRejected("Mindbox: ValidationError (/customer/mobilePhone: Invalid)", "{}"))
    sync.handle_record(joined)
    assert crm.customers == {} and len(parked.parked) == 1  # the refusal itself is parked, once
    world.says(907, "/stop")  # the member's next event: no more offers
    for batch in world.crm.messages[1:]:
        sync.handle_record(SQSRecord({"messageId": "m", "body": batch.model_dump_json()}))
    assert crm.customers["907"]["phone"] == "+79160000907" and len(parked.parked) == 1
    assert [event.type for event in crm.events] == ["member_registered", "unsubscribed"]
    world.taps(907, "delete:yes")
    world.settle_points()
    crm.customers.clear()  # the CRM lost them before the deletion arrived
    sync.handle_record(SQSRecord({"messageId": "m", "body": world.crm.messages[-1].model_dump_json()}))
    assert world.crm.messages[-1].events[0].type == "deleted"
    assert crm.customers == {} and len(parked.parked) == 1  # nobody registered again, nothing more parked


def test_a_program_without_a_crm_drops_its_events_and_queues_none(world: BotWorld) -> None:
    crm_batches(world)
    parked = MemoryDeadLetters()
    first = SQSRecord({"messageId": "m", "body": world.crm.messages[0].model_dump_json()})
    CrmSync(None, parked, world.books).handle_record(first)
    assert parked.parked == []  # dropped, not parked: there is nowhere it could ever go
    quiet = BotWorld()
    quiet.bot.joining.crm = quiet.bot.account.crm = None
    quiet.joins(908)
    assert quiet.crm.messages == []
