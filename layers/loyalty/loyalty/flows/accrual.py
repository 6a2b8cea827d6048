"""AccrualQueue: check submitted receipts and credit them, take back refunds, pay bonuses, issue promo codes; tell
the shopper.

A submitted receipt is checked (flows/receipt_check.py) and, once accepted, credited in the same invocation: one
function and one queue between the webhook and the ledger, so a receipt costs no send between them and an idle
stack polls one queue fewer.

Each command is one ledger entry with a key derived from its cause, so a redelivered command finds its
entry written and only repeats the (deduplicated) messages. Follow-ups — the level message, the referral
bonuses on a first purchase — are derived from the stored entry, so a replay repeats them exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from loyalty import clock
from loyalty.contracts import (
    AccrualWork,
    BirthdayGiven,
    BonusGranted,
    CampaignBonusWithdrawn,
    CreditReversed,
    HeldReceiptDecided,
    MemberErased,
    MembersMerged,
    PointsAdjusted,
    PromoRequested,
    PurchaseLine,
    QrSent,
    ReceiptAccepted,
    ReceiptHeldLater,
    ReceiptSubmitted,
    RewardRequested,
)
from loyalty.domain import postings, wallet
from loyalty.domain.bot_program import words
from loyalty.domain.campaigns import touch_of
from loyalty.domain.codes import PromoCode, new_code
from loyalty.domain.conversation import Ticket
from loyalty.domain.details import BoughtLine, Details
from loyalty.domain.draw import BOOST
from loyalty.domain.earning import Referral, purchase_credit, referral, refund_points
from loyalty.domain.errors import BirthdayLocked, InsufficientPoints, MemberNotFound
from loyalty.domain.fraud import rule_words
from loyalty.domain.ledger import (
    REFERRED_BONUS_ENTRY,
    WELCOME_BONUS_ENTRY,
    Cause,
    Kind,
    Posting,
    campaign_of,
    entry_id_of,
    referrer_bonus_entry,
    reversal_entry,
    review_bonus_entry,
    withdrawal_entry,
)
from loyalty.domain.messages import day_month, render
from loyalty.flows import keyboards
from loyalty.flows.community import CommunityDoor
from loyalty.flows.followups import FollowUps
from loyalty.flows.letters import BALANCE, Letters
from loyalty.flows.notices import Notices
from loyalty.flows.outcomes import PermanentFailure, RetryLater, parse_body
from loyalty.flows.replies import Replies
from loyalty.flows.rewards import RewardExchange
from loyalty.observability import logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from pydantic import BaseModel

    from loyalty.domain.keyed import Keyed
    from loyalty.domain.places import Place
    from loyalty.domain.program import Program
    from loyalty.flows.campaigns import Touches
    from loyalty.flows.erasure import Erasure
    from loyalty.flows.ports import BotMemory, Ledger, Outbox, PromoCodeStore
    from loyalty.flows.receipt_check import ReceiptCheck
    from loyalty.flows.submissions import SentQr


class PointAccrual:
    def __init__(self, program: Program, ledger: Ledger, outbox: Outbox, promo_codes: PromoCodeStore,
                 keyed: Keyed, touches: Touches | None = None, bot_table: BotMemory | None = None,
                 erasure: Erasure | None = None, live: Callable[[datetime], Program] | None = None):
        self.program = program
        self.live = live  # the program with the console's live campaigns (flows/composer.py: LiveProgram)
        self.ledger = ledger
        self.outbox = outbox
        self.replies = Replies(outbox)
        self.notices = Notices(self.replies, program)
        self.promo_codes = promo_codes
        self.touches = touches  # campaigns: none, and no purchase triggers or converts one
        # the bot's memory: rewards' stock, follow-ups after a receipt (None: a program test without the bot's)
        self.rewards = RewardExchange(program, ledger, self.replies, bot_table) if bot_table is not None else None
        self.keyed = keyed
        self.bot_table = bot_table
        self.followups = FollowUps(program, bot_table, ledger, keyed=keyed) if bot_table is not None else None
        # What is not an answer to the member's own act (a friend's purchase paid their invitation, the staff
        # decided a held receipt or a review): a letter the contact policy sends, where the bot's table keeps them.
        self.news = Notices(self.replies, program, Letters(bot_table, keyed)) if bot_table is not None \
            else self.notices
        self.erasure = erasure  # /delete's write-off and pseudonymisation
        self.receipts: ReceiptCheck | None = None  # submitted receipts' check (None: a test of the ledger alone)
        self.sent: SentQr | None = None  # QR codes the webhook's edge forwarded: counted, then checked here
        self._handlers: dict[type[Any], Callable[[Any], object]] = {
            BonusGranted: self.bonus, MembersMerged: self.merge, RewardRequested: self.reward,
            MemberErased: self.erase, CampaignBonusWithdrawn: self.withdraw, HeldReceiptDecided: self.decide,
            ReceiptHeldLater: self.hold_later, PromoRequested: self.promo,
            PointsAdjusted: self.adjust, CreditReversed: self.reverse_credit,
            BirthdayGiven: self.birthday}  # each AccrualQueue command's step

    def handle_record(self, record: SQSRecord) -> None:
        work = parse_body(record, AccrualWork, "AccrualQueue message")
        if isinstance(work, QrSent):
            work = self._admitted(work)
            if work is None:  # over a limit, or waiting for the phone: the shopper was told
                return
        if isinstance(work, ReceiptSubmitted):
            self._check(work, int(record.attributes.approximate_receive_count))
            return
        with self.outbox.held():  # a command's replies ("+N баллов", a new level) go to the outbox in one request
            self.command(work)

    def _admitted(self, sent: QrSent) -> ReceiptSubmitted | None:
        if self.sent is None:
            raise PermanentFailure("a QR code sent, and no submissions wired here")
        with self.outbox.held():
            return self.sent.admitted(sent.message)

    def _check(self, submitted: ReceiptSubmitted, attempt: int) -> None:
        if self.receipts is None:
            raise PermanentFailure("a submitted receipt, and no receipt check wired here")
        given_up: PermanentFailure | None = None
        with self.outbox.held():  # the check's answer and the credit's go together, none if a retry comes
            try:
                self.receipts.handle(submitted, attempt)
            except PermanentFailure as failure:  # parked for good: what the shopper was told of it still goes
                given_up = failure
        if given_up is not None:
            raise given_up

    def command(self, command: Any) -> None:
        """Carry out one ledger command (each AccrualQueue message but a submitted receipt)."""
        try:
            if isinstance(command, ReceiptAccepted) and command.reverses:
                self.reverse(command)
            elif isinstance(command, ReceiptAccepted):
                self.accrue(command)
            else:
                self._handlers[type(command)](command)
        except MemberNotFound as error:
            raise PermanentFailure(f"member {error} not found") from error

    # ------------------------------------------------------------------ purchases and refunds
    def accrue(self, accepted: ReceiptAccepted, now: datetime | None = None) -> Posting:
        now = now or clock.now()
        program = self.live(now) if self.live is not None else self.program  # whose segments a purchase enters
        member_id, lot = accepted.shopper.member_id, entry_id_of(Cause.RECEIPT, accepted.fiscal_key)
        lines = list(accepted.lines) or [PurchaseLine(name="", sum_kopecks=accepted.brand_sum_kopecks)]
        posting = self.ledger.apply(
            member_id, lot, Kind.ACCRUAL,
            lambda wal: postings.purchase(program, wal, lot, purchase_credit(
                program, wal, lines, accepted.channel, accepted.channel_kind, now), accepted.brand_sum_kopecks,
                accepted.store, accepted.channel, accepted.issued_at, held=bool(accepted.held_by)),
            details=Details(fiscal_key=accepted.fiscal_key, channel=accepted.channel, store=accepted.store,
                            brand_sum_kopecks=accepted.brand_sum_kopecks, submission_id=accepted.submission_id,
                            categories=sorted({line.category for line in lines if line.category}),
                            lines=[BoughtLine(name=line.name, sum_kopecks=line.sum_kopecks, quantity=line.quantity,
                                              gtin=line.gtin) for line in accepted.lines],
                            purchased_at=accepted.issued_at or now, held_by=list(accepted.held_by)),
            now=now, also=self.followups.writes(accepted, now) if self.followups is not None else None,
            seen=accepted.shopper.seen,
        )
        details = posting.details
        if posting.applied:
            metrics.add_metric(name="PointsAccrued", unit="Count", value=details.credited)
        logger.info("points credited", extra={
            "member_id": member_id, "fiscal_key": accepted.fiscal_key, "points": details.credited,
            "pending": details.pending, "level": details.level, "replayed": not posting.applied,
        })
        if details.held_by:  # the staff decide first: the referral, campaigns and follow-ups wait for it
            self._hold(posting, accepted)
            return posting
        self._tell_credit(posting, self._store(accepted))
        self._progress(self.notices, posting)
        bonuses = referral(self.program, posting.holder.referred_by) if details.first_purchase else None
        if bonuses is not None:
            self._referral(posting, bonuses, now)
        self._campaigns(posting, accepted, now, program)
        return posting

    # ------------------------------------------------------------------ held purchases
    def _hold(self, posting: Posting, accepted: ReceiptAccepted) -> None:
        """A purchase a fraud rule held: the shopper is told it is being checked, the staff chat gets it with
        approve and reject buttons (a ticket, keyed on the receipt, so a redelivery opens nothing twice)."""
        details, store = posting.details, self._store(accepted)
        self.notices.send(posting, "receipt_held", points=details.credited, store=store)
        self._ask_staff(posting, accepted.fiscal_key, accepted.store, accepted.brand_sum_kopecks, details.credited,
                        details.held_by)

    def hold_later(self, later: ReceiptHeldLater, now: datetime | None = None) -> Posting | None:
        """A purchase credited before a rule tripped on its till or seller that day: what is left of its points
        waits for the staff, as a held receipt's. None: held from the start. Not credited yet (its accrual is still
        on the way): tried again later."""
        now = now or clock.now()
        lot = entry_id_of(Cause.RECEIPT, later.fiscal_key)
        bought = self.ledger.entry(later.member_id, lot)
        if bought is None:
            raise RetryLater(f"{later.fiscal_key} is not credited yet: held once it is")
        if bought.details.held_by:
            return None
        details = bought.details
        paid = (REFERRED_BONUS_ENTRY,) if details.first_purchase else ()
        posting = self.ledger.apply(
            later.member_id, entry_id_of(Cause.HELD, f"later:{later.fiscal_key}"), Kind.HELD_LATER,
            lambda wal: postings.freeze(wal, lot, paid),
            details=Details(fiscal_key=later.fiscal_key, held_by=list(later.held_by), store=details.store,
                            channel=details.channel, brand_sum_kopecks=details.brand_sum_kopecks), now=now)
        if details.first_purchase:
            self._inviter_side(posting, later.fiscal_key, None, now)
        frozen = posting.entry.change.pending or details.credited
        store = self.program.place(details.channel, details.store)
        self.news.send(posting, "receipt_held_later", points=frozen, store=store)
        self._ask_staff(posting, later.fiscal_key, details.store or "", details.brand_sum_kopecks, frozen,
                        list(later.held_by))
        return posting

    def _ask_staff(self, posting: Posting, fiscal_key: str, store: str, brand_sum_kopecks: int, points: int,
                   held_by: list[str]) -> None:
        """The staff chat gets a held receipt with approve and reject buttons: a ticket keyed on the receipt, so a
        redelivery opens nothing twice."""
        logger.warning("receipt held for the staff", extra={"member_id": posting.holder.member_id,
                                                             "fiscal_key": fiscal_key, "rules": held_by})
        chat = self.program.bot.staff_chat_id
        if self.bot_table is None or chat is None:
            return
        ticket = Ticket(id=self.keyed.id("held", fiscal_key), kind="receipt", member_id=posting.holder.member_id,
                        followup_id=fiscal_key)
        self.bot_table.open_ticket(ticket)
        buttons = keyboards.inline_keyboard([[(render("button_approve", "ru"), f"receipt:{ticket.id}:ok"),
                                             (render("button_reject", "ru"), f"receipt:{ticket.id}:no")]])
        self.replies.to_chat(chat, f"held:{fiscal_key}:staff", render(
            "staff_receipt_held", "ru", ticket=ticket.id, rules="; ".join(rule_words(held_by)),
            member=posting.holder.member_id, level=self.program.level_title(posting.details.level, "ru"),
            store=store, roubles=f"{brand_sum_kopecks / 100:.2f}", points=points, fiscal_key=fiscal_key), buttons)

    def decide(self, decided: HeldReceiptDecided, now: datetime | None = None) -> Posting | None:
        """The staff's decision on a held purchase, once: approved, its points are released (and an invitation's
        bonuses paid, if it was the member's first purchase); rejected, they are taken back and the shopper is told
        why. None: no such held purchase."""
        now = now or clock.now()
        lot = entry_id_of(Cause.RECEIPT, decided.fiscal_key)
        held = self.ledger.entry(decided.member_id, lot)
        later = self.ledger.entry(decided.member_id, entry_id_of(Cause.HELD, f"later:{decided.fiscal_key}"))
        rules = held.details.held_by if held is not None else []
        rules = rules or (later.details.held_by if later is not None else [])
        if held is None or not rules:
            return None
        bought = held.details.model_copy(update={"held_by": rules})
        paid = (REFERRED_BONUS_ENTRY,) if bought.first_purchase else ()  # held with it, if it was held later
        posting = self.ledger.apply(
            decided.member_id, entry_id_of(Cause.HELD, decided.fiscal_key), Kind.HELD_DECISION,
            lambda wal: postings.held_decision(self.program, wal, lot, decided.approved, bought.brand_sum_kopecks,
                                               bought.channel or "other", now, paid,
                                               purchased_at=None if later is not None else
                                               held.details.purchased_at or held.created_at),
            details=Details(fiscal_key=decided.fiscal_key, approved=decided.approved, held_by=bought.held_by,
                            store=bought.store, channel=bought.channel,
                            brand_sum_kopecks=0 if decided.approved else bought.brand_sum_kopecks), now=now)
        store = self.program.place(bought.channel, bought.store)
        if bought.first_purchase and later is not None:  # its bonuses were paid before it was held
            self._inviter_side(posting, decided.fiscal_key, decided.approved, now)
        if decided.approved:
            released = later.change.pending if later is not None and later.change.pending else bought.credited
            self.news.send(posting, "receipt_held_approved", points=released, store=store)
            self.news.challenges(posting)
            bonuses = referral(self.program, posting.holder.referred_by) if bought.first_purchase else None
            if bonuses is not None:
                self._referral(posting, bonuses, now, answer=False)
        else:
            self.news.send(posting, "receipt_held_rejected", store=store,
                              reason="; ".join(rule_words(bought.held_by)))
        logger.info("held receipt decided", extra={"member_id": decided.member_id, "fiscal_key": decided.fiscal_key,
                                                    "approved": decided.approved, "replayed": not posting.applied})
        return posting

    def _inviter_side(self, friend: Posting, fiscal_key: str, approved: bool | None, now: datetime) -> None:
        """The inviter's bonus for a friend's first purchase goes as that purchase does: held with it when it is
        held later (`approved` None), released or taken back as the staff decide. A bonus never paid (the purchase
        was held from the start) is left to the approval to pay."""
        inviter = friend.holder.referred_by
        if inviter is None:
            return
        bonus = referrer_bonus_entry(self.keyed.marker("member", friend.holder.member_id))
        entry, kind = (f"later:{fiscal_key}:inviter", Kind.HELD_LATER) if approved is None \
            else (f"{fiscal_key}:inviter", Kind.HELD_DECISION)
        step = (lambda wal: wallet.freeze(wal, bonus)) if approved is None \
            else (lambda wal: postings.held_bonus(wal, bonus, approved, now))
        try:  # no held_by: the friend's purchase is the one held, counted once (`loyalty fraud report`)
            self.ledger.apply(inviter, entry_id_of(Cause.HELD, entry), kind, step, now=now, details=Details(
                fiscal_key=fiscal_key, referral=bonus.removeprefix(referrer_bonus_entry("")), approved=approved,
                label="бонус за приглашение"))
        except MemberNotFound:
            logger.info("inviter is not a member; nothing of theirs to hold", extra={"fiscal_key": fiscal_key})

    def _campaigns(self, purchase: Posting, accepted: ReceiptAccepted, now: datetime, program: Program) -> None:
        """The purchase converts the member's last campaign touch (within its goal), and reaches the triggered
        campaigns whose segment it brought the member into (once: keyed on the receipt)."""
        if self.touches is None:
            return
        holder, details = purchase.holder, purchase.details
        last = holder.last_touch
        if last is not None and last.converted_by(details.purchased_at or now, accepted.channel) \
                and self.touches.store.convert(last.campaign, last.key, accepted.brand_sum_kopecks, now, last.held_out):
            logger.info("campaign converted", extra={"campaign": last.campaign, "member_id": holder.member_id})
        if details.campaign and details.boost_points and not details.campaign.startswith(BOOST):
            # a campaign's multiplier paid (not one the draw gave): its budget's spend
            self.touches.store.boosted(details.campaign, accepted.fiscal_key, details.boost_points, now)
        for name in details.entered:
            campaign = program.campaign(name)
            if campaign is not None:
                self.touches.reach(campaign, campaign.touch(holder.member_id, accepted.fiscal_key), holder, now)

    def _store(self, accepted: ReceiptAccepted) -> Place:
        return self.program.place(accepted.channel, accepted.store)

    def _tell_credit(self, posting: Posting, store: Place) -> None:
        details = posting.details
        credited, earned = details.credited, details.earned
        if earned == 0:
            self.notices.send(posting, "receipt_zero_points", brand=self.program.brand.name)
            return
        parts: list[tuple[str, dict[str, object]]] = []
        if details.pending and details.available_at is not None:
            parts.append(("points_pending", {"points": credited, "store": store,
                                             "date": self.notices.date(posting, details.available_at)}))
        else:
            parts.append(("points_credited", {"points": credited, "store": store}))
        if details.capped:
            parts.append(("points_capped", {"points": credited, "earned": earned}))
        if details.debt_paid:
            parts.append(("debt_paid", {"paid": details.debt_paid}))
        if details.spins:
            parts.append(("spins_earned", {"spins": details.spins}))
        self.notices.parts(posting, *parts)

    def _referral(self, purchase: Posting, bonuses: Referral, now: datetime, answer: bool = True) -> None:
        """Both sides of an invitation are paid once, on the invited member's first accepted receipt. `answer`: the
        friend hears of theirs as the answer to their receipt (not when the staff released it later)."""
        member_id, inviter = purchase.holder.member_id, bonuses.inviter
        # The inviter's entry names the friend by a keyed pseudonym, never by their Telegram id: it outlives the
        # friend's erasure, and the same person invited again finds it paid.
        friend = self.keyed.marker("member", member_id)
        fiscal_key = purchase.details.fiscal_key or ""
        for owner, entry_id, points, text in ((member_id, REFERRED_BONUS_ENTRY, bonuses.referred, "bonus_referred"),
                                              (inviter, referrer_bonus_entry(friend), bonuses.referrer,
                                               "bonus_referrer")):
            if points <= 0:
                continue
            # A purchase held later (a rule tripped after it was credited) holds the bonuses it pays, whenever
            # they are written: the friend's by its own wallet's purchase lot, the inviter's as it is read after.
            held = self._held_later(member_id, fiscal_key)
            try:
                posting = self._credit_bonus(owner, entry_id, points, "бонус за приглашение", now,
                                             details=Details(referral=friend if owner == inviter else inviter),
                                             held=held, held_with=entry_id_of(Cause.RECEIPT, fiscal_key)
                                             if owner == member_id else None)
            except MemberNotFound:
                logger.warning("inviter is not a member; referral bonus skipped",
                               extra={"member_id": member_id, "inviter": inviter})
                continue
            if not held:  # else the approval tells them; the inviter hears it as news, the friend as the answer
                told = self.notices if owner == member_id and answer else self.news
                told.parts(posting, (text, {"points": posting.points}), (BALANCE, {}))
                self._progress(told, posting)

    def _held_later(self, member_id: str, fiscal_key: str) -> bool:
        """Whether a purchase credited before a rule tripped waits for the staff now."""
        return self.ledger.entry(member_id, entry_id_of(Cause.HELD, f"later:{fiscal_key}")) is not None and \
            self.ledger.entry(member_id, entry_id_of(Cause.HELD, fiscal_key)) is None

    def reverse(self, refund: ReceiptAccepted, now: datetime | None = None) -> Posting:
        """Take back the points of the refunded share of a purchase (in proportion to its brand goods)."""
        now = now or clock.now()
        assert refund.reverses is not None  # handle_record sends only refunds here
        member_id, lot = refund.shopper.member_id, entry_id_of(Cause.RECEIPT, refund.reverses)
        original = self.ledger.entry(member_id, lot)
        if original is None or not refund.purchase_kopecks:
            raise RetryLater(f"the accrual for {refund.reverses} is not written yet")
        refunded = min(refund.brand_sum_kopecks, refund.purchase_kopecks)
        points = refund_points(self.program, original.details, list(refund.lines), refunded,
                               refund.purchase_kopecks)
        posting = self.ledger.apply(
            member_id, entry_id_of(Cause.REFUND, refund.fiscal_key), Kind.REFUND,
            lambda wal: postings.refund(wal, lot, points, refunded, refunded == refund.purchase_kopecks, now,
                                        refund.channel),
            details=Details(fiscal_key=refund.fiscal_key, reverses=refund.reverses, store=refund.store,
                            submission_id=refund.submission_id, channel=refund.channel, brand_sum_kopecks=refunded,
                            whole=refunded == refund.purchase_kopecks),
            now=now,
        )
        # a whole refund also took back the challenge rewards its purchase completed: the member is told the sum,
        # and what of it was a challenge's
        challenges = [self.program.challenge(lot.partition("~")[2]) for lot in posting.details.lots if "~" in lot]
        points = max(points, posting.details.reversed)
        shortfall, store = posting.details.shortfall, self._store(refund)
        logger.info("points reversed", extra={
            "member_id": member_id, "fiscal_key": refund.fiscal_key, "reverses": refund.reverses,
            "points": points, "shortfall": shortfall, "replayed": not posting.applied,
        })
        told: list[tuple[str, dict[str, Any]]] = [
            ("points_reversed_debt", {"points": points, "taken": points - shortfall, "debt": shortfall,
                                      "store": store}) if shortfall
            else ("points_reversed", {"points": points, "store": store})]
        language = posting.holder.language
        told += [("points_reversed_challenge", {"title": words(challenge.title, language)})
                 for challenge in challenges if challenge is not None]
        self.notices.parts(posting, *told)
        return posting

    # ------------------------------------------------------------------ bonuses
    def bonus(self, granted: BonusGranted, now: datetime | None = None) -> Posting | None:
        now = now or clock.now()
        points = getattr(self.program.bonuses, granted.bonus)
        if points <= 0:
            return None
        review = granted.bonus == "review"
        entry_id = review_bonus_entry(granted.reference) if review else WELCOME_BONUS_ENTRY
        posting = self._credit_bonus(granted.shopper.member_id, entry_id, points,
                                     "бонус за отзыв" if review else "приветственный бонус", now, review=review)
        told = self.news if review else self.notices  # a review's bonus follows the staff's (or the site's) check
        told.parts(posting, (f"bonus_{granted.bonus}", {"points": posting.points}), (BALANCE, {}))
        self._progress(told, posting)
        return posting

    def _progress(self, told: Notices, posting: Posting) -> None:
        """What the entry moved the member to: the level, told as `told` tells the entry, and each challenge it
        completed, always as news through the contact policy."""
        told.level(posting)
        self.news.challenges(posting)

    def _credit_bonus(self, member_id: str, entry_id: str, points: int, label: str, now: datetime,
                      review: bool = False, details: Details | None = None, held: bool = False,
                      held_with: str | None = None) -> Posting:
        """A bonus, available at once; held (`held`, or while the wallet's lot `held_with` is) until the staff
        decide."""
        posting = self.ledger.apply(
            member_id, entry_id, Kind.BONUS,
            lambda wal: postings.bonus(self.program, wal, entry_id, points, label, now, review=review,
                                       held=held or wallet.is_held(wal, held_with)),
            details=Details(label=label) | (details or Details()), now=now,
        )
        logger.info("bonus credited", extra={"member_id": member_id, "entry_id": entry_id, "points": points,
                                             "replayed": not posting.applied})
        return posting

    def withdraw(self, withdrawn: CampaignBonusWithdrawn, now: datetime | None = None) -> Posting | None:
        """Take back the bonus of a campaign message that never reached its member (they had blocked the bot): a
        bonus is paid for an offer the member saw. Nothing, when the touch paid none."""
        now = now or clock.now()
        occasion = touch_of(withdrawn.touch)
        paid = entry_id_of(Cause.CAMPAIGN, occasion)
        campaign = campaign_of(paid)
        if campaign is None or self.ledger.entry(withdrawn.member_id, paid) is None:
            return None
        posting = self.ledger.apply(
            withdrawn.member_id, withdrawal_entry(occasion), Kind.WITHDRAWAL,
            lambda wal: postings.campaign_withdrawal(wal, paid, campaign, now), now=now)
        logger.info("campaign bonus withdrawn: its message was not delivered",
                    extra={"member_id": withdrawn.member_id, "campaign": campaign, "points": posting.points})
        return posting

    def adjust(self, adjusted: PointsAdjusted, now: datetime | None = None) -> Posting:
        """A support member's correction from the console: once per request, with their reason, told to the member
        as news (a letter) and to the CRM like any balance change. Taking more than is available is refused."""
        now = now or clock.now()
        entry_id = entry_id_of(Cause.ADJUSTMENT, f"console:{adjusted.reference}")
        try:
            posting = self.ledger.apply(
                adjusted.member_id, entry_id, Kind.ADJUSTMENT,
                lambda wal: postings.adjustment(self.program, wal, entry_id, adjusted.points, now),
                details=Details(reason=adjusted.reason), now=now)
        except InsufficientPoints as error:
            raise PermanentFailure(f"adjustment {adjusted.reference}: {error}") from error
        sign = "+" if posting.points >= 0 else "−"
        self.news.parts(posting, ("points_adjusted", {"points": abs(posting.points), "sign": sign,
                                                      "reason": adjusted.reason}), (BALANCE, {}))
        logger.info("points adjusted from the console", extra={
            "member_id": adjusted.member_id, "by": adjusted.by, "points": posting.points,
            "replayed": not posting.applied})
        return posting

    def reverse_credit(self, reversed_: CreditReversed, now: datetime | None = None) -> Posting:
        """Support's reversal from the console: what the purchase credited and is still to be taken (less what
        refunds took) comes back, once per purchase, as a whole refund would take it (what was spent since becomes
        debt); the member is told why, as news, and the CRM like any balance change."""
        now = now or clock.now()
        member_id, lot = reversed_.member_id, entry_id_of(Cause.RECEIPT, reversed_.fiscal_key)
        entries = self.ledger.entries(member_id)
        original = next((e for e in entries if e.entry_id == lot), None)
        if original is None:
            raise PermanentFailure(f"reversal: {member_id} has no purchase {reversed_.fiscal_key}")
        fiscal_key = reversed_.fiscal_key
        refunded = sum(-e.points for e in entries if e.kind == Kind.REFUND and e.details.reverses == fiscal_key
                       and e.entry_id != reversal_entry(fiscal_key))
        points = max(0, original.points - refunded)
        posting = self.ledger.apply(
            member_id, reversal_entry(reversed_.fiscal_key), Kind.REFUND,
            lambda wal: postings.refund(wal, lot, points, original.details.brand_sum_kopecks, True, now,
                                        original.details.channel or "other"),
            details=Details(reverses=reversed_.fiscal_key, reason=reversed_.reason, channel=original.details.channel,
                            store=original.details.store, brand_sum_kopecks=original.details.brand_sum_kopecks,
                            whole=True), now=now)
        self.news.parts(posting, ("credit_reversed", {"points": points, "reason": reversed_.reason,
                                                      "store": self.program.place(original.details.channel,
                                                                                  original.details.store)}),
                        (BALANCE, {}))
        logger.info("purchase credit reversed from the console", extra={
            "member_id": member_id, "fiscal_key": reversed_.fiscal_key, "by": reversed_.by, "points": points,
            "replayed": not posting.applied})
        return posting

    # ------------------------------------------------------------------ imported members
    def merge(self, merged: MembersMerged, now: datetime | None = None) -> Posting:
        """Move an imported member's points (and level, if higher) to the shopper who proved their phone: taken
        from one wallet by an entry that keeps the lots, then given to the other from that entry, so a
        redelivery after either step finishes the move exactly once."""
        now = now or clock.now()
        source, target = merged.source, merged.shopper.member_id
        taken = self.ledger.apply(source, entry_id_of(Cause.TRANSFER, f"to:{target}"), Kind.TRANSFER,
                                  lambda wal: postings.transfer_out(wal, target), now=now)
        level = self.ledger.read(source)[0].level
        given = self.ledger.apply(
            target, entry_id_of(Cause.TRANSFER, f"from:{source}"), Kind.TRANSFER,
            lambda wal: postings.transfer_in(self.program, wal, source, taken.details.moved, level, now), now=now)
        logger.info("imported member merged", extra={"member_id": target, "source": source, "points": given.points,
                                                     "replayed": not given.applied})
        if given.points:
            self.notices.send(given, "points_transferred", points=given.points)
        self.notices.level(given)
        return given

    # ------------------------------------------------------------------ the bot's account actions
    def reward(self, request: RewardRequested, now: datetime | None = None) -> str:
        if self.rewards is None:
            raise PermanentFailure("rewards need the bot table (BOT_TABLE)")
        return self.rewards.exchange(request, now or clock.now())

    def erase(self, erased: MemberErased, now: datetime | None = None) -> str | None:
        if self.erasure is None:
            raise PermanentFailure("erasing a member needs the claims and members tables")
        if self.bot_table is not None:  # out of the closed community first: the member's id is about to go
            CommunityDoor(self.program, None, self.ledger, self.outbox, self.bot_table).erased(
                erased.member_id, f"erased:{erased.member_id}")
        return self.erasure.erase(erased.member_id, now or clock.now())

    # ------------------------------------------------------------------ the birthday
    def birthday(self, given: BirthdayGiven, now: datetime | None = None) -> Posting | None:
        """The member's birthday, kept once per request: the answer says when the gift comes (or, a year not being
        up, from when the date may be corrected). None: refused."""
        now = now or clock.now()
        shopper, key = given.shopper, f"birthday:{given.request_id}"
        try:
            posting = self.ledger.apply(
                shopper.member_id, entry_id_of(Cause.BIRTHDAY, f"set:{given.request_id}"), Kind.PROFILE,
                lambda wal: postings.birthday_given(wal, given.month, given.day, now), now=now)
        except BirthdayLocked as error:
            self.replies.send(shopper, key, "birthday_locked", date=day_month(error.until, shopper.language))
            return None
        birthday = self.ledger.read(shopper.member_id)[0].birthday
        assert birthday is not None
        gift = self.program.birthday
        if gift is None:
            self.replies.send(shopper, key, "birthday_saved", date=birthday.words(shopper.language))
        else:
            self.replies.send(shopper, key, "birthday_saved_gift_level" if gift.min_level else "birthday_saved_gift",
                              date=birthday.words(shopper.language), points=gift.points, days=gift.days_before,
                              valid_days=gift.valid_days,
                              level=self.program.level_title(gift.min_level, shopper.language))
        logger.info("birthday given", extra={"member_id": shopper.member_id, "replayed": not posting.applied})
        return posting

    # ------------------------------------------------------------------ promo codes
    def promo(self, request: PromoRequested, now: datetime | None = None) -> Posting | None:
        """Reserve the points behind a one-time code; the brand's site redeems it through the API."""
        now = now or clock.now()
        member_id, hold_id = request.shopper.member_id, f"promo:{request.request_id}"
        entry_id, minimum = entry_id_of(Cause.HOLD, hold_id), self.program.redemption.promo_min_points
        replay = self.ledger.entry(member_id, entry_id)
        current, _, _ = self.ledger.read(member_id)
        available = current.spendable_points(now)
        points = request.points or available
        if replay is None and (points < minimum or points > available):
            refusal = "promo_too_small" if points < minimum else "promo_too_few"
            self.replies.send(request.shopper, f"{hold_id}:refused", refusal, minimum=minimum, points=points,
                              balance=available)
            return None
        code, expires = new_code(), now + timedelta(days=self.program.redemption.promo_code_days)
        item = self.promo_codes.put_item(PromoCode(code=code, member_id=member_id, hold_id=hold_id, points=points,
                                                   expires_at=expires.isoformat()), expires)
        try:
            posting = self.ledger.apply(
                member_id, entry_id, Kind.HOLD,
                lambda wal: wallet.hold(wal, hold_id, points, now, expires, code=code),
                details=Details(code=code, promo=True), extra_items=[item], now=now,
            )
        except InsufficientPoints as error:
            self.replies.send(request.shopper, f"{hold_id}:refused", "promo_too_few", points=points,
                              balance=error.available)
            return None
        details = posting.details
        self.notices.send(posting, "promo_issued", code=details.code, points=-posting.points,
                          date=self.notices.date(posting, details.expires_at or expires), brand=self.program.brand.name)
        return posting


class InProcess:
    """The Queue port for a receipt the check accepted: it is credited at once, in the same invocation, inside the
    same held outbox. A failure here fails the submission's delivery, whose retry checks it again: the claim finds
    itself and the ledger its entry, so nothing is credited twice (at the price of a second fetch)."""

    def __init__(self, accrual: PointAccrual):
        self.accrual = accrual

    def put(self, message: BaseModel) -> None:
        self.accrual.command(message)
