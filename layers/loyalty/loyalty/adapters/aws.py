"""boto3 clients, created lazily once per container and shared by every adapter.

Lazy creation keeps cold starts short for functions that never touch a service, and lets tests point
AWS_ENDPOINT_URL at a moto server before the first client exists.

AWS failing is translated here, once for every adapter: a throttle, a 5xx, an unreachable endpoint (after
botocore's own retries), a missing table or queue or a denied permission (a deploy under way or gone wrong)
becomes `StorageUnavailable`, a retryable domain error. What is about the request itself stays botocore's:
a failed condition or a cancelled transaction, for the adapter to name ("already claimed"), and a malformed
request, which is our bug and must surface as one.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as EndpointUnreachable

from loyalty.domain.errors import StorageUnavailable

# Lambda has seconds, not minutes: fail fast and let SQS redeliver rather than hang in retries.
_CONFIG = Config(connect_timeout=3, read_timeout=10, retries={"max_attempts": 3, "mode": "standard"})


# Codes about the request itself: the same request can never succeed, so retrying it is pointless.
_ABOUT_THE_REQUEST = {
    "ConditionalCheckFailedException", "TransactionCanceledException", "ValidationException",
    "SerializationException", "InvalidParameterValue", "InvalidParameterCombination", "MissingParameter",
    "InvalidMessageContents", "ItemCollectionSizeLimitExceededException",
}
# A transaction cancelled by these is "not now", whatever its other items said.
_UNAVAILABLE_REASONS = {"ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"}


def client(service: str) -> Any:
    """The container's client of `service`, for the endpoint and region the environment names (in Lambda they never
    change; a test process may point them at another moto server)."""
    return _client(service, os.environ.get("AWS_ENDPOINT_URL"), os.environ.get("AWS_REGION")
                   or os.environ.get("AWS_DEFAULT_REGION"))


@functools.cache
def _client(service: str, endpoint_url: str | None, region: str | None) -> Any:
    return _Translated(boto3.session.Session().client(service, endpoint_url=endpoint_url, region_name=region,
                                                      config=_CONFIG))


@contextmanager
def translated() -> Iterator[None]:
    """AWS being unavailable, in the domain's words; any other error as it is."""
    try:
        yield
    except ClientError as error:
        code = error_code(error)
        reasons = cancellation_reasons(error) or []
        if code not in _ABOUT_THE_REQUEST or any(reason in _UNAVAILABLE_REASONS for reason in reasons):
            raise StorageUnavailable(f"AWS is unavailable: {code} {[r for r in reasons if r]}".strip()) from error
        raise
    except (EndpointUnreachable, HTTPClientError) as error:  # not reached, or no answer in time
        raise StorageUnavailable(f"AWS is unreachable: {type(error).__name__}") from error


class _Translated:
    """A boto3 client whose calls (and paginators' pages) raise `StorageUnavailable` when AWS is unavailable."""

    def __init__(self, wrapped: Any):
        self._client = wrapped

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if name == "get_paginator":
            return lambda operation: _TranslatedPaginator(attribute(operation))
        if name.startswith("_") or not callable(attribute):
            return attribute  # meta, exceptions: as they are
        return _call(attribute)


class _TranslatedPaginator:
    def __init__(self, paginator: Any):
        self._paginator = paginator

    def paginate(self, **kwargs: Any) -> Iterator[Any]:
        with translated():
            yield from self._paginator.paginate(**kwargs)


def _call(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        with translated():
            return method(*args, **kwargs)
    return call


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
