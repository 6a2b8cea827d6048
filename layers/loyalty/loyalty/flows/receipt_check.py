"""From a submitted QR code to a verified, claimed receipt with the brand's goods in it.

Fetch the full receipt from the receipt service, normalise it, refuse what cannot earn, claim the fiscal
key once, and pass it to AccrualQueue. Each refusal tells the shopper why, in a message keyed on the
submission, so a redelivered message never sends it twice.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from loyalty.adapters.claims import ReceiptClaims
from loyalty.adapters.queues import PermanentFailure, RetryLater, parse_body, publish
from loyalty.adapters.receipt_service import Proverkacheka, ReceiptService
from loyalty.adapters.secrets import secret
from loyalty.config import Program, cached_program
from loyalty.contracts import ReceiptAccepted, ReceiptSubmitted
from loyalty.domain.errors import (
    InvalidQr,
    InvalidReceipt,
    ReceiptAlreadyClaimed,
    ReceiptNotFound,
    ReceiptServiceUnavailable,
)
from loyalty.domain.matching import match_brand_goods, store_name
from loyalty.domain.qr import parse_qr
from loyalty.domain.receipt import OPERATION_SALE, normalise_one
from loyalty.flows.replies import Replies
from loyalty.observability import logger, metrics
from loyalty.settings import ReceiptParserSettings


class ReceiptCheck:
    def __init__(self, settings: ReceiptParserSettings, service: ReceiptService | None = None):
        self.settings = settings
        self.claims = ReceiptClaims(settings.CLAIMS_TABLE)
        self.replies = Replies(settings.OUTBOX_QUEUE_URL)
        self._service = service

    @property
    def program(self) -> Program:
        return cached_program(self.settings.PROGRAM_FILE)

    @property
    def service(self) -> ReceiptService:
        if self._service is None:
            self._service = Proverkacheka(
                self.settings.RECEIPT_SERVICE_URL, secret(self.settings.RECEIPT_SERVICE_TOKEN_NAME)
            )
        return self._service

    def handle_record(self, record: SQSRecord) -> None:
        submitted: ReceiptSubmitted = parse_body(record, ReceiptSubmitted)
        attempt = int(record.attributes.approximate_receive_count)
        self.check(submitted, attempt)

    def check(self, submitted: ReceiptSubmitted, attempt: int = 1) -> None:
        shopper, key = submitted.shopper, submitted.submission_id
        log = {"submission_id": key, "member_id": shopper.member_id}
        try:
            query = parse_qr(submitted.qr)
        except InvalidQr as error:  # the webhook checked it: only a hand-made message gets here
            raise PermanentFailure(f"invalid QR in submission: {error}") from error
        try:
            document = self.service.fetch(query)
        except ReceiptNotFound as error:
            logger.info("receipt refused", extra={**log, "reason": error.reason, "detail": str(error)})
            self.replies.send(shopper, f"{key}:not-found", "receipt_not_found")
            return
        except ReceiptServiceUnavailable as error:
            if attempt >= self.settings.RECEIPT_FETCH_ATTEMPTS:
                self.replies.send(shopper, f"{key}:unavailable", "receipt_unavailable")
                raise PermanentFailure(f"receipt service unavailable after {attempt} attempts: {error}") from error
            raise RetryLater(str(error), error.retry_after_seconds) from error
        try:
            receipt = normalise_one(document)
        except InvalidReceipt as error:
            self.replies.send(shopper, f"{key}:unavailable", "receipt_unavailable")
            raise PermanentFailure(f"receipt service returned an unreadable receipt: {error}") from error
        if receipt.key != query.key:
            self.replies.send(shopper, f"{key}:unavailable", "receipt_unavailable")
            raise PermanentFailure(f"receipt service returned {receipt.key} for {query.key}")

        program = self.program
        match = match_brand_goods(receipt, program)
        store = store_name(receipt, match.channel, program)
        log |= {"fiscal_key": str(receipt.key), "channel": match.channel, "seller_inn": receipt.seller_inn}
        if receipt.operation != OPERATION_SALE:
            logger.info("receipt refused", extra={**log, "reason": "not_a_sale", "operation": receipt.operation})
            self.replies.send(shopper, f"{key}:not-sale", "receipt_not_a_sale")
            return
        if not match.lines:
            logger.info("receipt refused", extra={**log, "reason": "no_brand_goods"})
            self.replies.send(shopper, f"{key}:no-goods", "receipt_no_brand_goods",
                              store=store, brand=program.brand.name)
            return
        try:
            self.claims.claim(str(receipt.key), shopper.member_id, key, {
                "channel": match.channel, "seller_inn": receipt.seller_inn,
                "total_kopecks": receipt.total_kopecks, "brand_sum_kopecks": match.brand_sum_kopecks,
                "issued_at": receipt.issued_at.isoformat(),
            })
        except ReceiptAlreadyClaimed:
            logger.info("receipt refused", extra={**log, "reason": "already_claimed"})
            metrics.add_metric(name="DuplicateReceipts", unit="Count", value=1)
            self.replies.send(shopper, f"{key}:duplicate", "receipt_duplicate")
            return
        publish(self.settings.ACCRUAL_QUEUE_URL, ReceiptAccepted(
            submission_id=key, shopper=shopper, fiscal_key=str(receipt.key), channel=match.channel,
            store=store, brand_sum_kopecks=match.brand_sum_kopecks,
        ))
        metrics.add_metric(name="ReceiptsAccepted", unit="Count", value=1)
        logger.info("receipt accepted", extra={**log, "brand_sum_kopecks": match.brand_sum_kopecks})
