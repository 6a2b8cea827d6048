"""/delete, on the ledger's side (AccrualQueue): the points left are written off in one entry, then the member's
wallet, entries, receipt claims, follow-ups, tickets and campaign deliveries move to the random pseudonym `/delete`
gave them, and the old key is gone. The
books still add up (`loyalty ledger verify`), the brand's liability drops by exactly what was written off, the
receipts stay claimed by nobody anyone can name, and the same Telegram account starting again begins from zero."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from loyalty.domain import postings
from loyalty.domain.errors import MemberNotFound
from loyalty.domain.ledger import Cause, Kind, entry_id_of
from loyalty.observability import logger

if TYPE_CHECKING:
    from loyalty.flows.ports import Claims, Forgetting, Ledger, Members, Rekeying


class Erasure:
    def __init__(self, ledger: Ledger, books: Rekeying, claims: Claims, members: Members,
                 remembered: Sequence[Forgetting] = ()):
        self.ledger = ledger  # the ledger flows write through (entries reported to the CRM)
        self.books = books  # the repository itself: only it moves a wallet
        self.claims = claims
        self.members = members
        self.remembered = remembered  # the bot's memory, the campaigns' deliveries: what else names members

    def erase(self, member_id: str, now: datetime) -> str | None:
        """Returns the pseudonym the books moved to (None: done before, or the member came back in between)."""
        member = self.members.get(member_id)
        if member is None or not member.erased_at or member.anonymous_id is None:
            return None
        try:
            written_off = self.ledger.apply(member_id, entry_id_of(Cause.ERASURE, "account"), Kind.FORFEIT,
                                            lambda wal: postings.forfeit(wal, now), now=now)
        except MemberNotFound:
            return None
        moved = self.claims.reassign(member_id, member.anonymous_id)
        # Before the books move: a redelivery after a failure finds the member and sweeps again (nothing twice).
        renamed = sum(store.forget_member(member_id, member.anonymous_id) for store in self.remembered)
        self.books.rekey(member_id, member.anonymous_id)
        logger.info("erased member anonymised", extra={"member_id": member_id, "written_off": -written_off.points,
                                                       "claims": moved, "renamed": renamed})
        return member.anonymous_id
