"""The points schedule: what falls due on wallets with time — pending points become available, points expire
(after a reminder), stale holds and unused promo codes go back, levels are re-checked.

Members with something due are found through the ledger's due index, not a scan. Each due thing is one
ledger entry with a key derived from it, so a run that is retried, or overlaps another, changes nothing
twice. Its message is queued *before* the entry is written, keyed on the entry: if the run dies between
the two, the next run writes the entry and its message is dropped by the outbox as a duplicate.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING, Any

from loyalty.domain import postings
from loyalty.domain.campaigns import Touch, member_of
from loyalty.domain.ledger import Kind, Posting, entry_of
from loyalty.flows.community import CommunityDoor
from loyalty.flows.draw_seeds import publish
from loyalty.flows.letters import BALANCE, Letters
from loyalty.flows.notices import Notices
from loyalty.flows.replies import Replies
from loyalty.observability import logger

if TYPE_CHECKING:
    from loyalty.domain.program import Program
    from loyalty.domain.wallet import Wallet
    from loyalty.flows.campaigns import Touches
    from loyalty.flows.ports import CommunityRoll, DrawStore, Ledger, Outbox

_MAX_ACTIONS_PER_MEMBER = 200  # a guard against a rule that keeps something due forever


class ScheduleFailed(Exception):
    """Some members could not be settled; the run fails so that it is retried (each entry is written once)."""


class PointsSchedule:
    def __init__(self, program: Program, ledger: Ledger, outbox: Outbox, touches: Touches | None = None,
                 letters: Letters | None = None, draw: DrawStore | None = None, roll: CommunityRoll | None = None):
        self.program = program
        # a level review's downgrade below the closed community's level shows the member out of it
        self.community = CommunityDoor(program, None, ledger, outbox, roll) if roll is not None else None
        self.draw = draw if program.draw is not None else None  # the prize draw's seeds, published a day ahead
        self.ledger = ledger
        # Nothing the schedule says is a direct answer: with `letters`, the contact policy decides when it goes.
        self.notices = Notices(Replies(outbox), program, letters)
        self.touches = touches  # the expiring-points reminder goes through them when the program has one

    def run(self, now: datetime) -> dict[str, Any]:
        if self.draw is not None:
            publish(self.draw, now)
        counts: dict[str, int] = {}
        failed = []
        for member_id in self.ledger.due(now):
            try:
                for kind in self.settle(member_id, now):
                    counts[kind] = counts.get(kind, 0) + 1
            except Exception:
                logger.exception("could not settle a member", extra={"member_id": member_id})
                failed.append(member_id)
        logger.info("schedule run", extra={"at": now.isoformat(), **counts, "failed": len(failed)})
        if failed:
            raise ScheduleFailed(f"{len(failed)} members not settled: {failed[:20]}")
        return counts

    def settle(self, member_id: str, now: datetime) -> list[str]:
        """Write everything due on one member at `now`, in order. Returns the kinds written."""
        done: list[str] = []
        for _ in range(_MAX_ACTIONS_PER_MEMBER):
            wallet, _, holder = self.ledger.read(member_id)
            actions = postings.due_actions(self.program, wallet, now)
            if not actions:
                return done
            action = actions[0]
            entry = entry_of(member_id, action.entry_id, action.kind, action.apply(wallet), now)
            preview = Posting(entry=entry, applied=False, holder=holder)
            if not self._remind(preview, wallet, now):
                self._tell(preview, now)
            self.ledger.apply(member_id, action.entry_id, action.kind, action.apply, now=now)
            done.append(action.kind)
        raise RuntimeError(f"member {member_id}: still due after {_MAX_ACTIONS_PER_MEMBER} actions")

    def _remind(self, posting: Posting, wallet: Wallet, now: datetime) -> bool:
        """Points about to expire, told through the program's expiring-points campaign (once per lot: the touch is
        keyed on the reminder's entry). False when there is no such campaign, or this is not a reminder."""
        campaign, details = self.program.expiry_reminder, posting.details
        if posting.entry.kind != Kind.REMINDER or campaign is None or self.touches is None:
            return False
        segment = self.program.segments.get(campaign.segment) if campaign.segment else None
        holder = posting.holder
        if details.points and details.expires_at is not None and (segment is None or segment.matches(
                member_of(wallet, now, subscribed=holder.subscribed), now)):
            touch = Touch(campaign=campaign.name, step=0, member_id=holder.member_id,
                          key=f"{campaign.name}:0:{posting.entry.entry_id}")
            self.touches.reach(campaign, touch, holder, now,
                               values={"points": details.points, "days": _days_until(details.expires_at, now),
                                       "until": details.expires_at})
        return True

    def _tell(self, posting: Posting, now: datetime) -> None:
        kind, details = posting.entry.kind, posting.details
        if kind == Kind.ACTIVATION and details.activated:
            self.notices.parts(posting, ("points_available", {"points": details.activated,
                                                                    "store": self.program.place(None, details.label)}),
                               (BALANCE, {}))
        elif kind == Kind.EXPIRY and details.expired:
            self.notices.parts(posting, ("points_expired", {"points": details.expired}), (BALANCE, {}))
        elif kind == Kind.REMINDER and details.points and details.expires_at is not None:
            self.notices.send(posting, "expiry_reminder", points=details.points,
                              days=_days_until(details.expires_at, now),
                              date=self.notices.date(posting, details.expires_at), brand=self.program.brand.name,
                              share=f"{self.program.redemption.max_share_percent.normalize():f}")
        elif kind == Kind.RELEASE and details.code and details.returned:
            self.notices.parts(posting, ("promo_returned", {"code": details.code, "points": details.returned}),
                               (BALANCE, {}))
        elif kind == Kind.LEVEL_REVIEW:
            self.notices.level(posting)
            if self.community is not None and self.community.level_changed(
                    posting.holder.member_id, details.level_before, details.level, posting.entry.entry_id):
                self.notices.parts(posting, ("community_left", self.community.left_words(posting.holder.language)),
                                   suffix=":community")
        elif kind == Kind.BONUS and details.birthday and posting.entry.points and details.expires_at is not None:
            self.notices.parts(posting, ("birthday_gift", {"points": posting.entry.points,
                                                           "date": self.notices.date(posting, details.expires_at)}),
                               (BALANCE, {}))


def _days_until(moment: datetime, now: datetime) -> int:
    """Whole days left before `moment`, rounded up: a reminder never says "0 days"."""
    return max(1, math.ceil((moment - now).total_seconds() / 86400))
