"""Powertools Idempotency on our DynamoDB table: run a function once per key, whatever redelivers it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from loyalty.adapters.aws import client


def once_per_key(function: Callable[..., Any], argument: str, key_path: str, table: str,
                 expires_after_seconds: int) -> tuple[Callable[..., Any], IdempotencyConfig]:
    """`function`, called with keyword `argument`, runs once per value of `key_path` in that argument;
    a repeat returns the first call's result. The config needs the handler's context registered."""
    config = IdempotencyConfig(event_key_jmespath=key_path, expires_after_seconds=expires_after_seconds)
    persistence = DynamoDBPersistenceLayer(table_name=table, boto3_client=client("dynamodb"))
    wrapped = idempotent_function(data_keyword_argument=argument, config=config, persistence_store=persistence)
    return wrapped(function), config
