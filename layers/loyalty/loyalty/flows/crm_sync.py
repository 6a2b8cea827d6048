"""CrmQueue consumer: each change's events to the brand's CRM, in order, each applied there once.

A message holds one change's events in order; they are delivered one by one, each with its idempotency key,
so a message retried after its second event failed repeats the first harmlessly. The CRM being down, slow
or over its limit makes the message come back later (the queue's backoff), holding back only that member's
later events. An event the CRM refuses as it is goes to the dead-letter queue with the CRM's answer, and the
member's other events go on.

An event for a member the CRM does not know (their registration was refused once, or lost) does not strand them:
the member is registered from our own data first, then the event is sent again. An erased member's stray event is
dropped: nobody is registered again after /delete.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from loyalty import clock
from loyalty.contracts import CrmBatch, CrmEvent
from loyalty.domain.errors import CrmCustomerUnknown, CrmRejected, CrmUnavailable
from loyalty.flows.crm_feed import registration_of
from loyalty.flows.outcomes import RetryLater, parse_body
from loyalty.observability import logger, metrics, redacted

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    from loyalty.flows.ports import CrmTarget, DeadLetters, MemberDirectory


class CrmSync:
    def __init__(self, target: CrmTarget | None, dead_letters: DeadLetters, members: MemberDirectory):
        self.target = target  # None: the program syncs no CRM
        self.dead_letters = dead_letters
        self.members = members

    def handle_record(self, record: SQSRecord) -> None:
        batch = parse_body(record, CrmBatch, "CrmBatch")
        if self.target is None:
            logger.info("no CRM configured; event dropped", extra={"key": batch.key})
            return
        for event in batch.events:
            self.deliver(event)

    def deliver(self, event: CrmEvent) -> None:
        context = {"event_id": event.event_id, "event_type": event.type, "member_id": event.member_id}
        try:
            self._send(event)
        except CrmCustomerUnknown as error:
            self._register_then_send(event, error, context)
        except CrmRejected as error:
            self._park(event, error, context)
            return
        metrics.add_metric(name="CrmEventsDelivered", unit="Count", value=1)
        logger.debug("CRM event delivered", extra=context)

    def _register_then_send(self, event: CrmEvent, unknown: CrmCustomerUnknown, context: dict[str, Any]) -> None:
        member = self.members.get(event.member_id)
        if (member is not None and member.erased_at) or (member is None and event.type == "deleted"):
            logger.info("CRM event for an erased member dropped", extra=context)
            return
        registration = registration_of(member, f"heal:{event.event_id}", clock.now()) if member else None
        if registration is None:  # nobody to register from (no such member, or no phone yet)
            self._park(event, unknown, context)
            return
        logger.warning("CRM did not know the member: registering them from our data", extra=context)
        try:
            self._send(registration)
            self._send(event)
        except CrmRejected as error:
            self._park(event, error, context)

    def _send(self, event: CrmEvent) -> None:
        assert self.target is not None
        try:
            self.target.deliver(event)
        except CrmUnavailable as error:
            raise RetryLater(str(error), error.retry_after_seconds) from error

    def _park(self, event: CrmEvent, error: CrmRejected, context: dict[str, Any]) -> None:
        logger.error("CRM refused an event", extra={**context, "reason": redacted(str(error))})
        metrics.add_metric(name="CrmEventsRejected", unit="Count", value=1)
        # Parked as a batch of its own, in its member's group: `loyalty dlq redrive CrmQueue` replays it.
        parked = CrmBatch(member_id=event.member_id, key=f"parked:{event.event_id}", events=(event,))
        self.dead_letters.park(parked.model_dump_json(), f"{error}: {error.response}", group=event.member_id,
                               **context)
