"""From what a shopper sent (QR text, a photo of the receipt, the FNS app's file) to verified, claimed
receipts with the brand's goods in them, passed to the accrual (flows/accrual.py) in the same invocation.

Nothing a shopper uploads is trusted: a file only names receipts, which are fetched from the receipt
service like any QR code (unless the program is set up for offline use, and then the claim says so).
Each refusal tells the shopper why, in a message keyed on the submission, so a redelivered message never
sends it twice, and logs the reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from loyalty import clock
from loyalty.contracts import PurchaseLine, ReceiptAccepted, ReceiptHeldLater, ReceiptSubmitted, Shopper
from loyalty.domain import fraud
from loyalty.domain.claims import OrderHalf, Refund
from loyalty.domain.decision import REFUSALS, Assessment, assess, refund_candidates
from loyalty.domain.errors import (
    ChatBlocked,
    DailyLimitReached,
    DomainError,
    InvalidQr,
    InvalidReceipt,
    MemberNotFound,
    MessageRejected,
    RateLimited,
    ReceiptAlreadyClaimed,
    ReceiptNotFound,
    ReceiptServiceUnavailable,
    RefundExceeded,
    TelegramUnavailable,
)
from loyalty.domain.qr import ReceiptQuery, parse_qr
from loyalty.domain.receipt import MOSCOW, Receipt, find_raw_receipts, normalise, normalise_one
from loyalty.flows.outcomes import PermanentFailure, RetryLater
from loyalty.flows.replies import Replies
from loyalty.observability import logger, metrics

if TYPE_CHECKING:
    from loyalty.domain.keyed import Keyed
    from loyalty.domain.program import Program
    from loyalty.flows.ports import Claims, FileSource, Outbox, Queue, ReceiptService

_MAX_FILE_RECEIPTS = 20  # an FNS export can hold a year of receipts; more than this is not a purchase
_EVER = "all"  # an inviter's friends are counted across days, not per day


class ReceiptCheck:
    """`service` and `files` are factories: the receipt service's token is read, and python-telegram-bot
    imported, only when a receipt is first fetched or a file first downloaded. `queue` (AccrualQueue) takes a
    file's receipts back one by one, and the holds of other members' receipts; `accepted` is where an accepted
    receipt goes: the accrual, in the same invocation (flows/accrual.py: InProcess), so it costs no queue send."""

    def __init__(self, program: Program, claims: Claims, outbox: Outbox, queue: Queue,
                 accepted: Queue, service: Callable[[], ReceiptService], files: Callable[[], FileSource],
                 fetch_attempts: int, keyed: Keyed):
        self.program = program
        self.keyed = keyed
        self.claims = claims
        self.replies = Replies(outbox)
        self.queue = queue
        self.accepted = accepted
        self._service = service
        self._files = files
        self.fetch_attempts = fetch_attempts

    @property
    def service(self) -> ReceiptService:
        return self._service()

    def handle(self, submitted: ReceiptSubmitted, attempt: int) -> None:
        """Check one submission on its `attempt`-th delivery from AccrualQueue."""
        try:
            self.check(submitted, attempt)
        except PermanentFailure:
            raise
        except Exception as error:
            if attempt < self.fetch_attempts:
                raise
            # The last try (AccrualQueue's maxReceiveCount is no fewer): park the message here, saying why, and tell
            # the shopper it is delayed; `loyalty dlq redrive AccrualQueue` replays it once the cause is gone.
            reason = error.reason if isinstance(error, RetryLater) else f"{type(error).__name__}: {error}"
            raise self._give_up(submitted.shopper, submitted.submission_id,
                                f"gave up after {attempt} attempts: {reason}") from error

    def check(self, submitted: ReceiptSubmitted, attempt: int = 1, now: datetime | None = None) -> None:
        now = now or clock.now()
        if submitted.qr is not None:
            try:
                query = parse_qr(submitted.qr)
            except InvalidQr as error:  # the webhook checked it: only a hand-made message gets here
                raise PermanentFailure(f"invalid QR in submission: {error}") from error
            uploaded = normalise_one(submitted.uploaded) if submitted.uploaded else None
            self._fetch_and_settle(submitted, query, submitted.submission_id, attempt, now, uploaded)
        elif submitted.file and submitted.file.kind == "photo":
            self._photo(submitted, attempt, now)
        else:
            self._document(submitted, attempt, now)

    # ------------------------------------------------------------------ sources
    def _photo(self, submitted: ReceiptSubmitted, attempt: int, now: datetime) -> None:
        from loyalty.adapters.qr_image import UnreadableImage, decode_qr  # only photos pay for zxing

        key = submitted.submission_id
        try:
            texts = decode_qr(self._download(submitted))
        except UnreadableImage as error:
            texts = []
            logger.info("photo unreadable", extra={"submission_id": key, "reason": str(error)})
        queries = []
        for text in texts:
            try:
                queries.append(parse_qr(text))
            except InvalidQr:
                continue
        if not queries:
            logger.info("receipt refused", extra={"submission_id": key, "reason": "no_qr_in_photo",
                                                  "codes_found": len(texts)})
            self.replies.send(submitted.shopper, f"{key}:no-qr", "photo_no_qr")
            return
        self._fetch_and_settle(submitted, queries[0], key, attempt, now)

    def _document(self, submitted: ReceiptSubmitted, attempt: int, now: datetime) -> None:
        key = submitted.submission_id
        try:
            raws = find_raw_receipts(json.loads(self._download(submitted)))[:_MAX_FILE_RECEIPTS]
            receipts = normalise(raws)
        except (ValueError, DomainError) as error:  # not JSON, or no receipt in it
            logger.info("receipt refused", extra={"submission_id": key, "reason": "unreadable_file",
                                                  "detail": str(error)[:200]})
            self.replies.send(submitted.shopper, f"{key}:unreadable", "file_unreadable")
            return
        if len(receipts) > 1:  # one receipt was acknowledged when it came ("Чек принят"): its result says the rest
            self.replies.send(submitted.shopper, f"{key}:received", "file_received", count=len(receipts))
        # One message per receipt: each is fetched, retried and judged on its own, within its own timeout.
        for raw, uploaded in zip(raws, receipts, strict=True):
            self.queue.put(ReceiptSubmitted(
                submission_id=f"{key}#{uploaded.key}", shopper=submitted.shopper, qr=uploaded.query().to_qr(),
                uploaded=raw,
            ))

    def _download(self, submitted: ReceiptSubmitted) -> bytes:
        assert submitted.file is not None
        try:
            return self._files().download(submitted.file.file_id)
        except MessageRejected as error:  # getFile refused: an invalid file_id, or a file over the Bot API's 20 MB
            logger.info("receipt refused", extra={"submission_id": submitted.submission_id,
                                                  "reason": "file_unavailable", "detail": str(error)[:200]})
            self.replies.send(submitted.shopper, f"{submitted.submission_id}:file-unavailable", "file_unavailable")
            raise PermanentFailure(f"telegram will not serve the shopper's file: {error}") from error
        except RateLimited as error:
            raise RetryLater(f"telegram rate limit on the shopper's file: {error}", error.retry_after_seconds) \
                from error
        except (TelegramUnavailable, ChatBlocked) as error:
            raise RetryLater(f"could not download the shopper's file: {error}") from error

    # ------------------------------------------------------------------ fetch, decide, claim
    def _fetch_and_settle(self, submitted: ReceiptSubmitted, query: ReceiptQuery, key: str, attempt: int,
                          now: datetime, uploaded: Receipt | None = None) -> None:
        shopper = submitted.shopper
        verified = True
        try:
            receipt = normalise_one(self.service.fetch(query))
        except ReceiptNotFound as error:
            if uploaded is not None and self.program.receipts.accept_unverified_files:
                receipt, verified = uploaded, False
            else:
                logger.info("receipt refused", extra={"submission_id": key, "reason": error.reason,
                                                      "detail": str(error)})
                self.replies.send(shopper, f"{key}:not-found", "receipt_not_found")
                return
        except ReceiptServiceUnavailable as error:  # handle_record gives up after the last attempt
            raise RetryLater(f"receipt service unavailable: {error}", error.retry_after_seconds) from error
        except InvalidReceipt as error:
            raise self._give_up(shopper, key, f"receipt service returned an unreadable receipt: {error}") from error
        if receipt.key != query.key:
            raise self._give_up(shopper, key, f"receipt service returned {receipt.key} for {query.key}")
        self.settle(shopper, receipt, key, now, verified)

    def _give_up(self, shopper: Shopper, key: str, reason: str) -> PermanentFailure:
        """Tell the shopper the receipt is delayed; the returned error dead-letters the message with `reason`."""
        self.replies.send(shopper, f"{key}:delayed", "receipt_delayed")
        return PermanentFailure(reason)

    def settle(self, shopper: Shopper, receipt: Receipt, key: str, now: datetime, verified: bool = True) -> None:
        program = self.program
        assessment = assess(receipt, program, now, shopper.member_id)
        log = {"submission_id": key, "member_id": shopper.member_id, "fiscal_key": str(receipt.key),
               "channel": assessment.match.channel, "seller_inn": receipt.seller_inn, "verified": verified}
        reverses: tuple[str, int] | None = None
        grey: set[str] = set()
        if assessment.decision == "reverse":
            assessment, reverses = self._claim_refund(shopper, assessment, key)
        elif assessment.decision == "accrue":
            assessment, grey = self._claim_with_items(shopper, assessment, key, now, verified)
        if assessment.decision == "reject":
            refusal = assessment.first_refusal
            assert refusal is not None
            logger.info("receipt refused", extra={**log, "reason": refusal.code, "detail": refusal.detail})
            metrics.add_metric(name="ReceiptsRefused", unit="Count", value=1)  # why: the log line's `reason`
            self.replies.send(shopper, f"{key}:{refusal.code}", REFUSALS[refusal.code],
                              store=program.place(assessment.match.channel, assessment.match.store),
                              brand=program.brand.name, days=program.receipts.max_age_days,
                              limit=program.receipts.max_per_day or 0)
            return
        match = assessment.match
        held_by = self._suspicions(shopper, assessment, now) if assessment.decision == "accrue" else ()
        if grey and program.fraud.serials.unlisted == "hold":
            held_by = (*held_by, fraud.GREY_MARKET)
        self.accepted.put(ReceiptAccepted(
            submission_id=key, shopper=shopper, fiscal_key=str(receipt.key), channel=match.channel,
            channel_kind=program.channel_kind(match.channel), store=match.store,
            brand_sum_kopecks=match.brand_sum_kopecks,
            lines=tuple(PurchaseLine(name=line.name, sum_kopecks=line.sum_kopecks, quantity=line.quantity,
                                     gtin=line.gtin, category=line.category) for line in match.lines),
            reverses=reverses[0] if reverses else None, purchase_kopecks=reverses[1] if reverses else None,
            issued_at=receipt.issued_at, held_by=held_by,
        ))
        metrics.add_metric(name="ReceiptsAccepted", unit="Count", value=1)
        logger.info("receipt accepted", extra={**log, "decision": assessment.decision,
                                               "brand_sum_kopecks": assessment.match.brand_sum_kopecks})

    def _suspicions(self, shopper: Shopper, assessment: Assessment, now: datetime) -> tuple[str, ...]:
        """The fraud rules this claimed receipt trips (domain/fraud.py): counted on the claims after its own
        claim, so a redelivery counts nothing twice (members are a set; the member's receipts are claims)."""
        rules, receipt = self.program.fraud.rules, assessment.receipt
        person = tuple(rule for rule in shopper.suspect
                       if rule in {str(rule.rule) for rule in rules} or rule == fraud.STAFF_BLOCKED)
        watched = {rule.rule for rule in rules} & fraud.counted_for(self.program.channel_kind(assessment.match.channel))
        if not watched:
            return person
        day = now.astimezone(MOSCOW).date().isoformat()
        seen = fraud.Seen(
            till_members=self._seen(fraud.RuleName.TILL_MEMBERS, f"till:{receipt.key.fn}", day, shopper, assessment,
                                    watched),
            seller_members=self._seen(fraud.RuleName.SELLER_MEMBERS, f"seller:{receipt.seller_inn}", day, shopper,
                                      assessment, watched),
            member_till=self.claims.member_receipts_from(
                shopper.member_id, receipt.key.fn, clock.stamp(now - timedelta(days=self._rule(
                    fraud.RuleName.MEMBER_TILL).days))) if fraud.RuleName.MEMBER_TILL in watched else 0,
            idle_friends=self._idle_friends(shopper, assessment, watched))
        return fraud.suspicions([rule for rule in rules if rule.rule in watched], seen) + person

    def _rule(self, name: fraud.RuleName) -> fraud.Rule:
        return next(rule for rule in self.program.fraud.rules if rule.rule == name)

    def _seen(self, rule: fraud.RuleName, scope: str, day: str, shopper: Shopper, assessment: Assessment,
              watched: set[fraud.RuleName]) -> int:
        """Members seen today at a till or seller, this one with them."""
        if rule not in watched:
            return 0
        this = str(assessment.receipt.key)
        members, receipts, done = self.claims.members_seen(scope, day, self.keyed.marker("member", shopper.member_id),
                                                           this)
        if members > self._rule(rule).threshold and not done:
            self._hold_earlier(rule, scope, day, receipts - {this})
        return members

    def _idle_friends(self, shopper: Shopper, assessment: Assessment, watched: set[fraud.RuleName]) -> int:
        """An invited member's first purchase (the one that pays the invitation's bonuses) joins the inviter's
        friends who bought once: how many there are now, this one with them. A later purchase takes the member out
        of them (they buy) and counts 0. Kept the rule's days after the inviter's last new friend."""
        if fraud.RuleName.IDLE_FRIENDS not in watched or not shopper.invited_by:
            return 0
        this, rule = str(assessment.receipt.key), self._rule(fraud.RuleName.IDLE_FRIENDS)
        scope, me = f"friends:{self.keyed.marker('member', shopper.invited_by)}", \
            self.keyed.marker("member", shopper.member_id)
        bought = {str(claim["fiscal_key"]) for claim in self.claims.purchases(shopper.member_id)}
        if bought - {this}:
            self.claims.unsee(scope, _EVER, me, sorted(bought))
            return 0
        friends, receipts, done = self.claims.members_seen(scope, _EVER, me, this, kept_days=rule.days)
        if friends > rule.threshold and not done:
            self._hold_earlier(rule.rule, scope, _EVER, receipts - {this})
        return friends

    def _hold_earlier(self, rule: fraud.RuleName, scope: str, day: str, earlier: set[str]) -> None:
        """Once a rule trips, the receipts counted before are held too (a farm's first receipts are as farmed as its
        last): sent once, marked done after, so a handler that dies in between leaves it to the next receipt. Each goes
        through the queue, not in process: another member's receipt may not be credited yet, and its hold waits for
        that on its own retries, not on this receipt's."""
        for key in sorted(earlier):
            claim = self.claims.claimed(key)
            if claim is not None and claim.get("outcome") == "earns":
                self.queue.put(ReceiptHeldLater(member_id=str(claim["member_id"]), fiscal_key=key,
                                                held_by=(str(rule),)))
        self.claims.held_earlier(scope, day)

    def _claim_with_items(self, shopper: Shopper, assessment: Assessment, key: str, now: datetime,
                          verified: bool) -> tuple[Assessment, set[str]]:
        """One physical item earns once: the receipt's marked brand items (GTIN and serial) are claimed first, and
        a line whose item another receipt earned on (a resale, a return and rebuy) earns nothing here. Items of a
        receipt that then does not earn (over the day's limit) are given back. Also: the items whose serial the
        brand did not put into circulation (grey-market), recorded where they were bought and earning as the
        program chooses."""
        receipt_key = str(assessment.receipt.key)
        codes = [line.marking for line in assessment.match.lines if line.marking]
        if not codes:
            return self._claim(shopper, assessment, key, now, verified), set()
        earned_before = self.claims.claim_items(receipt_key, codes)
        if earned_before:
            logger.warning("marked items earned on another receipt before", extra={
                "fiscal_key": receipt_key, "items": len(earned_before)})
            assessment = assessment.without_items(earned_before)
        grey = self._grey(assessment, now)
        if grey and self.program.fraud.serials.unlisted == "refuse":
            assessment = assessment.without_items(grey, "grey_market", "its serial is not among those the brand "
                                                  "put into circulation")
        if assessment.decision == "reject":
            return assessment, grey
        claimed = self._claim(shopper, assessment, key, now, verified)
        refusal = claimed.first_refusal
        if refusal is not None and refusal.code == "daily_limit":
            self.claims.release_items(receipt_key, codes)
        return claimed, grey

    def _grey(self, assessment: Assessment, now: datetime) -> set[str]:
        codes = [line.marking for line in assessment.match.lines if line.marking]
        grey = self.claims.unlisted(codes) if codes else set()
        receipt, match = assessment.receipt, assessment.match
        for code in sorted(grey):
            self.claims.record_grey(code, str(receipt.key), {
                "channel": match.channel, "seller_inn": receipt.seller_inn, "store": match.store,
                "day": now.astimezone(MOSCOW).date().isoformat()})
        if grey:
            logger.warning("grey-market items", extra={"fiscal_key": str(receipt.key), "items": len(grey),
                                                       "channel": match.channel})
        return grey

    def _claim(self, shopper: Shopper, assessment: Assessment, key: str, now: datetime,
               verified: bool) -> Assessment:
        receipt, program = assessment.receipt, self.program
        order = None
        if assessment.order_role and assessment.order_fingerprint:
            order = OrderHalf(assessment.order_fingerprint, assessment.order_role, receipt.issued_at,
                              timedelta(days=program.receipts.order_pair_days))
        try:
            claimed = self.claims.claim(
                str(receipt.key), shopper.member_id, key, self._summary(assessment, verified),
                day=now.astimezone(MOSCOW).date().isoformat(), max_per_day=program.receipts.max_per_day,
                order=order,
            )
        except ReceiptAlreadyClaimed:
            return assessment.rejected("already_claimed", "the fiscal key is claimed by another submission")
        except DailyLimitReached as error:
            return assessment.rejected("daily_limit", str(error))
        except MemberNotFound as error:
            raise PermanentFailure(f"member {shopper.member_id} not found") from error
        if claimed.outcome == "same_order":
            return assessment.rejected("same_order", f"the other half of order {assessment.order_fingerprint} "
                                                     f"({claimed.paired_with}) already earned")
        return assessment

    def _claim_refund(self, shopper: Shopper, assessment: Assessment,
                      key: str) -> tuple[Assessment, tuple[str, int] | None]:
        """Match a refund to the member's purchase it returns: (assessment, (purchase key, its brand sum))."""
        receipt = assessment.receipt
        for purchase, share in refund_candidates(assessment, self.claims.purchases(shopper.member_id,
                                                                                   receipt.seller_inn)):
            target = (purchase["fiscal_key"], share[1])
            summary = {**self._summary(assessment, True), "reverses": target[0], "purchase_kopecks": target[1]}
            try:
                claimed = self.claims.claim(str(receipt.key), shopper.member_id, key, summary, day="",
                                            max_per_day=None, refund=Refund(target[0], share[0]))
            except ReceiptAlreadyClaimed:
                return assessment.rejected("already_claimed", "this refund receipt is already registered"), None
            except RefundExceeded:
                continue  # that purchase is refunded already: look at an older one
            if claimed.record:  # a redelivery: the purchase matched the first time, not whichever matches now
                target = (claimed.record["reverses"], claimed.record["purchase_kopecks"])
            return assessment, target
        return assessment.rejected("refund_unmatched", "no registered purchase holds the refunded goods"), None

    @staticmethod
    def _summary(assessment: Assessment, verified: bool) -> dict[str, Any]:
        receipt, match = assessment.receipt, assessment.match
        return {
            "channel": match.channel, "seller_inn": receipt.seller_inn, "operation": receipt.operation,
            "total_kopecks": receipt.total_kopecks, "brand_sum_kopecks": match.brand_sum_kopecks,
            "refundable_kopecks": match.brand_sum_kopecks, "issued_at": receipt.issued_at.isoformat(),
            "verified": verified, "lines": [line.model_dump() for line in match.lines],
        }
