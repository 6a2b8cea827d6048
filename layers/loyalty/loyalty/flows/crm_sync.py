"""CrmQueue consumer: each change's events to the brand's CRM, in order, each applied there once.

A message holds one change's events in order; they are delivered one by one, each with its idempotency key,
so a message retried after its second event failed repeats the first harmlessly. The CRM being down, slow
or over its limit makes the message come back later (the queue's backoff), holding back only that member's
later events. An event the CRM refuses as it is goes to the dead-letter queue with the CRM's answer, and the
member's other events go on.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from loyalty.contracts import CrmBatch, CrmEvent
from loyalty.domain.errors import CrmRejected, CrmUnavailable
from loyalty.flows.outcomes import RetryLater, parse_body
from loyalty.flows.ports import CrmTarget, DeadLetters
from loyalty.observability import logger, metrics, redacted


class CrmSync:
    def __init__(self, target: CrmTarget | None, dead_letters: DeadLetters):
        self.target = target  # None: the program syncs no CRM
        self.dead_letters = dead_letters

    def handle_record(self, record: SQSRecord) -> None:
        batch = parse_body(record, CrmBatch, "CrmBatch")
        if self.target is None:
            logger.info("no CRM configured; event dropped", extra={"key": batch.key})
            return
        for event in batch.events:
            self.deliver(event)

    def deliver(self, event: CrmEvent) -> None:
        assert self.target is not None
        context = {"event_id": event.event_id, "event_type": event.type, "member_id": event.member_id}
        try:
            self.target.deliver(event)
        except CrmUnavailable as error:
            raise RetryLater(str(error), error.retry_after_seconds) from error
        except CrmRejected as error:
            logger.error("CRM refused an event", extra={**context, "reason": redacted(str(error))})
            metrics.add_metric(name="CrmEventsRejected", unit="Count", value=1)
            # Parked as a batch of its own, in its member's group: `loyalty dlq redrive CrmQueue` replays it.
            parked = CrmBatch(member_id=event.member_id, key=f"parked:{event.event_id}", events=(event,))
            self.dead_letters.park(parked.model_dump_json(), f"{error}: {error.response}", group=event.member_id,
                                   **context)
            return
        metrics.add_metric(name="CrmEventsDelivered", unit="Count", value=1)
        logger.debug("CRM event delivered", extra=context)
