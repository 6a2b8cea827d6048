"""Bot table: what the bot remembers between messages, by (pk, sk).

- `invite#<code>`: whose invitation link this opaque code is (the link never carries a Telegram id);
- `followup#<id>`: a letter, a message that is not a direct answer (onboarding, nudge, survey scripted after a
  receipt; a notice; a campaign's message), with `due_at` in the sparse `by_due` index until it is sent (or
  dropped), then kept as the context the shopper's answers refer to;
- `nudge#<member>` / `<name>`: when a nudge last reached the member, and whether they said "не интересно";
- `contact#<member>` / `sent`: when letters reached the member (the contact policy's spacing and caps);
- `ticket#<id>`: a complaint, a review proof, a reward order or a held receipt sent to the staff chat, and its
  outcome; listed by the `by_queue` index for the console's queue, the same state whichever place handles it;
- `reward#<id>` / `stock`: how many of a reward are left, taken by conditional writes, so none is sold twice;
- `last#<chat marker>` / `message`: the last message delivered to a shopper's chat, for 30 days (support may
  resend it); the chat is named by a keyed marker, since the goodbye after /delete is kept there too;
- `phone#<marker>` / `accounts`: the accounts (keyed markers) a phone (a keyed marker) has been behind, over time;
- `erased#<marker>`: a deleted person, by a keyed marker of their Telegram id and of their phone (domain/keyed.py):
  joining again pays no second welcome or referral bonus, and the marker names nobody without the stack's key.

Every write is conditional or idempotent: a redelivered message finds its item written and changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from loyalty import clock
from loyalty.adapters.aws import client
from loyalty.adapters.dynamo import (
    applied,
    batch_items,
    by_day,
    conditional,
    from_item,
    query_index,
    query_shards,
    shard_of,
    to_item,
)
from loyalty.contracts import OutboundMessage
from loyalty.domain.codes import new_code
from loyalty.domain.contact import Sent
from loyalty.domain.conversation import FollowUp, Ticket

if TYPE_CHECKING:
    from loyalty.domain.keyed import Keyed

DUE_SHARDS = 4
DUE_INDEX = "by_due"
MEMBER_INDEX = "by_member"
QUEUE_INDEX, QUEUE = "by_queue", "tickets"  # every ticket, by when it came: the console's queue


def _names(names: dict[str, str] | None) -> dict[str, Any]:
    return {"ExpressionAttributeNames": names} if names else {}


class BotTable:
    def __init__(self, table_name: str):
        self.table_name = table_name

    # ------------------------------------------------------------------ invitations
    def invite_code(self, member_id: str) -> str:
        """The member's invitation code: made once (a random code, claimed only if free), the same ever after."""
        own = self._get(f"member#{member_id}", "invite")
        if own is not None:
            return str(own["code"])
        while True:
            code = new_code()
            if self._put({"pk": f"invite#{code}", "sk": "invite", "member_id": member_id}):
                break
        if self._put({"pk": f"member#{member_id}", "sk": "invite", "code": code}):
            return code
        raced = self._get(f"member#{member_id}", "invite")  # two /invite at once: the first code stands
        assert raced is not None
        return str(raced["code"])

    def inviter(self, code: str) -> str | None:
        item = self._get(f"invite#{code}", "invite") if code.isalnum() and len(code) <= 16 else None
        return str(item["member_id"]) if item else None

    def forget_invitations(self, member_id: str) -> None:
        """An erased member's code leads nowhere any more."""
        own = self._get(f"member#{member_id}", "invite")
        if own is not None:
            self._delete(f"invite#{own['code']}", "invite")
            self._delete(f"member#{member_id}", "invite")

    # ------------------------------------------------------------------ erased accounts
    def mark_erased(self, marker: str) -> None:
        self._put({"pk": f"erased#{marker}", "sk": "erased"})

    def phone_accounts(self, phone_marker: str, member_marker: str) -> int:
        response = client("dynamodb").update_item(
            TableName=self.table_name, Key=to_item({"pk": f"phone#{phone_marker}", "sk": "accounts"}),
            UpdateExpression="ADD accounts :member", ReturnValues="ALL_NEW",
            ExpressionAttributeValues={":member": {"SS": [member_marker]}})
        return len(response["Attributes"]["accounts"]["SS"])

    def was_erased(self, marker: str) -> bool:
        return self._get(f"erased#{marker}", "erased") is not None

    # ------------------------------------------------------------------ follow-ups
    def schedule(self, followup: FollowUp) -> bool:
        """Keep a follow-up until it is due (once: a replayed receipt schedules nothing twice)."""
        return self._put(_followup_item(followup))

    def scheduled_writes(self, followups: list[FollowUp]) -> list[dict[str, Any]]:
        """Their writes for the ledger's transaction: written with a new entry only, so none can be there yet."""
        return [{"Put": {"TableName": self.table_name, "Item": to_item(_followup_item(followup))}}
                for followup in followups]

    def due(self, now: datetime) -> Iterator[FollowUp]:
        for item in query_shards(self.table_name, DUE_INDEX, DUE_SHARDS, "due_shard = :s AND due_at <= :now",
                                 {":now": clock.stamp(now)}):
            yield _followup(item)

    def followup(self, followup_id: str) -> FollowUp | None:
        item = self._get(f"followup#{followup_id}", "followup")
        return _followup(item) if item else None

    def postpone(self, followup_id: str, due_at: datetime) -> bool:
        """The contact policy moved a letter to its next slot: True the first time it was held (counted once)."""
        response = conditional(
            "update_item", TableName=self.table_name, Key=to_item({"pk": f"followup#{followup_id}", "sk": "followup"}),
            UpdateExpression="SET due_at = :due, held = :yes", ReturnValues="UPDATED_OLD",
            ConditionExpression="attribute_exists(due_shard)",  # still due: not settled by an overlapping run
            ExpressionAttributeValues=to_item({":due": clock.stamp(due_at), ":yes": True}))
        return response is not None and not from_item(response.get("Attributes", {})).get("held", False)

    def contacts(self, member_id: str, since: datetime) -> list[Sent]:
        """The letters that reached the member since `since` (the contact policy's spacing and caps)."""
        return _sent(self._get(f"contact#{member_id}", "sent") or {}, since)

    def contacts_of(self, member_ids: list[str], since: datetime) -> dict[str, list[Sent]]:
        """`contacts` of many members at once (the console's count of whom the policy would hold back)."""
        found = {item["pk"].removeprefix("contact#"): item for item in batch_items(
            self.table_name, [{"pk": f"contact#{member}", "sk": "sent"} for member in dict.fromkeys(member_ids)])}
        return {member: _sent(found.get(member, {}), since) for member in member_ids}

    def contacted(self, member_id: str, sent: Sent) -> None:
        client("dynamodb").update_item(
            TableName=self.table_name, Key=to_item({"pk": f"contact#{member_id}", "sk": "sent"}),
            UpdateExpression="ADD sent :one",
            ExpressionAttributeValues={":one": {"SS": [f"{'m' if sent.marketing else 't'}:{clock.stamp(sent.at)}"]}})

    def settle(self, followup_id: str, status: str) -> None:
        """Sent or skipped: out of the due index for good."""
        client("dynamodb").update_item(
            TableName=self.table_name, Key=to_item({"pk": f"followup#{followup_id}", "sk": "followup"}),
            UpdateExpression="SET #status = :status REMOVE due_shard", ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=to_item({":status": status}))

    def rate(self, followup_id: str, rating: int) -> bool:
        """The shopper's 1–5 for a survey: the first tap counts (True), a second changes nothing."""
        return self._condition_update(f"followup#{followup_id}", "followup", "SET rating = :r, rated_at = :now",
                                      "attribute_exists(pk) AND attribute_not_exists(rating)",
                                      {":r": rating, ":now": clock.stamp()})

    def recommend(self, followup_id: str, score: int) -> bool:
        """The shopper's 0–10 for recommending the brand (NPS), after their rating: the first tap counts."""
        return self._condition_update(f"followup#{followup_id}", "followup", "SET nps = :n, nps_at = :now",
                                      "attribute_exists(rating) AND attribute_not_exists(nps)",
                                      {":n": score, ":now": clock.stamp()})

    def clicked(self, followup_id: str) -> bool:
        """A follow-up's link was opened: True the first time (a click counted once per message)."""
        return self._condition_update(f"followup#{followup_id}", "followup", "SET clicked_at = :now",
                                      "attribute_exists(pk) AND attribute_not_exists(clicked_at)",
                                      {":now": clock.stamp()})

    # ------------------------------------------------------------------ nudges
    def nudge_state(self, member_id: str, name: str) -> dict[str, Any]:
        return self._get(f"nudge#{member_id}", name) or {}

    def nudged(self, member_id: str, name: str, now: datetime) -> None:
        client("dynamodb").update_item(
            TableName=self.table_name, Key=to_item({"pk": f"nudge#{member_id}", "sk": name}),
            UpdateExpression="SET last_sent_at = :now ADD sent :one",
            ExpressionAttributeValues=to_item({":now": clock.stamp(now), ":one": 1}))

    def stop_nudge(self, member_id: str, name: str, now: datetime) -> bool:
        """"Не интересно": this nudge never reaches the member again (True the first time)."""
        return self._condition_update(f"nudge#{member_id}", name, "SET stopped_at = :now",
                                      "attribute_not_exists(stopped_at)", {":now": clock.stamp(now)})

    # ------------------------------------------------------------------ tickets
    def open_ticket(self, ticket: Ticket) -> bool:
        """A new ticket, in the queue the console lists (the `by_queue` index, newest first)."""
        return self._put({"pk": f"ticket#{ticket.id}", "sk": "ticket", **ticket.model_dump(),
                          "opened_at": ticket.opened_at or clock.stamp(), "queue": QUEUE})

    def queue(self, status: str | None = None, limit: int = 100) -> list[Ticket]:
        """The tickets, newest first: every one, or those in `status` (open, answered, approved …)."""
        request: dict[str, Any] = {"TableName": self.table_name, "IndexName": QUEUE_INDEX,
                                   "KeyConditionExpression": "#queue = :q", "ScanIndexForward": False,
                                   "ExpressionAttributeNames": {"#queue": "queue"},
                                   "ExpressionAttributeValues": to_item({":q": QUEUE})}
        if status:
            request["FilterExpression"] = "#status = :s"
            request["ExpressionAttributeNames"]["#status"] = "status"
            request["ExpressionAttributeValues"].update(to_item({":s": status}))
        found: list[Ticket] = []
        for page in client("dynamodb").get_paginator("query").paginate(**request):
            found += [_ticket(from_item(item)) for item in page["Items"]]
            if len(found) >= limit:
                break
        return found[:limit]

    def ticket(self, ticket_id: str) -> Ticket | None:
        item = self._get(f"ticket#{ticket_id}", "ticket")
        return _ticket(item) if item else None

    def close_ticket(self, ticket_id: str, status: str, was: tuple[str, ...] = ("open",)) -> bool:
        """A ticket moved on once from a state it may leave (`was`): a second tap on approve (or reject after
        approve), in the chat or the console, changes nothing."""
        names = {f":was{i}": state for i, state in enumerate(was)}
        return self._condition_update(f"ticket#{ticket_id}", "ticket", "SET #status = :s",
                                      f"#status IN ({', '.join(names)})", {":s": status, **names},
                                      names={"#status": "status"})

    def of_member(self, member_id: str) -> tuple[list[FollowUp], list[Ticket]]:
        """The member's letters and tickets (the console's card), through the member index."""
        followups, tickets = [], []
        for key in query_index(self.table_name, MEMBER_INDEX, "member_id = :m", {":m": member_id}):
            item = self._get(key["pk"], key["sk"])
            if item is None:
                continue
            if key["pk"].startswith("followup#"):
                followups.append(_followup(item))
            elif key["pk"].startswith("ticket#"):
                tickets.append(_ticket(item))
        return followups, tickets

    # ------------------------------------------------------------------ the last message a shopper got
    def take_sent(self, chat_marker: str, message: OutboundMessage, key: str, expires_at: int) -> bool:
        """Keep the message about to go to a chat (named by its keyed marker: the goodbye after /delete lands here
        too, and must name nobody) as its last, which support may resend, with its key among the day's: unless the
        key is among today's or yesterday's already (False, nothing written). Each day's keys are a set of their
        own, and older days' are dropped as the next message comes."""
        kept = message.model_dump(mode="json", include={"text", "reply_markup", "html", "photo"})
        names, removed = by_day(_SENT, clock.now().date(), kept=2)
        return applied(
            "update_item", TableName=self.table_name, Key=to_item({"pk": f"last#{chat_marker}", "sk": "message"}),
            UpdateExpression=f"SET message = :m, sent_at = :now, expires_at = :expires ADD #d0 :keys {removed}",
            ConditionExpression="NOT contains(#d0, :key) AND NOT contains(#d1, :key)",  # today's and yesterday's
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=to_item({":m": json.dumps(kept, ensure_ascii=False), ":now": clock.stamp(),
                                               ":expires": expires_at, ":keys": {key}, ":key": key}))

    def give_back_sent(self, chat_marker: str, key: str) -> None:
        names, _ = by_day(_SENT, clock.now().date(), kept=2)
        client("dynamodb").update_item(
            TableName=self.table_name, Key=to_item({"pk": f"last#{chat_marker}", "sk": "message"}),
            UpdateExpression="DELETE #d0 :keys, #d1 :keys",
            ExpressionAttributeNames={"#d0": names["#d0"], "#d1": names["#d1"]},
            ExpressionAttributeValues=to_item({":keys": {key}}))

    def last_sent(self, chat_marker: str, chat_id: int) -> tuple[OutboundMessage, str] | None:
        """The last message delivered to the chat and when (None: none kept)."""
        item = self._get(f"last#{chat_marker}", "message")
        if item is None:
            return None
        kept = json.loads(item["message"])
        return OutboundMessage(dedupe_key=f"last:{chat_marker}", chat_id=chat_id, **kept), str(item["sent_at"])


    # ------------------------------------------------------------------ erasure
    def forget_member(self, member_id: str, pseudonym: str) -> int:
        """/delete: the follow-ups and tickets that named the member name their pseudonym instead (a follow-up loses
        its receipt's fiscal key, and one not sent yet never will be), and their nudge states go. How many items
        changed; 0 when done before."""
        changed = 0
        for key in list(query_index(self.table_name, MEMBER_INDEX, "member_id = :m", {":m": member_id})):
            followup = key["pk"].startswith("followup#")
            client("dynamodb").update_item(
                TableName=self.table_name, Key=to_item({"pk": key["pk"], "sk": key["sk"]}),
                UpdateExpression="SET member_id = :anon" + (" REMOVE fiscal_key, due_shard, payload" if followup
                                                            else ""),
                ExpressionAttributeValues=to_item({":anon": pseudonym}))
            changed += 1
        for item in self._query(f"nudge#{member_id}") + self._query(f"contact#{member_id}"):
            self._delete(item["pk"], item["sk"])
            changed += 1
        return changed

    # ------------------------------------------------------------------ rewards
    def stock_left(self, reward_id: str, initial: int) -> int:
        item = self._get(f"reward#{reward_id}", "stock")
        return initial - int(item.get("taken", 0)) if item else initial

    def take_item(self, reward_id: str, order_id: str, initial: int) -> dict[str, Any]:
        """The transaction item that takes one of the reward's `initial` stock for the order: it fails when none
        is left, so the ledger's transaction that spends the points fails with it."""
        return {"Update": {
            "TableName": self.table_name, "Key": to_item({"pk": f"reward#{reward_id}", "sk": "stock"}),
            "UpdateExpression": "ADD taken :one SET last_order = :order",
            "ConditionExpression": "attribute_not_exists(taken) OR taken < :initial",
            "ExpressionAttributeValues": to_item({":one": 1, ":initial": initial, ":order": order_id})}}

    # ------------------------------------------------------------------ the closed community
    def admit(self, member_id: str, at: datetime) -> None:
        """The bot let the member into the community (a join request approved again changes nothing)."""
        client("dynamodb").put_item(TableName=self.table_name, Item=to_item(
            {"pk": f"community#{member_id}", "sk": "member", "admitted_at": clock.stamp(at)}))

    def admitted(self, member_id: str) -> bool:
        return self._get(f"community#{member_id}", "member") is not None

    def show_out(self, member_id: str) -> None:
        self._delete(f"community#{member_id}", "member")

    # ------------------------------------------------------------------ plumbing
    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        response = client("dynamodb").get_item(TableName=self.table_name, Key=to_item({"pk": pk, "sk": sk}),
                                               ConsistentRead=True)
        return from_item(response["Item"]) if "Item" in response else None

    def _query(self, pk: str) -> list[dict[str, Any]]:
        pages = client("dynamodb").get_paginator("query").paginate(
            TableName=self.table_name, KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=to_item({":pk": pk}))
        return [from_item(item) for page in pages for item in page["Items"]]

    def _put(self, item: dict[str, Any]) -> bool:
        return applied("put_item", TableName=self.table_name, Item=to_item(item),
                       ConditionExpression="attribute_not_exists(pk)")

    def _delete(self, pk: str, sk: str) -> None:
        client("dynamodb").delete_item(TableName=self.table_name, Key=to_item({"pk": pk, "sk": sk}))

    def _condition_update(self, pk: str, sk: str, update: str, condition: str, values: dict[str, Any],
                          names: dict[str, str] | None = None) -> bool:
        return applied("update_item", TableName=self.table_name, Key=to_item({"pk": pk, "sk": sk}),
                       UpdateExpression=update, ConditionExpression=condition,
                       ExpressionAttributeValues=to_item(values), **_names(names))


def _ticket(item: dict[str, Any]) -> Ticket:
    return Ticket.model_validate({name: value for name, value in item.items() if name in Ticket.model_fields})


def _followup(item: dict[str, Any]) -> FollowUp:
    return FollowUp.model_validate({name: value for name, value in item.items()
                                    if name in FollowUp.model_fields})


class LastMessages:
    """The last message each shopper got (flows/ports.py: SentMessages), kept under a keyed marker of the chat."""

    KEPT_DAYS = 30

    def __init__(self, table: BotTable, keyed: Keyed):
        self.table = table
        self.keyed = keyed

    def take(self, message: OutboundMessage) -> bool:
        expires = int(clock.now().timestamp()) + self.KEPT_DAYS * 86_400
        return self.table.take_sent(self._marker(message.chat_id), message, _sent_key(message), expires)

    def give_back(self, message: OutboundMessage) -> None:
        self.table.give_back_sent(self._marker(message.chat_id), _sent_key(message))

    def last_sent(self, chat_id: int) -> tuple[OutboundMessage, str] | None:
        return self.table.last_sent(self._marker(chat_id), chat_id)

    def _marker(self, chat_id: int) -> str:
        return self.keyed.marker("chat", str(chat_id))


def _sent(item: dict[str, Any], since: datetime) -> list[Sent]:
    """The letters a member's contact item says reached them since `since`, oldest first."""
    return [Sent(at=datetime.fromisoformat(stamp[2:]), marketing=stamp.startswith("m:"))
            for stamp in sorted(item.get("sent", set()), key=lambda stamp: stamp[2:])
            if datetime.fromisoformat(stamp[2:]) >= since]


def _followup_item(followup: FollowUp) -> dict[str, Any]:
    return {"pk": f"followup#{followup.id}", "sk": "followup", **followup.model_dump(mode="json"),
            "due_at": clock.stamp(followup.due_at), "scheduled_for": clock.stamp(followup.first_due),
            "due_shard": shard_of(followup.member_id, DUE_SHARDS)}


_SENT = "sent_"  # a chat's record keeps each day's message keys (sent_YYYYMMDD): today's and yesterday's are checked


def _sent_key(message: OutboundMessage) -> str:
    """A message's key, short (kept by the day in the chat's record): its dedupe key's hash."""
    return hashlib.sha256(message.dedupe_key.encode()).hexdigest()[:16]
