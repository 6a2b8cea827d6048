"""What the adapters read out of botocore's errors, and how AWS being unavailable reaches the flows."""

from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ParamValidationError
from botocore.stub import Stubber

from loyalty.adapters.aws import _Translated, cancellation_reasons, error_code, translated
from loyalty.domain.errors import StorageUnavailable


def cancelled(*codes: str) -> ClientError:
    return ClientError({"Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
                        "CancellationReasons": [{"Code": code} for code in codes]}, "TransactWriteItems")


def test_a_cancelled_transaction_names_each_items_reason_in_order() -> None:
    assert cancellation_reasons(cancelled("None", "ConditionalCheckFailed", "TransactionConflict")) == [
        None, "ConditionalCheckFailed", "TransactionConflict"]


def test_anything_else_is_not_a_cancelled_transaction() -> None:
    throttled = ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "PutItem")
    assert cancellation_reasons(throttled) is None and error_code(throttled) == "ThrottlingException"
    assert cancellation_reasons(ValueError("no")) is None and error_code(ValueError("no")) == ""


def translating(attempts: int = 1, endpoint: str = "http://127.0.0.1:9") -> Any:
    """A DynamoDB client as the adapters get it (adapters/aws.client), without botocore's own retries."""
    raw = boto3.session.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="eu-central-1").client(
        "dynamodb", endpoint_url=endpoint,
        config=Config(connect_timeout=0.2, read_timeout=0.2, retries={"max_attempts": attempts, "mode": "standard"}))
    return raw, _Translated(raw)


@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException", "ThrottlingException",
                                  "InternalServerError", "ResourceNotFoundException", "AccessDeniedException"])
def test_aws_being_unable_now_is_a_retryable_domain_error(code: str) -> None:
    raw, dynamodb = translating()
    with Stubber(raw) as stub:
        stub.add_client_error("get_item", service_error_code=code, http_status_code=400)
        with pytest.raises(StorageUnavailable, match=code) as raised:
            dynamodb.get_item(TableName="MembersTable", Key={"member_id": {"S": "1"}})
    assert raised.value.retryable


def test_what_is_about_the_request_stays_botocores_for_the_adapter_to_name() -> None:
    raw, dynamodb = translating()
    with Stubber(raw) as stub:
        stub.add_client_error("put_item", service_error_code="ConditionalCheckFailedException", http_status_code=400)
        stub.add_client_error("transact_write_items", service_error_code="TransactionCanceledException",
                              http_status_code=400)
        with pytest.raises(ClientError, match="ConditionalCheckFailed"):
            dynamodb.put_item(TableName="MembersTable", Item={"member_id": {"S": "1"}})
        with pytest.raises(ClientError, match="TransactionCanceled"):
            dynamodb.transact_write_items(TransactItems=[{"Put": {"TableName": "MembersTable",
                                                                  "Item": {"member_id": {"S": "1"}}}}])
    with pytest.raises(ParamValidationError):  # our bug, not AWS being unavailable
        dynamodb.get_item(TableName="MembersTable")


def test_a_transaction_cancelled_by_a_throttle_is_unavailable_not_a_conflict() -> None:
    with pytest.raises(StorageUnavailable), translated():
        raise cancelled("None", "ThrottlingError")
    with pytest.raises(ClientError), translated():
        raise cancelled("None", "TransactionConflict")


def test_an_unreachable_endpoint_is_unavailable_and_pages_are_translated_too() -> None:
    _, dynamodb = translating()
    with pytest.raises(StorageUnavailable, match="unreachable"):
        dynamodb.get_item(TableName="MembersTable", Key={"member_id": {"S": "1"}})
    with pytest.raises(StorageUnavailable, match="unreachable"):
        list(dynamodb.get_paginator("scan").paginate(TableName="MembersTable"))
