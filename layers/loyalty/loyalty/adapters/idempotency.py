"""Powertools Idempotency on our DynamoDB table: run a function once per key, whatever redelivers it.

Its errors stop here: another invocation holding the key is `AlreadyInProgress`, and the store failing is
`StorageUnavailable` (the caller retries; nothing was run).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
)

from loyalty.adapters.aws import client
from loyalty.domain.errors import AlreadyInProgress, StorageUnavailable


class OncePerKey:
    """Wraps a function so that, called with keyword `argument`, it runs once per value of `key_path` in that
    argument; a repeat returns the first call's result. `config` needs the handler's context registered.

    Its DynamoDB client is made at the first call, not when the function's module loads, as every other adapter's
    is: a cold start pays for it with the first request that needs it (about 0.05 s), not in its import."""

    def __init__(self, argument: str, key_path: str, table: str, expires_after_seconds: int):
        self.argument = argument
        self.table = table
        self.config = IdempotencyConfig(event_key_jmespath=key_path, expires_after_seconds=expires_after_seconds)

    @functools.cached_property
    def persistence(self) -> DynamoDBPersistenceLayer:
        return DynamoDBPersistenceLayer(table_name=self.table, boto3_client=client("dynamodb"))

    def __call__(self, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.cache
        def once() -> Callable[..., Any]:
            wrapped: Callable[..., Any] = idempotent_function(data_keyword_argument=self.argument, config=self.config,
                                                              persistence_store=self.persistence)(function)
            return wrapped

        @functools.wraps(function)
        def translated(**kwargs: Any) -> Any:
            try:
                return once()(**kwargs)
            except IdempotencyAlreadyInProgressError as error:
                raise AlreadyInProgress(str(error)) from error
            except IdempotencyPersistenceLayerError as error:
                raise StorageUnavailable(f"idempotency store: {error}") from error

        return translated
