"""Credit the points for an accepted receipt and tell the shopper."""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from loyalty.adapters.ledger import LedgerRepository
from loyalty.adapters.queues import PermanentFailure, RetryLater, parse_body
from loyalty.config import cached_program
from loyalty.contracts import ReceiptAccepted
from loyalty.domain.errors import MemberNotFound
from loyalty.domain.points import accrual_points
from loyalty.flows.replies import Replies
from loyalty.observability import logger, metrics
from loyalty.settings import PointAccrualSettings


class PointAccrual:
    def __init__(self, settings: PointAccrualSettings):
        self.settings = settings
        self.ledger = LedgerRepository(settings.LEDGER_TABLE, settings.MEMBERS_TABLE)
        self.replies = Replies(settings.OUTBOX_QUEUE_URL)

    def handle_record(self, record: SQSRecord) -> None:
        self.accrue(parse_body(record, ReceiptAccepted))

    def accrue(self, accepted: ReceiptAccepted) -> None:
        if accepted.reverses:
            self.reverse(accepted)
            return
        program = cached_program(self.settings.PROGRAM_FILE)
        shopper = accepted.shopper
        points = accrual_points(accepted.brand_sum_kopecks, program.earning.base_percent)
        if points == 0:
            self.replies.send(shopper, f"receipt:{accepted.fiscal_key}:zero", "receipt_zero_points",
                              brand=program.brand.name)
            return
        try:
            posting = self.ledger.post(
                shopper.member_id, f"receipt#{accepted.fiscal_key}", "accrual", points,
                {"fiscal_key": accepted.fiscal_key, "channel": accepted.channel,
                 "brand_sum_kopecks": accepted.brand_sum_kopecks, "submission_id": accepted.submission_id},
            )
        except MemberNotFound as error:
            raise PermanentFailure(f"member {shopper.member_id} not found") from error
        if posting.applied:
            metrics.add_metric(name="PointsAccrued", unit="Count", value=points)
        logger.info("points credited", extra={
            "member_id": shopper.member_id, "fiscal_key": accepted.fiscal_key, "points": posting.points,
            "balance": posting.balance_after, "replayed": not posting.applied,
        })
        self.replies.send(shopper, f"receipt:{accepted.fiscal_key}:credited", "points_credited",
                          points=posting.points, balance=posting.balance_after, store=accepted.store)

    def reverse(self, refund: ReceiptAccepted) -> None:
        """Take back the points of the refunded share of a purchase (in proportion to its brand goods)."""
        shopper = refund.shopper
        original = self.ledger.entry(shopper.member_id, f"receipt#{refund.reverses}")
        if original is None or not refund.purchase_kopecks:
            raise RetryLater(f"the accrual for {refund.reverses} is not written yet")
        points = original["points"] * min(refund.brand_sum_kopecks, refund.purchase_kopecks) // refund.purchase_kopecks
        posting = self.ledger.post(
            shopper.member_id, f"refund#{refund.fiscal_key}", "refund_reversal", -points,
            {"fiscal_key": refund.fiscal_key, "reverses": refund.reverses, "submission_id": refund.submission_id},
        )
        logger.info("points reversed", extra={
            "member_id": shopper.member_id, "fiscal_key": refund.fiscal_key, "reverses": refund.reverses,
            "points": posting.points, "balance": posting.balance_after, "replayed": not posting.applied,
        })
        self.replies.send(shopper, f"refund:{refund.fiscal_key}:reversed", "points_reversed",
                          points=-posting.points, balance=posting.balance_after, store=refund.store)
