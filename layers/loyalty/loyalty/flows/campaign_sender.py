"""Deliver campaign messages, each once, at the campaigns' pace — below Telegram's limit, so that the
transactional outbox always has room — honouring Telegram's answers.

429 comes back after `retry_after`; a member who blocked the bot (403) is marked unsubscribed (no campaign
reaches them again), the touch counted as blocked and its bonus taken back (the accrual flow's `withdraw`); a
message Telegram rejects (400) is dead-lettered.
A delivered message becomes the member's last touch, which a purchase within its goal converts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from loyalty import clock
from loyalty.contracts import CampaignBonusWithdrawn, CampaignMessage
from loyalty.domain import chat_limits
from loyalty.domain.campaigns import LastTouch
from loyalty.domain.errors import ChatBlocked, MessageRejected, RateLimited, TelegramUnavailable
from loyalty.flows.outcomes import Deferred, PermanentFailure, RetryLater, parse_body
from loyalty.observability import logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    from loyalty.flows.crm_feed import CrmFeed
    from loyalty.flows.ports import CampaignRecords, Members, MessageSink, Once, Pacer, Queue


class CampaignSender:
    def __init__(self, bot: MessageSink, once: Once, pace: Pacer, store: CampaignRecords,
                 members: Members, accrual_queue: Queue, crm: CrmFeed | None = None,
                 stopped: Callable[[str, datetime], bool] | None = None):
        self.bot = bot
        self.accrual_queue = accrual_queue
        self.crm = crm
        self.send_once = once(self._send)  # once per touch
        self.idempotency = once.config
        self.pace = pace
        self.store = store
        self.members = members
        self.stopped = stopped  # whether the console stopped a campaign: its messages still queued are dropped

    def handle_record(self, record: SQSRecord) -> None:
        self.send_once(message=parse_body(record, CampaignMessage))

    def _send(self, message: CampaignMessage) -> dict[str, Any]:
        log = {"campaign": message.campaign, "member_id": message.member_id}
        if self.stopped is not None and self.stopped(message.campaign, clock.now()):
            if self.store.settle(message.campaign, message.touch, "stopped", clock.now()):  # its bonus goes back
                self.accrual_queue.put(CampaignBonusWithdrawn(member_id=message.member_id, touch=message.touch))
            logger.info("campaign stopped; message dropped", extra=log)
            return {"delivered": False}
        self.pace.wait()
        try:
            if message.image and chat_limits.length(message.text) <= chat_limits.CAPTION:
                self.bot.send_photo(message.chat_id, message.image, message.text, message.reply_markup)
            else:
                self.bot.send_message(message.chat_id, message.text, message.reply_markup)
        except RateLimited as error:
            logger.info("campaign message rate limited", extra={"retry_after": error.retry_after_seconds})
            raise Deferred("telegram rate limit", error.retry_after_seconds) from error
        except ChatBlocked:
            if not self.members.unsubscribe(message.member_id):
                logger.info("a blocked chat's member is gone (erased): nothing to unsubscribe", extra=log)
            elif self.crm is not None:
                self.crm.unsubscribed(message.member_id, message.touch, clock.now())
            self.accrual_queue.put(CampaignBonusWithdrawn(member_id=message.member_id, touch=message.touch))
            self.store.settle(message.campaign, message.touch, "blocked", clock.now())
            logger.info("member blocked the bot; unsubscribed from campaigns", extra=log)
            return {"delivered": False}
        except MessageRejected as error:
            raise PermanentFailure(f"telegram rejected the campaign message: {error}") from error
        except TelegramUnavailable as error:
            raise RetryLater(f"telegram unreachable: {error}") from error
        now = clock.now()
        touch = LastTouch(campaign=message.campaign, key=message.touch, delivered_at=now,
                          until=now + timedelta(days=message.goal_days), channel=message.goal_channel)
        attributed = [self.members.touched_item(message.member_id, touch.model_dump(mode="json"))] \
            if message.goal_days else []
        self.store.settle(message.campaign, message.touch, "delivered", now, also=attributed)
        metrics.add_metric(name="CampaignMessagesSent", unit="Count", value=1)
        return {"delivered": True}
