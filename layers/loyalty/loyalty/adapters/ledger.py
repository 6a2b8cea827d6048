"""Points ledger: an append-only list of entries per member, and the member's wallet (balances, lots, holds).

An entry and the wallet it leads to are written in one DynamoDB transaction:
- the entry's key is derived from what caused it (a receipt's fiscal key, a hold's idempotency key), and it
  is put only if absent, so a redelivered message finds its entry written and changes nothing;
- the member's item is updated only if its `version` is still the one the step was computed from, so two
  concurrent writers never lose an update: the loser reads the wallet again and recomputes its step. The
  step itself never takes a balance below zero, and it is computed from exactly the wallet it replaces.

The member item also carries `next_due_at` in a sparse, sharded index, so the schedule finds the wallets
with something due (activation, expiry, a reminder, a stale hold, a level review) without a scan.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from loyalty import clock, deadline
from loyalty.adapters.aws import cancellation_reasons, client
from loyalty.adapters.dynamo import applied, from_item, query_shards, shard_of, to_item
from loyalty.domain import postings
from loyalty.domain.errors import Contended, DomainError, ItemRefused, MemberNotFound
from loyalty.domain.ledger import Entry, Holder, Kind, Posting, entry_of
from loyalty.domain.member import LEDGER_READS
from loyalty.domain.wallet import Balance, Step, Wallet, audit, stored

if TYPE_CHECKING:
    from loyalty.domain.daily import Past
    from loyalty.domain.details import Details
    from loyalty.domain.program import Program

_MAX_ATTEMPTS = 60
DUE_SHARDS = 8  # the due and lapse indexes' partitions: a hot partition would throttle the queries
DUE_INDEX = "by_due"


def ledger_for(program: Program, ledger_table: str, members_table: str) -> LedgerRepository:
    """The ledger, indexing each wallet by when something next falls due under this program, and carrying each
    purchase's past for the figures."""

    def past_after(past: Past, entry: Entry) -> Past:
        return past.after(program, entry)

    return LedgerRepository(ledger_table, members_table, lambda wal: postings.next_due(program, wal), past_after)


class LedgerRepository:
    def __init__(self, ledger_table: str, members_table: str,
                 next_due: Callable[[Wallet], datetime | None] = lambda wallet: None,
                 past_after: Callable[[Past, Entry], Past] | None = None):
        self.ledger_table = ledger_table
        self.members_table = members_table
        self.next_due = next_due
        # The figures' past of a member (domain/daily.py: Past), kept on the member item and put on each purchase's
        # entry as it was before it: the figures read it from the entry's stream record, not from a table of theirs.
        self.past_after = past_after

    def apply(self, member_id: str, entry_id: str, kind: Kind, step: Callable[[Wallet], Step],
              details: Details | None = None, extra_items: list[Any] | None = None,
              now: datetime | None = None, also: Callable[[Entry], list[Any]] | None = None,
              seen: dict[str, Any] | None = None) -> Posting:
        """Write entry `entry_id` once, with the step computed from the member's current wallet, and the writes
        `also` makes of the entry, in one transaction. `seen` is the member item as a caller read it: the first try
        is computed from it, with no read; a wallet changed since is refused by its version, and the refusal
        returns the item as it is (ALL_OLD), from which the next try is computed."""
        known = seen if seen is not None and seen.get("member_id") == member_id else None
        for attempt in range(_MAX_ATTEMPTS):
            read_now = known is None
            wallet, version, holder, past = self._read(member_id) if known is None else _unpacked(known)
            known = None
            try:
                result = step(wallet)
            except DomainError:
                if not read_now:
                    continue  # computed from a wallet read earlier: judge the step on the wallet as it is now
                replay = self.entry(member_id, entry_id)  # a replay may no longer fit the wallet it changed
                if replay is not None:
                    return Posting(entry=replay, applied=False, holder=holder)
                raise
            entry = entry_of(member_id, entry_id, kind, result, now or clock.now(), details)
            try:
                self._write(member_id, entry, result.wallet, version,
                            [*(extra_items or []), *(also(entry) if also is not None else [])],
                            self._pasts(member_id, entry, wallet, past))
            except ClientError as error:
                replay, known = self._refused(error, member_id, entry_id)
                if replay is not None:
                    return Posting(entry=replay, applied=False, holder=holder)
                # Another writer changed the wallet (the refusal brought it as it is now: `known`) or was in the same
                # items (read it again): either way, step aside a moment, so that two writers do not meet again.
                pause = random.uniform(0, min(1.0, 0.02 * 2 ** attempt))  # noqa: S311 - jitter, not crypto
                if not deadline.enough_for(pause):
                    break
                time.sleep(pause)
                continue
            return Posting(entry=entry, applied=True, holder=holder)
        raise Contended(f"member {member_id}'s wallet kept changing; {entry_id} not written, try again")

    def _refused(self, error: ClientError, member_id: str, entry_id: str) -> tuple[Entry | None,
                                                                                  dict[str, Any] | None]:
        """Why an entry's transaction was cancelled: its entry written before (a redelivery: that entry), or the
        wallet changed (the member item as it is now); neither: another writer was in the way, try again. What
        trying again cannot mend is raised."""
        reasons = cancellation_reasons(error)
        if reasons is None:
            raise error
        if reasons and reasons[0] == "ConditionalCheckFailed":  # the entry exists: a redelivery
            replay = self.entry(member_id, entry_id)
            if replay is not None:
                return replay, None
        refused = [i for i, code in enumerate(reasons) if i >= 2 and code == "ConditionalCheckFailed"]
        if refused:  # an extra item's own condition: trying again cannot help
            raise ItemRefused(refused[0] - 2) from error
        if any(code not in (None, "ConditionalCheckFailed", "TransactionConflict") for code in reasons):
            raise error
        return None, _member_refused(error) if reasons[1:2] == ["ConditionalCheckFailed"] else None

    def rewrite_facts(self, member_id: str) -> bool:
        """Rebuild a member's facts from their entries (`loyalty members backfill-facts`); True if they changed.
        No entry is written: the wallet's balances are untouched, and a writer in between makes us start over."""
        for _ in range(_MAX_ATTEMPTS):
            wallet, version, _ = self.read(member_id)
            facts = postings.facts_of(self.entries(member_id))
            if facts == wallet.facts:
                return False
            try:
                self._write(member_id, None, wallet.model_copy(update={"facts": facts}), version, [])
            except ClientError as error:
                if cancellation_reasons(error) is None:
                    raise
                continue
            return True
        raise Contended(f"member {member_id}'s wallet kept changing; facts not rebuilt, try again")

    def members(self) -> Iterator[str]:
        for page in client("dynamodb").get_paginator("scan").paginate(
            TableName=self.members_table, ProjectionExpression="member_id",
        ):
            yield from (from_item(item)["member_id"] for item in page["Items"])

    def read(self, member_id: str) -> tuple[Wallet, int, Holder]:
        return self._read(member_id)[:3]

    def _read(self, member_id: str) -> tuple[Wallet, int, Holder, str | None]:
        """The wallet, its version, its holder, and the figures' past as the member item keeps it (JSON)."""
        response = client("dynamodb").get_item(
            TableName=self.members_table, Key=to_item({"member_id": member_id}), ConsistentRead=True,
            ProjectionExpression=", ".join("#lang" if name == "language" else name for name in LEDGER_READS),
            ExpressionAttributeNames={"#lang": "language"},
        )
        if "Item" not in response:
            raise MemberNotFound(member_id)
        return _unpacked(from_item(response["Item"]))

    def _pasts(self, member_id: str, entry: Entry, wallet: Wallet, kept: str | None) -> _Pasts | None:
        """What a purchase carries (its member's past before it) and leaves on the member (the past after it); a
        deleted account's write-off forgets it. A member who bought before pasts were kept here has theirs folded
        from their entries, once."""
        if self.past_after is None or entry.kind not in (Kind.ACCRUAL, Kind.FORFEIT):
            return None
        if entry.kind == Kind.FORFEIT:
            return _Pasts(before=None, after=None)
        from loyalty.domain.daily import NO_PAST, Past

        before = Past.model_validate_json(kept) if kept is not None else NO_PAST
        if kept is None and wallet.facts.first_purchase_at is not None:
            for earlier in sorted(self.entries(member_id), key=lambda found: (found.created_at, found.entry_id)):
                if earlier.kind == Kind.ACCRUAL and earlier.entry_id != entry.entry_id:
                    before = self.past_after(before, earlier)
        return _Pasts(before=before.model_dump_json(), after=self.past_after(before, entry).model_dump_json())

    def entry(self, member_id: str, entry_id: str) -> Entry | None:
        response = client("dynamodb").get_item(
            TableName=self.ledger_table, Key=to_item({"member_id": member_id, "entry_id": entry_id}),
            ConsistentRead=True,
        )
        return _entry(response["Item"]) if "Item" in response else None

    def entries(self, member_id: str) -> list[Entry]:
        """Every entry of a member, oldest first."""
        return [_entry(item) for page in client("dynamodb").get_paginator("query").paginate(
            TableName=self.ledger_table, KeyConditionExpression="member_id = :m",
            ExpressionAttributeValues=to_item({":m": member_id}), ConsistentRead=True,
        ) for item in page["Items"]]

    def every_entry(self) -> Iterator[list[Entry]]:
        """Every member's entries, a scan page at a time, in no order (the report reads the books once)."""
        for page in client("dynamodb").get_paginator("scan").paginate(TableName=self.ledger_table):
            yield [_entry(item) for item in page["Items"]]

    def history(self, member_id: str, limit: int) -> list[Entry]:
        """The member's last `limit` entries, newest first (the time index)."""
        response = client("dynamodb").query(
            TableName=self.ledger_table, IndexName="by_created_at", KeyConditionExpression="member_id = :m",
            ExpressionAttributeValues=to_item({":m": member_id}), ScanIndexForward=False, Limit=limit,
        )
        return [_entry(item) for item in response["Items"]]

    def audit(self) -> Iterator[tuple[str, list[str]]]:
        """Every member with what is wrong with their books (an empty list when nothing is)."""
        for page in client("dynamodb").get_paginator("scan").paginate(
            TableName=self.members_table, ConsistentRead=True,
            ProjectionExpression="member_id, wallet, available, pending, held, debt",
        ):
            for item in (from_item(raw) for raw in page["Items"]):
                balance = Balance(**{name: item.get(name, 0) for name in Balance.model_fields})
                changes = [entry.change for entry in self.entries(item["member_id"])]
                yield item["member_id"], audit(balance, stored(item), changes)

    def due(self, now: datetime) -> Iterator[str]:
        """Members with something due at `now`, shard by shard."""
        for item in query_shards(self.members_table, DUE_INDEX, DUE_SHARDS, "due_shard = :s AND next_due_at <= :now",
                                 {":now": clock.stamp(now)}, projection="member_id"):
            yield item["member_id"]

    def open(self, member_id: str, entry: Entry, wallet: Wallet, member: dict[str, Any]) -> bool:
        """Create a member with their first entry (an import's opening balance) in two puts, each only if absent,
        and no transaction: a bulk import stays one write per item. False if the member exists (then the entry
        goes through `apply` like any other). A crash between the two leaves a wallet whose entry is missing:
        the import's re-run writes it (`put_entry`)."""
        fields = {name: value for name, value in self._wallet_fields(member_id, wallet).items() if value is not None}
        if not applied("put_item", TableName=self.members_table, ConditionExpression="attribute_not_exists(member_id)",
                       Item=to_item({**member, **fields, "member_id": member_id, "version": 1})):
            return False
        self.put_entry(entry)
        return True

    def rekey(self, member_id: str, to: str) -> bool:
        """Move an erased member's wallet and every entry to the key `to` (a random pseudonym), then delete them
        under the old key: the books stay whole, and nothing in them leads back to the Telegram account. Each step
        may be repeated (copies are put if absent, deletes are idempotent), so a crash half-way is finished by the
        next call. False when there is nothing left to move, or the member is no longer erased (they came back)."""
        response = client("dynamodb").get_item(TableName=self.members_table, Key=to_item({"member_id": member_id}),
                                               ConsistentRead=True)
        item = from_item(response["Item"]) if "Item" in response else None
        if item is None or not item.get("erased_at"):
            return False
        entries = self.entries(member_id)
        for entry in entries:  # marked: the figures counted them under the old key (flows/figures.py)
            self.put_entry(entry.model_copy(update={"member_id": to}), moved=True)
        # Out of the due and lapse indexes: an erased wallet has nothing left to fall due or to win back.
        unindexed = {name: value for name, value in item.items()
                     if name not in ("due_shard", "next_due_at", "lapse_shard", "last_purchase_at")}
        # Each step may have been done by a run that crashed after it: a false condition is that run's work.
        applied("put_item", TableName=self.members_table, Item=to_item({**unindexed, "member_id": to}),
                ConditionExpression="attribute_not_exists(member_id)")
        for entry in entries:
            client("dynamodb").delete_item(TableName=self.ledger_table,
                                           Key=to_item({"member_id": member_id, "entry_id": entry.entry_id}))
        applied("delete_item", TableName=self.members_table, Key=to_item({"member_id": member_id}),
                ConditionExpression="attribute_exists(erased_at)")
        return True

    def put_entry(self, entry: Entry, moved: bool = False) -> bool:
        """Write an entry on its own, if absent (True if written): only for `open`, its repair and `rekey`."""
        item = {**entry_item(entry), **({"moved": True} if moved else {})}
        return applied("put_item", TableName=self.ledger_table, Item=to_item(item),
                       ConditionExpression="attribute_not_exists(entry_id)")

    def _wallet_fields(self, member_id: str, wallet: Wallet) -> dict[str, Any]:
        """The member item's attributes a wallet decides (None: the attribute goes): the wallet, its balances
        and level, and its places in the due and lapse indexes."""
        fields: dict[str, Any] = {"wallet": wallet.model_dump_json(), **wallet.balance.model_dump()}
        if wallet.level is not None:
            fields["level"] = wallet.level
        last_purchase = wallet.facts.last_purchase_at
        if last_purchase is not None:  # the win-back index (by_last_purchase)
            fields |= {"last_purchase_at": clock.stamp(last_purchase), "lapse_shard": due_shard(member_id)}
        due = self.next_due(wallet)
        fields |= {"next_due_at": clock.stamp(due), "due_shard": due_shard(member_id)} if due is not None \
            else {"next_due_at": None, "due_shard": None}
        return fields

    def _write(self, member_id: str, entry: Entry | None, wallet: Wallet, version: int,
               extra_items: list[Any], pasts: _Pasts | None = None) -> None:
        fields = self._wallet_fields(member_id, wallet) | ({"figures_past": pasts.after} if pasts else {})
        kept = {name: value for name, value in fields.items() if value is not None}
        gone = [name for name, value in fields.items() if value is None]
        update = "SET version = :next, " + ", ".join(f"#{name} = :{name}" for name in kept)
        if gone:
            update += " REMOVE " + ", ".join(f"#{name}" for name in gone)
        carried = {"past": pasts.before} if pasts and pasts.before is not None else {}
        written = [] if entry is None else [
            {"Put": {"TableName": self.ledger_table, "Item": to_item({**entry_item(entry), **carried}),
                     "ConditionExpression": "attribute_not_exists(entry_id)"}}]
        client("dynamodb").transact_write_items(TransactItems=[
            *written,
            {"Update": {
                "TableName": self.members_table, "Key": to_item({"member_id": member_id}),
                "UpdateExpression": update, "ConditionExpression": "version = :seen",
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                "ExpressionAttributeNames": {f"#{name}": name for name in fields},
                "ExpressionAttributeValues": to_item({":next": version + 1, ":seen": version,
                                                      **{f":{name}": value for name, value in kept.items()}}),
            }},
            *extra_items,
        ])


def _unpacked(item: dict[str, Any]) -> tuple[Wallet, int, Holder, str | None]:
    """A member item's wallet, its version, its holder, and the figures' past it keeps (JSON)."""
    return stored(item), int(item.get("version", 0)), Holder.model_validate(item), item.get("figures_past")


def _member_refused(error: ClientError) -> dict[str, Any] | None:
    """The member item an entry's refused wallet update saw (its ALL_OLD: the update follows the entry's put)."""
    reasons = error.response.get("CancellationReasons", [])
    item = reasons[1].get("Item") if len(reasons) > 1 else None
    return from_item(item) if item else None


@dataclass(frozen=True)
class _Pasts:
    before: str | None  # the purchase's member's past before it, put on its entry (JSON)
    after: str | None  # … and after it, kept on the member (None: forgotten)


def due_shard(member_id: str) -> int:
    return shard_of(member_id, DUE_SHARDS)


def entry_item(entry: Entry) -> dict[str, Any]:
    """An entry as the ledger table keeps it: times as sortable stamps, details only as far as they are set."""
    return {**entry.model_dump(mode="json", exclude={"created_at", "details"}),
            "created_at": clock.stamp(entry.created_at), "details": entry.details.stored()}


def _entry(item: dict[str, Any]) -> Entry:
    return Entry.model_validate(from_item(item))
