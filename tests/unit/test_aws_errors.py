"""What the adapters read out of botocore's errors."""

from botocore.exceptions import ClientError

from loyalty.adapters.aws import cancellation_reasons, error_code


def cancelled(*codes):
    return ClientError({"Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
                        "CancellationReasons": [{"Code": code} for code in codes]}, "TransactWriteItems")


def test_a_cancelled_transaction_names_each_items_reason_in_order():
    assert cancellation_reasons(cancelled("None", "ConditionalCheckFailed", "TransactionConflict")) == [
        None, "ConditionalCheckFailed", "TransactionConflict"]


def test_anything_else_is_not_a_cancelled_transaction():
    throttled = ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "PutItem")
    assert cancellation_reasons(throttled) is None and error_code(throttled) == "ThrottlingException"
    assert cancellation_reasons(ValueError("no")) is None and error_code(ValueError("no")) == ""
