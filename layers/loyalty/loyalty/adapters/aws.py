"""boto3 clients, created lazily once per container and shared by every adapter.

Lazy creation keeps cold starts short for functions that never touch a service, and lets tests point
AWS_ENDPOINT_URL at a moto server before the first client exists.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

# Lambda has seconds, not minutes: fail fast and let SQS redeliver rather than hang in retries.
_CONFIG = Config(connect_timeout=3, read_timeout=10, retries={"max_attempts": 3, "mode": "standard"})


@cache
def client(service: str) -> Any:
    return boto3.session.Session().client(service, config=_CONFIG)


def error_code(error: Exception) -> str:
    """The AWS error code of a botocore ClientError, or '' for anything else."""
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def cancellation_reasons(error: Exception) -> list[str | None] | None:
    """Why a DynamoDB transaction was cancelled: each item's reason code in the order of the items (None: that
    item was fine), or None when `error` is not a cancelled transaction."""
    if error_code(error) != "TransactionCanceledException":
        return None
    reasons = (getattr(error, "response", None) or {}).get("CancellationReasons", [])
    return [None if reason.get("Code") in (None, "None") else str(reason["Code"]) for reason in reasons]
