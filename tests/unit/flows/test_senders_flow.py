"""The two senders (flows/outbox.py, flows/campaign_sender.py) on the fakes: each message once, Telegram's every
answer turned into what the queue does next, and a campaign's delivery counted and attributed once."""


import pytest
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from loyalty.contracts import CampaignMessage, OutboundMessage
from loyalty.domain.campaigns import Touch, touch_key
from loyalty.domain.errors import RateLimited, TelegramUnavailable
from loyalty.flows.campaign_sender import CampaignSender
from loyalty.flows.crm_feed import CrmFeed
from loyalty.flows.outbox import TelegramSender
from loyalty.flows.outcomes import Deferred, PermanentFailure, RetryLater
from tests.conftest import present
from tests.fakes import (
    MemoryBooks,
    MemoryCampaigns,
    MemoryFifoQueue,
    MemoryOnce,
    MemoryPace,
    MemoryQueue,
    MemorySentMessages,
    MemoryTelegram,
)
from tests.unit.flows.conftest import NOW, PROGRAM


def record(message: CampaignMessage | OutboundMessage) -> SQSRecord:
    return SQSRecord({"messageId": "m-1", "body": message.model_dump_json()})


@pytest.fixture
def telegram() -> MemoryTelegram:
    bot = MemoryTelegram()
    bot.open(701)
    return bot


@pytest.fixture
def outbox(telegram: MemoryTelegram) -> tuple[TelegramSender, MemoryPace]:
    pace = MemoryPace()
    sender = TelegramSender(telegram, MemorySentMessages(), pace)
    return sender, pace


def test_a_message_redelivered_is_sent_once_at_the_pace(outbox: tuple[TelegramSender, MemoryPace],
                                                        telegram: MemoryTelegram) -> None:
    sender, pace = outbox
    message = OutboundMessage(dedupe_key="receipt:1", chat_id=701, text="+45 баллов",
                              reply_markup={"inline_keyboard": [[{"text": "Баланс", "callback_data": "b"}]]})
    for _ in range(3):  # SQS hands it over again (a batch cut short), or its producer queues it again
        sender.handle_record(record(message))
    assert telegram.texts(701) == ["+45 баллов"] and pace.granted == 1
    assert present(telegram.chats[701][0].reply_markup)["inline_keyboard"][0][0]["text"] == "Баланс"


def test_html_goes_with_its_parse_mode_and_a_screenshot_as_a_photo(outbox: tuple[TelegramSender, MemoryPace],
                                                                   telegram: MemoryTelegram) -> None:
    sender, _ = outbox
    telegram.files["photo-9"] = b"jpeg"
    sender.handle_record(record(OutboundMessage(dedupe_key="a", chat_id=701, text="<b>45</b>", html=True)))
    sender.handle_record(record(OutboundMessage(dedupe_key="b", chat_id=701, text="Отзыв", photo="photo-9")))
    first, second = telegram.chats[701]
    assert (first.parse_mode, second.photo, second.text) == ("HTML", "photo-9", "Отзыв")


def test_telegrams_refusals_become_what_the_queue_does_next(outbox: tuple[TelegramSender, MemoryPace],
                                                            telegram: MemoryTelegram) -> None:
    sender, _ = outbox
    telegram.fail(701, RateLimited("Too Many Requests", 7))
    with pytest.raises(Deferred) as deferred:
        sender.handle_record(record(OutboundMessage(dedupe_key="r", chat_id=701, text="потом")))
    assert deferred.value.delay_seconds == 7
    telegram.fail(701, TelegramUnavailable("Bad Gateway"))
    with pytest.raises(RetryLater):
        sender.handle_record(record(OutboundMessage(dedupe_key="r", chat_id=701, text="потом")))
    sender.handle_record(record(OutboundMessage(dedupe_key="r", chat_id=701, text="потом")))  # the retry: sent once
    assert telegram.texts(701) == ["потом"]
    with pytest.raises(PermanentFailure, match="message text is empty"):
        sender.handle_record(record(OutboundMessage(dedupe_key="e", chat_id=701, text="  ")))
    telegram.blocked.add(701)
    sender.handle_record(record(OutboundMessage(dedupe_key="x", chat_id=701, text="вы здесь?")))  # dropped, no error
    assert telegram.texts(701) == ["потом"]


def test_a_malformed_outbox_message_can_never_succeed(outbox: tuple[TelegramSender, MemoryPace]) -> None:
    sender, _ = outbox
    with pytest.raises(PermanentFailure, match="malformed OutboundMessage"):
        sender.handle_record(SQSRecord({"messageId": "m", "body": '{"chat_id": "x"}'}))


class Campaign:
    def __init__(self, telegram: MemoryTelegram) -> None:
        self.books, self.store, self.crm = MemoryBooks(PROGRAM), MemoryCampaigns(), MemoryFifoQueue()
        self.telegram = telegram
        self.sender = CampaignSender(telegram, MemoryOnce("message", lambda message: message.touch), MemoryPace(),
                                     self.store, self.books, MemoryQueue(), CrmFeed(self.crm))

    def queued(self, member_id: str, goal_days: int = 14) -> CampaignMessage:
        touch = Touch(campaign="winback", step=1, member_id=member_id, key=f"winback:1:{member_id}")
        self.store.record(touch, 0, NOW)
        return CampaignMessage(campaign="winback", touch=touch_key(touch), member_id=member_id,
                               chat_id=int(member_id), text="Мы скучаем", goal_days=goal_days)


def test_a_delivered_campaign_message_is_counted_and_attributed_once(telegram: MemoryTelegram) -> None:
    campaign = Campaign(telegram)
    campaign.books.join("701")
    message = campaign.queued("701")
    campaign.sender.handle_record(record(message))
    campaign.sender.handle_record(record(message))
    assert telegram.texts(701) == ["Мы скучаем"] and campaign.store.stats("winback")["delivered"] == 1
    last = present(campaign.books.get("701")).last_touch
    assert (present(last)["campaign"], present(last)["key"]) == ("winback", message.touch)


def test_a_blocked_chat_unsubscribes_the_member_and_tells_the_crm(telegram: MemoryTelegram) -> None:
    campaign = Campaign(telegram)
    campaign.books.join("701")
    telegram.blocked.add(701)
    campaign.sender.handle_record(record(campaign.queued("701")))
    assert not present(campaign.books.get("701")).subscribed and campaign.store.stats("winback")["blocked"] == 1
    assert [event.type for batch in campaign.crm.messages for event in batch.events] == ["unsubscribed"]


def test_a_campaign_message_to_a_member_erased_meanwhile_is_counted_and_marks_nobody(telegram: MemoryTelegram) -> None:
    campaign = Campaign(telegram)
    message = campaign.queued("701")  # no such member any more
    campaign.sender.handle_record(record(message))
    assert campaign.store.stats("winback")["delivered"] == 1 and campaign.books.get("701") is None
    telegram.blocked.add(701)
    campaign.sender.handle_record(record(campaign.queued("702").model_copy(update={"chat_id": 701})))
    assert campaign.crm.messages == []  # nobody to unsubscribe: nothing told


def test_a_rate_limited_campaign_message_waits_telegrams_retry_after(telegram: MemoryTelegram) -> None:
    campaign = Campaign(telegram)
    telegram.fail(701, RateLimited("Too Many Requests", 4))
    with pytest.raises(Deferred) as deferred:
        campaign.sender.handle_record(record(campaign.queued("701")))
    assert deferred.value.delay_seconds == 4 and campaign.store.stats("winback")["delivered"] == 0
