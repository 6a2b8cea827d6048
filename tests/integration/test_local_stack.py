"""The local stack: its wait for quiet has a bound, and when it runs out it says what is still at work; its moto
server answers its own process without a socket and any other over HTTP."""

import socket
import subprocess
import sys
from typing import Any

import pytest
import urllib3.connectionpool
from botocore.exceptions import ClientError

from loyalty_tools.local.stack import LocalStack
from tests.integration.conftest import send


def test_a_wait_for_a_stack_that_never_goes_quiet_stops_at_its_bound_naming_what_is_busy(stack: LocalStack) -> None:
    send(stack, "ReceiptQueue", {"not": "consumed: this stack's pollers are not running"})
    send(stack, "AccrualQueue", {"nor": "this"})
    with pytest.raises(TimeoutError) as waited:
        stack.wait_idle(timeout=0.3, ceiling=1)
    assert "ReceiptQueue holds 1" in str(waited.value) and "AccrualQueue holds 1" in str(waited.value)
    stack.poller("ReceiptQueue").poll_once()
    stack.poller("AccrualQueue").poll_once()  # both refused as malformed: parked, the queues empty
    stack.wait_idle(timeout=5)


def test_this_processs_clients_reach_moto_without_a_socket_and_another_process_over_http(
        stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> None:
    """Clients in the stack's own process hand their requests to moto's app directly (counted as the server counts
    them); a client in another process (the CLI in a shell) still reaches it over HTTP and sees the same tables."""
    counter, key, others = stack.moto.counter, ("plumbing", "dynamodb", "DescribeTable"), (
        "functions", "dynamodb", "DescribeTable")
    before = counter.snapshot()

    def no_sockets(*args: object, **kwargs: object) -> None:
        raise AssertionError("a client of this process opened a socket to its own moto server")

    with monkeypatch.context() as isolated:
        isolated.setattr(socket, "create_connection", no_sockets)
        isolated.setattr(urllib3.connectionpool.HTTPConnectionPool, "urlopen", no_sockets)  # a pooled one too
        table = stack.aws("dynamodb").describe_table(TableName="MembersTable")["Table"]
    assert table["TableName"] == "MembersTable" and counter.snapshot()[key] == before[key] + 1

    script = ("import boto3, sys; print(boto3.client('dynamodb', endpoint_url=sys.argv[1], region_name='eu-central-1',"
              " aws_access_key_id='x', aws_secret_access_key='x').describe_table(TableName='MembersTable')['Table']"
              "['TableArn'])")
    other = subprocess.run([sys.executable, "-c", script, stack.moto.url], capture_output=True, text=True, timeout=60,
                           check=True)
    assert other.stdout.strip() == table["TableArn"]
    assert counter.snapshot()[others] == before[others] + 1  # over HTTP, with a key that is not the plumbing's


def test_a_cancelled_transaction_leaves_every_item_and_the_stream_as_they_were(stack: LocalStack) -> None:
    """The local stack keeps only the items a transaction names to put back if it is cancelled (moto copies whole
    tables): what it wrote before the failing condition is undone, and its stream records with it."""
    dynamodb, table = stack.aws("dynamodb"), "MembersTable"
    dynamodb.put_item(TableName=table, Item={"member_id": {"S": "kept"}, "available": {"N": "5"}})
    streamed = stack.moto.stream_length(table)
    writes: list[Any] = [
        {"Put": {"TableName": table, "Item": {"member_id": {"S": "new"}, "available": {"N": "1"}}}},
        {"Update": {"TableName": table, "Key": {"member_id": {"S": "kept"}}, "UpdateExpression": "SET available = :n",
                    "ExpressionAttributeValues": {":n": {"N": "99"}}}},
        {"Delete": {"TableName": table, "Key": {"member_id": {"S": "absent"}},
                    "ConditionExpression": "attribute_exists(member_id)"}},
    ]
    with pytest.raises(ClientError) as cancelled:
        dynamodb.transact_write_items(TransactItems=writes)
    assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert "Item" not in dynamodb.get_item(TableName=table, Key={"member_id": {"S": "new"}})
    assert dynamodb.get_item(TableName=table, Key={"member_id": {"S": "kept"}})["Item"]["available"] == {"N": "5"}
    assert stack.moto.stream_length(table) == streamed

    dynamodb.transact_write_items(TransactItems=writes[:2])  # without the failing one: both apply, both streamed
    assert dynamodb.get_item(TableName=table, Key={"member_id": {"S": "kept"}})["Item"]["available"] == {"N": "99"}
    assert stack.moto.stream_length(table) == streamed + 2
