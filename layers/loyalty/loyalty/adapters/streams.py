"""DynamoDB Streams records as the figures flow reads them (flows/figures.py: Change), by the table they
come from."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from loyalty.adapters.dynamo import from_item
from loyalty.flows.figures import Change

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBStreamEvent


def changes(event: DynamoDBStreamEvent, tables: Mapping[str, str]) -> dict[str, list[Change]]:
    """Each table's changes in stream order; `tables` names the tables a record may come from (a stream's ARN
    holds its table's name: arn:aws:dynamodb:…:table/<name>/stream/…)."""
    found: dict[str, list[Change]] = {}
    for record in event.records:
        table_name = (record.event_source_arn or "").split(":table/", 1)[-1].split("/", 1)[0]
        table = tables.get(table_name)
        if table is None:
            raise ValueError(f"a record from table {table_name!r}, which the figures do not read")
        stream = record.raw_event["dynamodb"]
        found.setdefault(table, []).append(Change(
            table=table, sequence=str(stream["SequenceNumber"]),
            old=from_item(stream["OldImage"]) if stream.get("OldImage") else None,
            new=from_item(stream["NewImage"]) if stream.get("NewImage") else None,
        ))
    return found
