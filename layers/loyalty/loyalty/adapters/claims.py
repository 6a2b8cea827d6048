"""Receipt claims: a receipt's fiscal key is claimed once, by a conditional write, before any point.

The claim, the member's receipts-per-day counter, the pairing of an order's prepayment and settlement
receipts and a refund's share of its purchase are written in one DynamoDB transaction, so concurrent
submissions can neither both claim a receipt nor both pass the daily limit.

Items in the claims table:
- `<fn>:<fd>:<fp>`: one receipt's claim (member, submission, outcome, brand lines, amounts);
- `order#<fingerprint>`: an order's receipts still waiting for their other half;
- `item#<gtin>:<serial>`: one physical item (its marking code), claimed by the first receipt that earned on it;
- `seen#till:<fn>#<day>`, `seen#seller:<inn>#<day>`: the members (keyed markers) who sent receipts from there;
  `seen#friends:<inviter marker>#all`: the friends an inviter brought who bought once and not again, and that
  receipt of theirs;
- `serial#<gtin>:<serial>`: an item the brand put into circulation, and `serials#<gtin>`: that the brand loaded the
  GTIN's serials (an item of a GTIN it did not load is never called grey);
- `grey#<gtin>:<serial>#<receipt>`: a brand item whose serial the brand did not put into circulation, where it was
  bought (`loyalty fraud report`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any, NoReturn

from loyalty import clock, deadline
from loyalty.adapters.aws import client
from loyalty.adapters.dynamo import applied, batch_items, by_day, from_item, to_item, transact, transact_seeing
from loyalty.domain.claims import ROLES, Claimed, OrderHalf, Outcome, Refund, pair
from loyalty.domain.errors import (
    Contended,
    DailyLimitReached,
    MemberNotFound,
    ReceiptAlreadyClaimed,
    RefundExceeded,
)

_MAX_ATTEMPTS = 8
_REFUND_AT = 1  # the refund's item, right after the claim's
_ITEMS_PER_TRANSACTION = 100  # DynamoDB's limit
_SEEN_KEPT_DAYS = 3  # a day's members of a till or seller, kept a little past the day (TTL)


class ReceiptClaims:
    def __init__(self, table_name: str, members_table: str):
        self.table_name = table_name
        self.members_table = members_table

    def claim(self, key: str, member_id: str, submission_id: str, summary: dict[str, Any], *, day: str,
              max_per_day: int | None, order: OrderHalf | None = None, refund: Refund | None = None) -> Claimed:
        """Claim `key` for this submission. Raises ReceiptAlreadyClaimed (another submission has it),
        DailyLimitReached (the member has registered `max_per_day` earning receipts on `day`) or
        RefundExceeded (the purchase is already refunded in full)."""
        order_item: dict[str, Any] | None = None  # the order's halves waiting: none, until a write finds some
        for _ in range(_MAX_ATTEMPTS):
            if not deadline.enough_for(0):
                break
            items, outcome, partner = self._claim_items(key, member_id, submission_id, summary, order, refund,
                                                        order_item)
            counted = outcome == "earns" and max_per_day is not None  # only a receipt that earns counts
            attempt = [*items, self._count(member_id, day, max_per_day or 0)] if counted else items
            try:
                failed = transact_seeing(attempt)
            except Contended:
                continue  # another writer was in the same items: retry, as they left them
            if not failed:
                return Claimed(outcome=outcome, replayed=False, paired_with=partner)
            if order is not None and len(items) - 1 in failed:  # the order's item was not as guessed: now it is known
                order_item = failed[len(items) - 1] or {}
            if 0 in failed:
                earlier = self._earlier_claim(key, submission_id)
                if earlier is not None:
                    return earlier
                continue  # it vanished between the two calls: start again
            if refund is not None and _REFUND_AT in failed:
                raise RefundExceeded(f"{refund.purchase_key} has less than {refund.kopecks} kopecks left")
            if counted and set(failed) == {len(attempt) - 1}:
                self._refuse_over_limit(member_id, day, max_per_day)
            # the order item was not as guessed or moved under us: write again, with it as it is
        raise Contended(f"the claim of {key} kept conflicting; not written, try again")

    def _claim_items(self, key: str, member_id: str, submission_id: str, summary: dict[str, Any],
                     order: OrderHalf | None, refund: Refund | None, order_item: dict[str, Any] | None
                     ) -> tuple[list[dict[str, Any]], Outcome, str | None]:
        """The transaction's items (the claim; the refund's share, at _REFUND_AT; the order's halves, last), what
        the receipt does, and the other half of its order it pairs with."""
        pairing = self._pairing(key, order, order_item) if order else None
        partner = pairing[1] if pairing else None
        outcome: Outcome = "reverses" if refund else ("same_order" if partner else "earns")
        items = [self._put_claim(key, member_id, submission_id, summary, outcome, partner)]
        if refund:
            items.append(self._take_refund(refund))
        if pairing:
            items.append(pairing[0])
        return items, outcome, partner

    def _earlier_claim(self, key: str, submission_id: str) -> Claimed | None:
        """The claim that beat ours: this submission's own (a replay), or another's (ReceiptAlreadyClaimed); None if
        it is gone already."""
        existing = self._get(key)
        if existing is None:
            return None
        if existing.get("submission_id") != submission_id:
            raise ReceiptAlreadyClaimed(key)
        return Claimed(outcome=existing["outcome"], replayed=True, paired_with=existing.get("paired_with"),
                       record=existing)

    def _refuse_over_limit(self, member_id: str, day: str, max_per_day: int | None) -> NoReturn:
        """Both counters refused the claim: the member is over the day's limit, or is no member at all."""
        if not self._member_exists(member_id):
            raise MemberNotFound(member_id)
        raise DailyLimitReached(f"member {member_id} reached {max_per_day} receipts on {day}")

    def claim_items(self, receipt_key: str, codes: list[str]) -> set[str]:
        """Claim each marked item (`<gtin>:<serial>`) for this receipt: the codes another receipt claimed first come
        back (their lines earn nothing here). The same receipt again finds its own: nothing comes back."""
        taken: set[str] = set()
        pending = list(dict.fromkeys(codes))
        while pending:
            chunk = pending[:_ITEMS_PER_TRANSACTION]
            failed = transact([{"Put": {
                "TableName": self.table_name, "Item": to_item({"fiscal_key": f"item#{code}", "receipt": receipt_key,
                                                               "claimed_at": clock.stamp()}),
                "ConditionExpression": "attribute_not_exists(fiscal_key) OR #receipt = :receipt",
                "ExpressionAttributeNames": {"#receipt": "receipt"},
                "ExpressionAttributeValues": to_item({":receipt": receipt_key})}} for code in chunk])
            if failed:  # nothing written: the others again, without those another receipt has
                taken |= {chunk[index] for index in failed}
                chunk = [code for index, code in enumerate(chunk) if index not in failed]
                pending = chunk + pending[_ITEMS_PER_TRANSACTION:]
            else:
                pending = pending[len(chunk):]
        return taken

    def members_seen(self, scope: str, day: str, member_marker: str, receipt_key: str,
                     kept_days: int = _SEEN_KEPT_DAYS) -> tuple[int, set[str], bool]:
        """Add a member (by a keyed marker) and a receipt to those seen from `scope` (a fiscal drive `till:<fn>`, a
        seller `seller:<inn>`, an inviter's idle friends `friends:<marker>`) on `day`: how many members there are
        now, this one with them, the receipts, and whether the earlier receipts were held already (`held_earlier`).
        A repeat adds nothing. Kept `kept_days` after the last addition."""
        response = client("dynamodb").update_item(
            TableName=self.table_name, Key=to_item({"fiscal_key": f"seen#{scope}#{day}"}),
            UpdateExpression="ADD members :member, receipts :receipt SET expires_at = :expires", ReturnValues="ALL_NEW",
            ExpressionAttributeValues={":member": {"SS": [member_marker]}, ":receipt": {"SS": [receipt_key]},
                                       ":expires": {"N": str(int(clock.now().timestamp()) + kept_days * 86_400)}})
        seen = response["Attributes"]
        return len(seen["members"]["SS"]), set(seen["receipts"]["SS"]), "held_earlier" in seen

    def unsee(self, scope: str, day: str, member_marker: str, receipt_keys: list[str]) -> None:
        """Take a member and their receipts out of those seen (an idle friend who bought again)."""
        applied("update_item", TableName=self.table_name, Key=to_item({"fiscal_key": f"seen#{scope}#{day}"}),
                UpdateExpression="DELETE members :member, receipts :receipt",
                ConditionExpression="attribute_exists(fiscal_key)",  # nothing seen there: nothing to write
                ExpressionAttributeValues={":member": {"SS": [member_marker]}, ":receipt": {"SS": receipt_keys}})

    def held_earlier(self, scope: str, day: str) -> None:
        """The receipts seen from `scope` on `day` before its rule tripped have been sent to be held."""
        client("dynamodb").update_item(TableName=self.table_name, Key=to_item({"fiscal_key": f"seen#{scope}#{day}"}),
                                       UpdateExpression="SET held_earlier = :yes",
                                       ExpressionAttributeValues=to_item({":yes": True}))

    def claimed(self, key: str) -> dict[str, Any] | None:
        """A receipt's claim: who claimed it and what it did (earns, reverses, same_order)."""
        return self._get(key)

    def member_receipts_from(self, member_id: str, fn: str, since: str) -> int:
        """How many receipts the member claimed from fiscal drive `fn` since `since` (a stamp)."""
        pages = client("dynamodb").get_paginator("query").paginate(
            TableName=self.table_name, IndexName="by_member", Select="COUNT",
            KeyConditionExpression="member_id = :m AND claimed_at >= :since",
            FilterExpression="begins_with(fiscal_key, :fn)",
            ExpressionAttributeValues=to_item({":m": member_id, ":since": since, ":fn": f"{fn}:"}))
        return sum(page["Count"] for page in pages)

    def load_serials(self, codes: list[str]) -> int:
        """The serials the brand put into circulation (`<gtin>:<serial>`), and each GTIN as loaded; how many."""
        gtins = {code.split(":", 1)[0] for code in codes}
        items = [{"fiscal_key": f"serial#{code}"} for code in dict.fromkeys(codes)]
        items += [{"fiscal_key": f"serials#{gtin}"} for gtin in sorted(gtins)]
        for start in range(0, len(items), 25):  # BatchWriteItem's limit
            pending: dict[str, Any] = {self.table_name: [{"PutRequest": {"Item": to_item(item)}}
                                                         for item in items[start:start + 25]]}
            while pending:
                pending = client("dynamodb").batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
        return len(items) - len(gtins)

    def unlisted(self, codes: list[str]) -> set[str]:
        """Of these marked items, those whose GTIN's serials the brand loaded but whose serial is not among them."""
        wanted = {f"serial#{code}" for code in codes} | {f"serials#{code.split(':', 1)[0]}" for code in codes}
        found = self._found(sorted(wanted))
        return {code for code in codes
                if f"serials#{code.split(':', 1)[0]}" in found and f"serial#{code}" not in found}

    def record_grey(self, code: str, receipt_key: str, where: dict[str, Any]) -> None:
        """Where a grey-market item was bought (channel, seller, store, day), once per receipt."""
        client("dynamodb").put_item(TableName=self.table_name, Item=to_item({
            "fiscal_key": f"grey#{code}#{receipt_key}", "code": code, "receipt": receipt_key, **where}))

    def grey_items(self) -> Iterator[dict[str, Any]]:
        for page in client("dynamodb").get_paginator("scan").paginate(
                TableName=self.table_name, FilterExpression="begins_with(fiscal_key, :grey)",
                ExpressionAttributeValues=to_item({":grey": "grey#"})):
            yield from map(from_item, page["Items"])

    def _found(self, keys: list[str]) -> set[str]:
        return {item["fiscal_key"] for item in batch_items(self.table_name, [{"fiscal_key": key} for key in keys])}

    def item_receipt(self, code: str) -> str | None:
        """The receipt that claimed a marked item, if one did."""
        found = self._get(f"item#{code}")
        return str(found["receipt"]) if found else None

    def release_items(self, receipt_key: str, codes: list[str]) -> None:
        """Give back the items this receipt claimed when it did not earn after all (over the day's limit)."""
        for code in dict.fromkeys(codes):
            applied("delete_item", TableName=self.table_name, Key=to_item({"fiscal_key": f"item#{code}"}),
                    ConditionExpression="#receipt = :receipt", ExpressionAttributeNames={"#receipt": "receipt"},
                    ExpressionAttributeValues=to_item({":receipt": receipt_key}))

    def purchases(self, member_id: str, seller_inn: str | None = None) -> list[dict[str, Any]]:
        """The member's earning claims (at one seller: for matching a refund), newest first."""
        at_seller = " AND seller_inn = :s" if seller_inn else ""
        pages = client("dynamodb").get_paginator("query").paginate(
            TableName=self.table_name, IndexName="by_member", ScanIndexForward=False,
            KeyConditionExpression="member_id = :m", FilterExpression="outcome = :earns" + at_seller,
            ExpressionAttributeValues=to_item({":m": member_id, ":earns": "earns",
                                               **({":s": seller_inn} if seller_inn else {})}),
        )
        return [from_item(item) for page in pages for item in page["Items"]]

    def claim_review(self, review_id: str, member_id: str) -> str:
        """A published review is paid to one member: the first to report it. Returns whose it is (the caller's own
        id on a repeat)."""
        key = f"review#{review_id}"
        if applied("put_item", TableName=self.table_name, ConditionExpression="attribute_not_exists(fiscal_key)",
                   Item=to_item({"fiscal_key": key, "member_id": member_id, "claimed_at": clock.stamp(),
                                 "outcome": "review"})):
            return member_id
        found = self._get(key)
        return str(found["member_id"]) if found else member_id

    def reassign(self, member_id: str, to: str) -> int:
        """An erased member's claims pass to their pseudonym: the receipts stay claimed (nobody can register them
        again) and no longer name the Telegram account. Returns how many moved (0 on a repeat)."""
        moved = 0
        for page in client("dynamodb").get_paginator("query").paginate(
            TableName=self.table_name, IndexName="by_member", KeyConditionExpression="member_id = :m",
            ExpressionAttributeValues=to_item({":m": member_id}), ProjectionExpression="fiscal_key",
        ):
            for item in map(from_item, page["Items"]):
                moved += applied("update_item", TableName=self.table_name,
                                 Key=to_item({"fiscal_key": item["fiscal_key"]}),
                                 UpdateExpression="SET member_id = :to", ConditionExpression="member_id = :m",
                                 ExpressionAttributeValues=to_item({":to": to, ":m": member_id}))
        return moved

    # ------------------------------------------------------------------ transaction parts
    def _put_claim(self, key: str, member_id: str, submission_id: str, summary: dict[str, Any],
                   outcome: Outcome, partner: str | None) -> dict[str, Any]:
        return {"Put": {
            "TableName": self.table_name,
            "Item": to_item({
                "fiscal_key": key, "member_id": member_id, "submission_id": submission_id, "outcome": outcome,
                "claimed_at": clock.stamp(),
                "paired_with": partner, **summary,
            }),
            "ConditionExpression": "attribute_not_exists(fiscal_key)",
        }}

    def _pairing(self, key: str, order: OrderHalf, current: dict[str, Any] | None) -> tuple[dict[str, Any],
                                                                                           str | None]:
        """The order item's update, and the other half this receipt pairs with (None: it waits instead). `current`
        is the order item as last seen ({}: absent), or None before any: then it is guessed absent, the commonest,
        and a refusal returns it as it is (ALL_OLD), so no read comes first."""
        item_key = f"order#{order.fingerprint}"
        seen = current or {}
        version = int(seen.get("version", 0))
        waiting, partner = pair({role: seen.get(f"{role}s", []) for role in ROLES}, key, order)
        update = {"Put": {
            "TableName": self.table_name,
            "Item": to_item({"fiscal_key": item_key, "version": version + 1,
                             **{f"{role}s": waiting[role] for role in ROLES}}),
            "ConditionExpression": "attribute_not_exists(fiscal_key)" if not seen else "version = :v",
            **({"ExpressionAttributeValues": to_item({":v": version})} if seen else {}),
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }}
        return update, partner

    def _take_refund(self, refund: Refund) -> dict[str, Any]:
        """Take the refunded share off the purchase's claim, never more than is left of it."""
        return {"Update": {
            "TableName": self.table_name,
            "Key": to_item({"fiscal_key": refund.purchase_key}),
            "UpdateExpression": "SET refundable_kopecks = refundable_kopecks - :r",
            "ConditionExpression": "refundable_kopecks >= :r",
            "ExpressionAttributeValues": to_item({":r": refund.kopecks}),
        }}

    def _count(self, member_id: str, day: str, limit: int) -> dict[str, Any]:
        """The member's earning receipts on `day`, one more, below `limit`: one write whatever day the member last
        sent one on. Each day counts in an attribute of its own; the days before it are dropped as it is written."""
        names, removed = by_day("receipts_on_", date.fromisoformat(day), kept=1)
        return {"Update": {
            "TableName": self.members_table, "Key": to_item({"member_id": member_id}),
            # (receipts_day and receipts_on_day: how the count was kept before; a deploy's first day counts afresh)
            "UpdateExpression": f"ADD #d0 :one {removed}, receipts_day, receipts_on_day",
            "ConditionExpression": "attribute_exists(member_id) AND (attribute_not_exists(#d0) OR #d0 < :limit)",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": to_item({":one": 1, ":limit": limit}),
        }}

    # ------------------------------------------------------------------ plumbing
    def _member_exists(self, member_id: str) -> bool:
        response = client("dynamodb").get_item(TableName=self.members_table, Key=to_item({"member_id": member_id}),
                                               ProjectionExpression="member_id", ConsistentRead=True)
        return "Item" in response

    def _get(self, key: str) -> dict[str, Any] | None:
        response = client("dynamodb").get_item(
            TableName=self.table_name, Key=to_item({"fiscal_key": key}), ConsistentRead=True
        )
        return from_item(response["Item"]) if "Item" in response else None
