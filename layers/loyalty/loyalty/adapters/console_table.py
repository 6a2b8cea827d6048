"""ConsoleTable: the brand's staff (pk `staff`, sk their Telegram id), the console's one-time sign-in links
(pk `link`, sk the token's hash; DynamoDB's TTL removes them after they ran out) and the campaigns made in the console
(pk `campaign`, sk its name: the campaign, its segment and its state as JSON, and its version), and the owner's
settings (pk `settings`: sk `approval`, the threshold over which a campaign's launch is the owner's), and the
everyday changes to the program (pk `program`, sk the section: its whole value as JSON, and its version)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from loyalty.adapters.aws import client
from loyalty.adapters.dynamo import conditional, from_item, to_item
from loyalty.domain.composer import ApprovalRule, CampaignRefused, Made
from loyalty.domain.console import ChangeRefused, LinkRefused
from loyalty.domain.everyday import Change
from loyalty.domain.staff import Role, StaffMember

_STAFF, _LINK, _CAMPAIGN, _SETTINGS, _PROGRAM = "staff", "link", "campaign", "settings", "program"


class ConsoleTable:
    def __init__(self, table_name: str):
        self.table_name = table_name

    # ------------------------------------------------------------------ staff (StaffDirectory)
    def lookup(self, telegram_id: int) -> tuple[bool, StaffMember | None]:
        """(whether the table knows the person, who they are on the staff: None once removed)."""
        item = client("dynamodb").get_item(TableName=self.table_name, ConsistentRead=True,
                                           Key=to_item({"pk": _STAFF, "sk": str(telegram_id)})).get("Item")
        return (True, _member(from_item(item))) if item else (False, None)

    def all_staff(self) -> dict[int, StaffMember | None]:
        """Everyone the table knows: their staff record, or None for someone removed."""
        return {int(item["sk"]): _member(item) for item in self._partition(_STAFF)}

    def put_staff(self, member: StaffMember, by: int, now: datetime) -> None:
        client("dynamodb").put_item(TableName=self.table_name, Item=to_item({
            "pk": _STAFF, "sk": str(member.telegram_id), "role": str(member.role), "name": member.name,
            "added_by": by, "added_at": now.isoformat()}))

    def remove_staff(self, telegram_id: int, by: int, now: datetime) -> None:
        """Kept as removed (not deleted): the program file's `bot.staff` no longer speaks for them."""
        client("dynamodb").put_item(TableName=self.table_name, Item=to_item({
            "pk": _STAFF, "sk": str(telegram_id), "removed_by": by, "removed_at": now.isoformat()}))

    # ------------------------------------------------------------------ sign-in links (SignInLinks)
    def issue(self, token_key: str, telegram_id: int, expires_at: datetime) -> None:
        client("dynamodb").put_item(TableName=self.table_name, Item=to_item({
            "pk": _LINK, "sk": token_key, "telegram_id": telegram_id, "expires_at": expires_at.isoformat(),
            "ttl": int(expires_at.timestamp()) + 3600}))

    def consume(self, token_key: str, now: datetime) -> int:
        """The Telegram id a link was issued to, once: the first use marks it used in the same conditional write, so
        two tabs opening it at once start one session."""
        response = conditional(
            "update_item", refused=LinkRefused("unknown, used or out of time"), TableName=self.table_name,
            Key=to_item({"pk": _LINK, "sk": token_key}), UpdateExpression="SET used_at = :now",
            ConditionExpression="attribute_exists(sk) AND attribute_not_exists(used_at) AND expires_at > :now",
            ExpressionAttributeValues=to_item({":now": now.isoformat()}), ReturnValues="ALL_NEW")
        assert response is not None
        return int(from_item(response["Attributes"])["telegram_id"])

    # ------------------------------------------------------------------ campaigns made in the console (CampaignDrafts)
    def made(self, name: str) -> Made | None:
        item = client("dynamodb").get_item(TableName=self.table_name, ConsistentRead=True,
                                           Key=to_item({"pk": _CAMPAIGN, "sk": name})).get("Item")
        return Made.model_validate_json(from_item(item)["made"]) if item else None

    def all_made(self) -> list[Made]:
        return [Made.model_validate_json(item["made"]) for item in self._partition(_CAMPAIGN)]

    def _partition(self, pk: str) -> Iterator[dict[str, Any]]:
        """Every item of one kind (`pk`), read consistently."""
        for page in client("dynamodb").get_paginator("query").paginate(
                TableName=self.table_name, KeyConditionExpression="pk = :pk", ConsistentRead=True,
                ExpressionAttributeValues=to_item({":pk": pk})):
            yield from map(from_item, page["Items"])

    def keep(self, made: Made) -> None:
        """Write `made` over the version before it (version 1: a new name), or refuse: someone changed it meanwhile,
        or took the name."""
        first = made.version == 1
        conditional(
            "put_item", TableName=self.table_name,
            refused=CampaignRefused("Кампания с таким именем уже есть: выберите другое." if first else
                                    "Кампанию уже изменили в другом окне: обновите страницу и повторите."),
            Item=to_item({"pk": _CAMPAIGN, "sk": made.name, "made": made.model_dump_json(), "state": str(made.state),
                          "version": made.version}),
            ConditionExpression="attribute_not_exists(sk)" if first else "version = :before",
            **({} if first else {"ExpressionAttributeValues": to_item({":before": made.version - 1})}))


    # ------------------------------------------------------------------ the everyday changes (domain/everyday.py)
    def changes(self) -> list[Change]:
        return [Change.model_validate_json(item["change"]) for item in self._partition(_PROGRAM)]

    def keep_change(self, change: Change) -> None:
        """Write the section over the version before it (version 1: the console's first change of it), or refuse:
        someone changed it meanwhile."""
        first = change.version == 1
        conditional(
            "put_item", TableName=self.table_name,
            refused=ChangeRefused("Раздел уже изменили в другом окне: обновите страницу и повторите.", status=409),
            Item=to_item({"pk": _PROGRAM, "sk": change.section, "change": change.model_dump_json(),
                          "version": change.version}),
            ConditionExpression="attribute_not_exists(sk)" if first else "version = :before",
            **({} if first else {"ExpressionAttributeValues": to_item({":before": change.version - 1})}))

    # ------------------------------------------------------------------ the owner's settings
    def approval_rule(self) -> ApprovalRule:
        item = client("dynamodb").get_item(TableName=self.table_name, ConsistentRead=True,
                                           Key=to_item({"pk": _SETTINGS, "sk": "approval"})).get("Item")
        return ApprovalRule.model_validate_json(from_item(item)["rule"]) if item else ApprovalRule()

    def set_approval_rule(self, rule: ApprovalRule) -> None:
        client("dynamodb").put_item(TableName=self.table_name, Item=to_item({
            "pk": _SETTINGS, "sk": "approval", "rule": rule.model_dump_json()}))


def _member(item: dict[str, Any]) -> StaffMember | None:
    if "removed_at" in item:
        return None
    return StaffMember(telegram_id=int(item["sk"]), role=Role(item["role"]), name=item.get("name", ""))
