"""The local stack: its wait for quiet has a bound, and when it runs out it says what is still at work; its moto
server answers its own process without a socket and any other over HTTP, and its answers are DynamoDB's however
it writes them."""

import json
import socket
import subprocess
import sys
from typing import Any

import pytest
import urllib3.connectionpool
from botocore.exceptions import ClientError

from loyalty_tools.local import aws
from loyalty_tools.local.stack import LocalStack
from tests.integration.conftest import send


def test_a_wait_for_a_stack_that_never_goes_quiet_stops_at_its_bound_naming_what_is_busy(stack: LocalStack) -> None:
    send(stack, "AccrualQueue", {"not": "consumed: this stack's pollers are not running"})
    send(stack, "CampaignQueue", {"nor": "this"})
    with pytest.raises(TimeoutError) as waited:
        stack.wait_idle(timeout=0.3, ceiling=1)
    assert "AccrualQueue holds 1" in str(waited.value) and "CampaignQueue holds 1" in str(waited.value)
    stack.poller("AccrualQueue").poll_once()
    stack.poller("CampaignQueue").poll_once()  # both refused as malformed: parked, the queues empty
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


def test_items_answered_as_json_equal_the_answers_moto_writes_by_shape(stack: LocalStack,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's DynamoDB answers holding items are written as JSON as they are, not walked by their shape: for every
    kind of value and every operation the functions use, the client reads the same answer either way (a binary
    value, which the shape writes as base64, among them)."""
    dynamodb, table = stack.aws("dynamodb"), "AuditTable"
    values = {"text": {"S": "Лепесток"}, "count": {"N": "12.50"}, "flag": {"BOOL": True}, "none": {"NULL": True},
              "tags": {"SS": ["a", "b"]}, "sizes": {"NS": ["1", "2.5"]}, "blob": {"B": b"\x00\xff"},
              "nested": {"M": {"list": {"L": [{"S": "x"}, {"N": "1"}, {"M": {}}]}, "empty": {"L": []}}}}

    def key(seq: int) -> dict[str, Any]:
        return {"chain": {"S": "c"}, "seq": {"N": str(seq)}}

    def answers() -> list[Any]:
        stack.reset()
        got = [dynamodb.put_item(TableName=table, Item={**key(n), **values}, ReturnConsumedCapacity="TOTAL")
               for n in range(3)]
        plain = {k: v for k, v in values.items() if k != "blob"}  # items without a binary value are JSON as they are
        got.append(dynamodb.put_item(TableName=table, Item={**key(3), **plain}, ReturnValues="ALL_OLD"))
        got.append(dynamodb.put_item(TableName=table, Item={**key(3), **plain}, ReturnValues="ALL_OLD"))
        got.append(dynamodb.get_item(TableName=table, Key=key(3), ConsistentRead=True))
        got.append(dynamodb.get_item(TableName=table, Key=key(0)))
        got.append(dynamodb.get_item(TableName=table, Key=key(9)))
        got.append(dynamodb.update_item(TableName=table, Key=key(3), UpdateExpression="SET #c = #c + :one",
                                        ExpressionAttributeNames={"#c": "count"},
                                        ExpressionAttributeValues={":one": {"N": "1"}}, ReturnValues="ALL_NEW"))
        got.append(dynamodb.update_item(TableName=table, Key=key(3), UpdateExpression="REMOVE flag"))
        got.append(dynamodb.query(TableName=table, KeyConditionExpression="chain = :c", Limit=2,
                                  ExpressionAttributeValues={":c": {"S": "c"}}, ReturnConsumedCapacity="TOTAL"))
        got.append(dynamodb.query(TableName=table, KeyConditionExpression="chain = :c", Select="COUNT",
                                  ExpressionAttributeValues={":c": {"S": "c"}}))
        got.append(dynamodb.query(TableName=table, KeyConditionExpression="chain = :c AND seq > :s",
                                  ExpressionAttributeValues={":c": {"S": "c"}, ":s": {"N": "2"}},
                                  ProjectionExpression="nested, tags"))
        got.append(dynamodb.scan(TableName=table, FilterExpression="attribute_exists(flag)"))
        got.append(dynamodb.batch_get_item(RequestItems={table: {"Keys": [key(3), key(8)]}}))
        got.append(dynamodb.transact_get_items(TransactItems=[{"Get": {"TableName": table, "Key": key(3)}}]))
        got.append(dynamodb.transact_write_items(TransactItems=[{"Put": {"TableName": table, "Item": key(5)}}]))
        got.append(dynamodb.batch_write_item(RequestItems={table: [{"DeleteRequest": {"Key": key(5)}}]}))
        got.append(dynamodb.delete_item(TableName=table, Key=key(3), ReturnValues="ALL_OLD"))
        got.append(dynamodb.delete_item(TableName=table, Key=key(3)))
        for answer in got:
            answer.pop("ResponseMetadata")
        return got

    plain = answers()
    monkeypatch.setattr(aws, "PLAIN_ANSWERS_AS_THEY_ARE", False)
    by_shape = answers()
    assert plain == by_shape
    assert plain[5]["Item"]["nested"] == values["nested"] and plain[6]["Item"]["blob"] == {"B": b"\x00\xff"}
    assert plain[10]["Count"] == 2 and "LastEvaluatedKey" in plain[10] and "Item" not in plain[7]


def test_a_reset_makes_the_tables_queues_and_secrets_again_as_the_api_made_them_and_empty(
        stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reset puts back copies of what provisioning made through the API (not made again, request by request):
    the same tables, indexes, streams, time to live, queues, redrive policies and secrets, with nothing left of the
    last test, and each queue working with a lock of its own."""
    dynamodb, sqs, ssm = stack.aws("dynamodb"), stack.aws("sqs"), stack.aws("ssm")
    tables = [name for name in stack.template.of_type("AWS::DynamoDB::Table")]
    queues = [name for name in stack.template.of_type("AWS::SQS::Queue")]
    secret_names = [stack.template.parameters[name] for name in ("BotTokenSecretName", "StackKeySecretName")]

    def described() -> dict[str, Any]:
        def table(name: str) -> dict[str, Any]:
            found = dynamodb.describe_table(TableName=name)["Table"]
            return {**{key: found.get(key) for key in ("KeySchema", "AttributeDefinitions", "StreamSpecification",
                                                       "BillingModeSummary", "ItemCount")},
                    "indexes": sorted(index["IndexName"] for index in found.get("GlobalSecondaryIndexes", [])),
                    "ttl": dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]}

        def queue(name: str) -> dict[str, str]:
            found = sqs.get_queue_attributes(QueueUrl=stack.template.queue_url(name), AttributeNames=["All"])
            return {key: value for key, value in found["Attributes"].items() if not key.endswith("Timestamp")}

        return {"tables": {name: table(name) for name in tables}, "queues": {name: queue(name) for name in queues},
                "secrets": {name: ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
                            for name in secret_names}}

    monkeypatch.setattr(stack, "_provisioned", None)  # as if the stack met its template for the first time
    stack.reset()
    made_by_the_api = described()
    assert made_by_the_api["queues"]["AccrualQueue"]["RedrivePolicy"] and made_by_the_api["secrets"]
    dynamodb.put_item(TableName="MembersTable", Item={"member_id": {"S": "left over"}})
    for name in ("AccrualQueue", "OutboxQueue"):
        send(stack, name, {"left": "over"})

    stack.reset()
    assert described() == made_by_the_api
    assert dynamodb.scan(TableName="MembersTable")["Items"] == [] and stack.moto.stream_length("MembersTable") == 0
    assert stack.queue_depth("AccrualQueue") == stack.queue_depth("OutboxQueue") == 0
    send(stack, "AccrualQueue", {"after": "the reset"})
    got = sqs.receive_message(QueueUrl=stack.template.queue_url("AccrualQueue"), WaitTimeSeconds=0)["Messages"]
    assert [json.loads(message["Body"]) for message in got] == [{"after": "the reset"}]
