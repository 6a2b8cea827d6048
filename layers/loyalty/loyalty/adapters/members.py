"""Members table: one item per shopper, keyed by Telegram user id. Holds the wallet the ledger keeps, and the receipts
the member submitted this minute and today (`sent_minute`, `sent_in_minute`, `sent_on_<YYYYMMDD>`: their limits)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import date
from typing import Any

from loyalty import clock
from loyalty.adapters.aws import client
from loyalty.adapters.dynamo import applied, by_day, conditional, from_item, query_shards, to_item, update_seeing
from loyalty.adapters.ledger import DUE_SHARDS as LAPSE_SHARDS
from loyalty.domain.errors import Contended, MemberNotFound  # the same shards, the same hash
from loyalty.domain.member import Member


def _condition(condition: str | None) -> dict[str, Any]:
    return {"ConditionExpression": condition} if condition else {}


# What a campaign run reads of a member (the lapse index projects exactly this).
AUDIENCE_ATTRIBUTES = ("member_id", "wallet", "chat_id", "language", "subscribed", "joined_via", "referred_by")
LAPSE_INDEX = "by_last_purchase"


class MembersRepository:
    def __init__(self, table_name: str):
        self.table_name = table_name

    def get(self, member_id: str) -> Member | None:
        response = client("dynamodb").get_item(
            TableName=self.table_name, Key=to_item({"member_id": member_id}), ConsistentRead=True
        )
        return Member.model_validate(from_item(response["Item"])) if "Item" in response else None

    def join(self, member_id: str, chat_id: int, language: str, referred_by: str | None = None,
             via: str | None = None) -> Member:
        """Create the member on first contact; later calls only refresh chat and language. An inviter (and
        how they came: `via` a campaign's link) is kept only from the very first contact."""
        first: dict[str, str] = {}
        if referred_by and referred_by != member_id:
            first = {"referred_by": referred_by, "joined_via": via or "referral"}
        elif via:
            first = {"joined_via": via}
        if first:
            joined = self._update(member_id, chat_id, language, first, condition="attribute_not_exists(member_id)")
            if joined is not None:
                return joined
        member = self._update(member_id, chat_id, language)
        assert member is not None  # an update without a condition always applies
        return member

    def unsubscribe(self, member_id: str) -> bool:
        """The member blocked the bot: campaigns stop reaching them (until they /start the bot again). False: there
        is no such member any more (erased: their books moved to a pseudonym), so nothing to stop."""
        return applied("update_item", TableName=self.table_name, Key=to_item({"member_id": member_id}),
                       UpdateExpression="SET subscribed = :no", ConditionExpression="attribute_exists(member_id)",
                       ExpressionAttributeValues=to_item({":no": False}))

    def subscribe(self, member_id: str) -> None:
        """Marketing messages on again (the Mini App's switch; /start does it too)."""
        conditional("update_item", refused=MemberNotFound(member_id), TableName=self.table_name,
                    Key=to_item({"member_id": member_id}), UpdateExpression="SET subscribed = :yes",
                    ConditionExpression="attribute_exists(member_id)",
                    ExpressionAttributeValues=to_item({":yes": True}))

    def keep_interests(self, member_id: str, interests: dict[str, list[str]]) -> None:
        """The profile's answers, whole (the report counts them from the item's stream)."""
        conditional("update_item", refused=MemberNotFound(member_id), TableName=self.table_name,
                    Key=to_item({"member_id": member_id}), UpdateExpression="SET interests = :i",
                    ConditionExpression="attribute_exists(member_id)", ExpressionAttributeValues=to_item(
                        {":i": interests}))

    def retire(self, member_id: str, merged_into: str) -> None:
        """An imported member whose phone a shopper proved: the phone is theirs now (the phone index finds them
        only), and this member says where its points went."""
        conditional("update_item", refused=MemberNotFound(member_id), TableName=self.table_name,
                    Key=to_item({"member_id": member_id}), UpdateExpression="SET merged_into = :into REMOVE phone",
                    ConditionExpression="attribute_exists(member_id)",
                    ExpressionAttributeValues=to_item({":into": merged_into}))

    def suspect(self, member_id: str, rule: str) -> None:
        """The member trips a fraud rule as a person: their receipts are held from now on."""
        conditional("update_item", refused=MemberNotFound(member_id), TableName=self.table_name,
                    Key=to_item({"member_id": member_id}), UpdateExpression="ADD suspect :rule",
                    ConditionExpression="attribute_exists(member_id)",
                    ExpressionAttributeValues={":rule": {"SS": [rule]}})

    def clear_suspect(self, member_id: str, rule: str) -> None:
        """The member no longer trips `rule` (support lifted a block): their receipts earn again."""
        conditional("update_item", refused=MemberNotFound(member_id), TableName=self.table_name,
                    Key=to_item({"member_id": member_id}), UpdateExpression="DELETE suspect :rule",
                    ConditionExpression="attribute_exists(member_id)",
                    ExpressionAttributeValues={":rule": {"SS": [rule]}})

    def forget_inviter(self, member_id: str) -> None:
        """A person who was a member before (and erased it): nobody is paid for inviting them again."""
        conditional("update_item", refused=MemberNotFound(member_id), TableName=self.table_name,
                    Key=to_item({"member_id": member_id}), UpdateExpression="REMOVE referred_by",
                    ConditionExpression="attribute_exists(member_id)")

    def touched_item(self, member_id: str, touch: dict[str, Any]) -> dict[str, Any]:
        """The transaction item that makes `touch` the member's last campaign message: the one a purchase is
        attributed to."""
        return {"Update": {"TableName": self.table_name, "Key": to_item({"member_id": member_id}),
                           "UpdateExpression": "SET last_touch = :t",
                           "ConditionExpression": "attribute_exists(member_id)",
                           "ExpressionAttributeValues": to_item({":t": touch})}}

    def lapsed(self, after: str, until: str) -> Iterator[dict[str, Any]]:
        """Members whose last purchase was after `after` and at or before `until` (stamps), through the lapse
        index: about as many items read as members found."""
        for item in query_shards(self.table_name, LAPSE_INDEX, LAPSE_SHARDS,
                                 "lapse_shard = :s AND last_purchase_at BETWEEN :a AND :b", {":a": after, ":b": until}):
            if item["last_purchase_at"] > after:
                yield item

    def everyone(self, attributes: tuple[str, ...] = AUDIENCE_ATTRIBUTES) -> Iterator[dict[str, Any]]:
        """Every member, with these attributes (a broadcast to a segment no index narrows; the report)."""
        for page in client("dynamodb").get_paginator("scan").paginate(
            TableName=self.table_name, ProjectionExpression=", ".join(f"#{n}" for n in attributes),
            ExpressionAttributeNames={f"#{n}": n for n in attributes},
        ):
            yield from map(from_item, page["Items"])

    def _update(self, member_id: str, chat_id: int, language: str, extra: dict[str, str] | None = None,
                condition: str | None = None) -> Member | None:
        """The member after the update (None: `condition` was false)."""
        values = {":chat": chat_id, ":lang": language, ":now": clock.stamp(), ":zero": 0, ":yes": True,
                  **{f":{name}": value for name, value in (extra or {}).items()}}
        # A member who talks to the bot again has unblocked it: campaigns may reach them again.
        update = "SET chat_id = :chat, #lang = :lang, joined_at = if_not_exists(joined_at, :now), " \
                 "version = if_not_exists(version, :zero), subscribed = :yes" + \
                 "".join(f", {name} = :{name}" for name in extra or {})
        response = conditional(
            "update_item",
            TableName=self.table_name,
            Key=to_item({"member_id": member_id}),
            UpdateExpression=update,
            ExpressionAttributeNames={"#lang": "language"},
            ExpressionAttributeValues=to_item(values),
            ReturnValues="ALL_NEW",
            **_condition(condition),
        )
        return Member.model_validate(from_item(response["Attributes"])) if response is not None else None

    def note_name(self, member_id: str, name: str) -> None:
        """Their first name as Telegram last showed it (a campaign greets them by it; /delete erases it)."""
        conditional("update_item", TableName=self.table_name, Key=to_item({"member_id": member_id}),
                    ConditionExpression="attribute_exists(member_id)", UpdateExpression="SET #name = :name",
                    ExpressionAttributeNames={"#name": "name"}, ExpressionAttributeValues=to_item({":name": name}))

    def surveyed(self, member_id: str, rating: int | None = None, recommends: int | None = None) -> None:
        """Their last answers to the survey, as segments read them."""
        answers = {name: value for name, value in (("survey_rating", rating), ("survey_recommends", recommends))
                   if value is not None}
        if answers:
            conditional("update_item", TableName=self.table_name, Key=to_item({"member_id": member_id}),
                        ConditionExpression="attribute_exists(member_id)",
                        UpdateExpression="SET " + ", ".join(f"{name} = :{name}" for name in answers),
                        ExpressionAttributeValues=to_item({f":{name}": value for name, value in answers.items()}))

    def note_username(self, member_id: str, marker: str | None) -> None:
        """The keyed marker of the member's @username as Telegram last showed it (None: they have none now)."""
        request: dict[str, Any] = {"TableName": self.table_name, "Key": to_item({"member_id": member_id}),
                                   "ConditionExpression": "attribute_exists(member_id)",
                                   "UpdateExpression": "SET username_marker = :m" if marker else
                                   "REMOVE username_marker"}
        if marker:
            request["ExpressionAttributeValues"] = to_item({":m": marker})
        conditional("update_item", **request)

    def find_by_username(self, marker: str) -> str | None:
        """The member whose @username has this keyed marker, through the username index."""
        response = client("dynamodb").query(
            TableName=self.table_name, IndexName="by_username", KeyConditionExpression="username_marker = :u",
            ExpressionAttributeValues=to_item({":u": marker}), Limit=1)
        return from_item(response["Items"][0])["member_id"] if response["Items"] else None

    def find_by_phone(self, phone: str) -> str | None:
        """The member who shared this phone (E.164), through the phone index."""
        response = client("dynamodb").query(
            TableName=self.table_name, IndexName="by_phone", KeyConditionExpression="phone = :p",
            ExpressionAttributeValues=to_item({":p": phone}), Limit=1,
        )
        items = response["Items"]
        return from_item(items[0])["member_id"] if items else None

    def save_phone(self, member_id: str, phone: str, rules_url: str | None = None) -> Member:
        """Store the phone (sharing it is consent to the rules at `rules_url`) and hand back (and clear) a receipt
        the shopper sent before sharing it."""
        response = conditional(
            "update_item", refused=MemberNotFound(member_id),
            TableName=self.table_name,
            Key=to_item({"member_id": member_id}),
            UpdateExpression="SET phone = :phone, consented_at = :now, rules_url = :rules REMOVE pending_receipt, "
                             "erased_at",
            ConditionExpression="attribute_exists(member_id)",
            ExpressionAttributeValues=to_item({":phone": phone, ":now": clock.stamp(), ":rules": rules_url or ""}),
            ReturnValues="ALL_OLD",
        )
        assert response is not None  # refused otherwise
        old = from_item(response["Attributes"])
        return Member.model_validate({**old, "phone": phone, "phone_before": old.get("phone")})

    def choose_language(self, member_id: str, language: str) -> None:
        self._set(member_id, "SET language_choice = :l, #lang = :l", {":l": language}, {"#lang": "language"})

    def choose_time_zone(self, member_id: str, zone: str) -> None:
        self._set(member_id, "SET time_zone = :z", {":z": zone})

    def await_answer(self, member_id: str, kind: str, about: str, until: str) -> None:
        """The bot asked something (what went wrong, a review's proof: `about` names the survey), or the staff
        answered a ticket (`about`): until `until`, the member's next text message answers it."""
        self._set(member_id, "SET awaiting = :a", {":a": {"kind": kind, "about": about, "until": until}})

    def answered(self, member_id: str) -> None:
        self._set(member_id, "REMOVE awaiting", {})

    def erase(self, member_id: str) -> None:
        """/delete: the personal data goes at once (phone, names, chat, language, invitation, consent, what the bot
        waited for), and the member gets a random pseudonym the ledger moves to (flows/erasure.py), so the books
        still add up and the claimed receipts stay claimed. No message can reach the member: no chat is left."""
        conditional(
            "update_item", refused=MemberNotFound(member_id), TableName=self.table_name,
            Key=to_item({"member_id": member_id}),
            UpdateExpression="SET erased_at = :now, subscribed = :no, "
                             "anonymous_id = if_not_exists(anonymous_id, :anon) REMOVE phone, #name, chat_id, #lang, "
                             "language_choice, time_zone, pending_receipt, referred_by, consented_at, rules_url, "
                             "awaiting, last_touch, joined_via, username_marker, interests",
            ConditionExpression="attribute_exists(member_id)",
            ExpressionAttributeNames={"#name": "name", "#lang": "language"},
            ExpressionAttributeValues=to_item({":now": clock.stamp(), ":no": False,
                                               ":anon": f"erased-{secrets.token_hex(8)}"}))

    def _set(self, member_id: str, update: str, values: dict[str, Any], names: dict[str, str] | None = None) -> None:
        conditional(
            "update_item", refused=MemberNotFound(member_id),
            TableName=self.table_name, Key=to_item({"member_id": member_id}), UpdateExpression=update,
            ConditionExpression="attribute_exists(member_id)",
            **({"ExpressionAttributeValues": to_item(values)} if values else {}),
            **({"ExpressionAttributeNames": names} if names else {}))

    def keep_pending(self, member_id: str, submission: str) -> None:
        client("dynamodb").update_item(
            TableName=self.table_name,
            Key=to_item({"member_id": member_id}),
            UpdateExpression="SET pending_receipt = :submission",
            ExpressionAttributeValues=to_item({":submission": submission}),
        )

    # ------------------------------------------------------------------ receipt submissions
    def admit(self, member_id: str, submission: str, counted: dict[str, str], limits: dict[str, int]
              ) -> tuple[Member | None, str | None]:
        """Count `submission` (a receipt an update sent) in the member's minute and day (`counted`: "minute" ->
        "202612071015", "day" -> "20261207") unless one is full, and read the member with it: one write, no read,
        when it is the member's first receipt of the minute, as most are. Returns the member (None: no such member,
        nothing counted) and the full window ("minute", "day"; None: counted). A submission counted before (its
        update redelivered) counts once."""
        minute, day = counted["minute"], counted["day"]
        names, removed = by_day("sent_on_", date.fromisoformat(day), kept=1)  # YYYYMMDD reads as ISO 8601
        values = {":minute": minute, ":this": {submission}, ":one": submission, ":day_limit": limits["day"]}
        day_fits = "(attribute_not_exists(#d0) OR size(#d0) < :day_limit OR contains(#d0, :one))"
        new_minute = {  # the guess: the first in this minute
            "UpdateExpression": f"SET sent_minute = :minute, sent_in_minute = :this ADD #d0 :this {removed}",
            "ConditionExpression": "attribute_exists(member_id) AND (attribute_not_exists(sent_minute) OR "
                                   f"sent_minute <> :minute) AND {day_fits}"}
        same_minute = {
            "UpdateExpression": f"ADD sent_in_minute :this, #d0 :this {removed}",
            "ConditionExpression": "sent_minute = :minute AND (size(sent_in_minute) < :minute_limit OR "
                                   f"contains(sent_in_minute, :one)) AND {day_fits}"}
        write = new_minute
        for _ in range(4):
            answer = update_seeing(TableName=self.table_name, Key=to_item({"member_id": member_id}),
                                   ExpressionAttributeNames=names, ReturnValues="ALL_NEW",
                                   ExpressionAttributeValues=to_item(
                                       {**values, **({":minute_limit": limits["minute"]} if write is same_minute
                                                     else {})}), **write)
            if answer.written is not None:
                return Member.model_validate(answer.written), None
            seen = answer.seen
            if seen is None:
                return None, None
            sent_today = set(seen.get(names["#d0"], ()))
            if submission not in sent_today and len(sent_today) >= limits["day"]:
                return Member.model_validate(seen), "day"
            if seen.get("sent_minute") == minute:
                in_minute = set(seen.get("sent_in_minute", ()))
                if submission in in_minute:
                    return Member.model_validate(seen), None  # counted by the update's earlier delivery
                if len(in_minute) >= limits["minute"]:
                    return Member.model_validate(seen), "minute"
                write = same_minute
            else:
                write = new_minute  # the minute changed between the writes: guess again
        raise Contended(f"member {member_id}'s submissions kept changing; {submission} not counted, try again")
