"""AWS on one machine: moto server in-process, every request counted, resources made from template.yaml."""

from __future__ import annotations

import copy
import dataclasses
import functools
import inspect
import io
import json
import logging
import re
import threading
import urllib.parse
from collections import Counter
from collections.abc import Callable
from typing import Any

import boto3
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.config import Config
from botocore.httpsession import URLLib3Session
from werkzeug.serving import make_server
from werkzeug.test import EnvironBuilder, run_wsgi_app

from loyalty_tools.local.template import ACCOUNT, REGION, Template

# Credentials of our own plumbing (pollers, provisioning), told apart from the functions' requests.
PLUMBING_ACCESS_KEY = "LOCALSTACKPLUMBING"
FUNCTION_ACCESS_KEY = "testing"

_CREDENTIAL_SCOPE = re.compile(r"Credential=([^/]+)/\d{8}/[^/]+/([^/]+)/aws4_request")


class RequestCounter:
    """WSGI middleware counting AWS requests by (caller, service, operation).

    It also lets one DynamoDB request into moto at a time. DynamoDB applies each request (a transaction
    above all) atomically; moto does not under concurrent threads: a transaction deep-copies the tables
    while another request changes them. Concurrency tests must test our conditions, not moto's races.
    """

    def __init__(self, app: Any):
        self.app = app
        self.counts: Counter[tuple[str, str, str]] = Counter()
        # The functions' requests again, by the function that made each: the local stack invokes one at a time and
        # tells the counter which (`running`); a request outside an invocation (a test, a command) is "-".
        self.by_function: Counter[tuple[str, str, str]] = Counter()
        self.running: Callable[[], str | None] = lambda: None
        self._lock = threading.Lock()
        self.dynamodb = threading.Lock()  # held by each DynamoDB request while moto applies it

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        match = _CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        if match:
            caller = "plumbing" if match.group(1) == PLUMBING_ACCESS_KEY else "functions"
            target = environ.get("HTTP_X_AMZ_TARGET", "")
            operation = target.rsplit(".", 1)[-1] if target else environ.get("QUERY_STRING", "") or "?"
            with self._lock:
                self.counts[(caller, match.group(2), operation)] += 1
                if caller == "functions":
                    self.by_function[(self.running() or "-", match.group(2), operation)] += 1
            if match.group(2) == "dynamodb" and operation in ("TransactWriteItems", "TransactGetItems"):
                # What a transaction costs depends on its items (2 capacity units each): count them too.
                body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
                environ["wsgi.input"] = io.BytesIO(body)
                with self._lock:
                    self.counts[(caller, "dynamodb", f"{operation}.items")] += len(
                        json.loads(body or b"{}").get("TransactItems", []))
            if match.group(2) == "dynamodb":
                with self.dynamodb:
                    return list(self.app(environ, start_response))
        return self.app(environ, start_response)

    def snapshot(self) -> Counter[tuple[str, str, str]]:
        with self._lock:
            return Counter(self.counts)

    def snapshot_by_function(self) -> Counter[tuple[str, str, str]]:
        """The functions' requests so far, keyed (function, service, operation)."""
        with self._lock:
            return Counter(self.by_function)


@functools.cache
def _method_names(cls: type) -> list[str]:
    return [name for name, _ in inspect.getmembers(cls, predicate=inspect.isfunction)]


def _stream_shard(table: str) -> Any:
    """moto's record of a table's stream (None: no such table, or no stream)."""
    from moto.dynamodb.models import dynamodb_backends

    found = dynamodb_backends[ACCOUNT][REGION].tables.get(table)
    return getattr(found, "stream_shard", None)


@functools.cache
def _back_up_only_what_a_transaction_touches() -> None:
    """moto backs up every table a transaction writes to with a deep copy (each of its items, its stream's records),
    to put the copy back if the transaction is cancelled: a twentieth of the suite's CPU, dearer as tables grow. The
    items the transaction names are all it can change: keep those (and the stream's length), put them back if it is
    cancelled, and let moto's own copy of each table be the table itself."""
    import types

    from moto.dynamodb import models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    setattr(models, "copy", types.SimpleNamespace(deepcopy=deepcopy))  # noqa: B010 - the name moto's module calls
    transact = DynamoDBBackend.transact_write_items

    def transact_write_items(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        kept = []
        for operation in transact_items:
            request: dict[str, Any] = next(iter(operation.values()), {})
            table = backend.tables.get(request.get("TableName", ""))
            if table is None:
                continue
            key = request.get("Key") or request.get("Item") or {}
            if table.hash_key_attr not in key or (table.range_key_attr and table.range_key_attr not in key):
                continue
            at = (DynamoType(key[table.hash_key_attr]),
                  DynamoType(key[table.range_key_attr]) if table.range_key_attr else None)
            shard = table.stream_shard
            kept.append((table, at, copy.deepcopy(table.get_item(*at)), len(shard.items) if shard else 0))
        try:
            transact(backend, transact_items)
        except Exception:
            for table, (hash_key, range_key), item, streamed in reversed(kept):
                items: Any = table.items[hash_key] if range_key is not None else table.items
                place = range_key if range_key is not None else hash_key
                if item is None:
                    items.pop(place, None)
                else:
                    items[place] = item
                if table.stream_shard is not None:
                    del table.stream_shard.items[streamed:]
            raise

    setattr(DynamoDBBackend, "transact_write_items", transact_write_items)  # noqa: B010


# The DynamoDB operations whose answers hold items and counts only: strings, numbers, lists, maps and booleans.
_PLAIN_ANSWERS = frozenset({"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem",
                            "BatchWriteItem", "TransactGetItems", "TransactWriteItems"})


@functools.cache
def _write_plain_answers_as_they_are() -> None:
    """moto writes each DynamoDB answer by walking the operation's output shape member by member: a tenth of the
    suite's CPU. An item's answer is already in DynamoDB's wire form, so JSON writes it as it is, with the members
    the operation answers (moto's result may hold more). What JSON cannot write as it is goes the shape's way as
    before: a binary attribute's bytes (base64 on the wire), a table's dates, an error."""
    from moto.dynamodb.responses import DynamoResult

    execute = DynamoResult.execute_result

    def execute_result(result: DynamoResult, context: Any) -> Any:
        if PLAIN_ANSWERS_AS_THEY_ARE and context.operation_model.name in _PLAIN_ANSWERS and isinstance(
                result.result, dict):
            members = context.operation_model.output_shape.members  # moto's result may hold more: not answered
            try:
                body = json.dumps({key: value for key, value in result.result.items()
                                   if key in members and value is not None}, allow_nan=False, default=_not_plain)
            except (TypeError, ValueError):
                pass
            else:
                return 200, {"Content-Type": "application/x-amz-json-1.0"}, body
        return execute(result, context)

    setattr(DynamoResult, "execute_result", execute_result)  # noqa: B010


PLAIN_ANSWERS_AS_THEY_ARE = True  # a test switches it off to compare the two ways


def _not_plain(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is written by its shape")


class MotoServer:
    """moto's server on a free local port, in a thread of this process.

    moto keeps its state in module globals, so a second server in the same process would share it: there
    is one per process (`shared()`), and each local stack resets it when it starts.
    """

    _shared: MotoServer | None = None
    _shared_lock = threading.Lock()

    @classmethod
    def shared(cls) -> MotoServer:
        with cls._shared_lock:
            if cls._shared is None:
                cls._shared = cls().start()
            return cls._shared

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        from moto import backends
        from moto.core import responses
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto logs every request otherwise
        # moto's server lists its package directory (a stat per service) on every request to find the service a
        # host names: a twentieth of the test suite's CPU. The list never changes while the process runs.
        modules = tuple(backends.list_of_moto_modules())
        backends.list_of_moto_modules = lambda: modules
        # … and the methods of the service's response class, to find the action's: they never change either.
        setattr(responses, "method_names_from_class", _method_names)  # noqa: B010 - the name moto's module calls
        _back_up_only_what_a_transaction_touches()
        _write_plain_answers_as_they_are()
        self.counter = RequestCounter(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(host, port, self.counter, threaded=True)
        self.url = f"http://{host}:{self._server.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)

    def start(self) -> MotoServer:
        self._thread.start()
        _IN_PROCESS[self.url] = self.counter
        _answer_in_process()
        return self

    def stop(self) -> None:
        _IN_PROCESS.pop(self.url, None)
        self._server.shutdown()
        self._server.server_close()

    def stream_length(self, table: str) -> int:
        """How many records a table's stream holds, from moto's own state: a stream poller looks here first, so an
        idle stack does not ask the streams API several times a second for each table."""
        shard = _stream_shard(table)
        return len(shard.items) if shard is not None else 0

    def stream_records(self, table: str, start: int, limit: int) -> list[dict[str, Any]]:
        """Up to `limit` records of a table's stream from the `start`-th, as GetRecords gives them, from moto's own
        state: reading them through the streams API (moto serialising each, botocore parsing it back) cost a tenth
        of the suite's CPU. Read between DynamoDB requests, never in the middle of a transaction."""
        with self.counter.dynamodb:
            shard = _stream_shard(table)
            return [record.to_json() for record in shard.items[start:start + limit]] if shard is not None else []

    def queue_length(self, queue: str) -> int:
        """How many messages a queue holds (visible, in flight or delayed: work still to do), from moto's own state:
        the wait for a quiet stack looks many times a second."""
        from moto.sqs.models import sqs_backends

        found = sqs_backends[ACCOUNT][REGION].queues.get(queue)
        return sum((found.approximate_number_of_messages, found.approximate_number_of_messages_not_visible,
                    found.approximate_number_of_messages_delayed)) if found else 0

    def reset(self, to: Resources | None = None) -> None:
        """Forget every resource (between tests); then, if given, make the tables, queues and secrets `to` holds,
        empty, as `provision` made them when `keep` copied them."""
        import urllib.request

        urllib.request.urlopen(urllib.request.Request(f"{self.url}/moto-api/reset", method="POST"))
        if to is not None:
            with self.counter.dynamodb:
                to.copy_into(*_resource_backends())

    def keep(self) -> Resources:
        """A copy of the tables, queues and secrets moto holds, right after `provision`: a reset puts a copy of them
        back in a millisecond, where making them again through the API took 33 requests and 47 ms."""
        with self.counter.dynamodb:
            tables, queues, secrets = _resource_backends()
            return Resources(copy.deepcopy(tables.tables), _copied_queues(queues.queues),
                             copy.deepcopy(dict(secrets._parameters)))


@dataclasses.dataclass(frozen=True)
class Resources:
    """moto's tables, queues and secrets as `provision` left them (MotoServer.keep)."""

    tables: Any
    queues: dict[str, Any]
    secrets: Any

    def copy_into(self, tables: Any, queues: Any, secrets: Any) -> None:
        tables.tables = copy.deepcopy(self.tables)
        queues.queues = _copied_queues(self.queues)
        secrets._parameters.clear()  # moto's own dict of parameters (it loads AWS's public ones on demand)
        secrets._parameters.update(copy.deepcopy(self.secrets))


def _resource_backends() -> tuple[Any, Any, Any]:
    """moto's DynamoDB, SQS and SSM (the secrets: SecureString parameters) backends of the local stack's account and
    region."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.sqs.models import sqs_backends
    from moto.ssm.models import ssm_backends

    return (dynamodb_backends[ACCOUNT][REGION], sqs_backends[ACCOUNT][REGION], ssm_backends[ACCOUNT][REGION])


def _copied_queues(queues: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of moto's queues (a queue may name another: its dead-letter queue), each with a lock of its own
    (a lock cannot be copied)."""
    locks = {id(queue._messages_lock): threading.Condition() for queue in queues.values()}
    copied: dict[str, Any] = copy.deepcopy(queues, locks)
    return copied


# The servers of this process, by URL: a boto3 client of this process hands them its requests directly.
_IN_PROCESS: dict[str, Any] = {}


@functools.cache
def _answer_in_process() -> None:
    """Let boto3 clients hand a request for a moto server of their own process straight to its WSGI app, which is
    what its HTTP server would do with it: the same counting, the same DynamoDB lock, the same answers, without a
    socket, an HTTP parser and a thread switch each way (a third of the local stack's CPU went there). Another
    process (the CLI in a shell, `make serve`'s clients) still reaches the server over HTTP."""
    send = URLLib3Session.send

    def send_in_process(session: URLLib3Session, request: AWSPreparedRequest) -> AWSResponse:
        for url, app in list(_IN_PROCESS.items()):
            if request.url.startswith(f"{url}/"):
                return _call(app, request)
        return send(session, request)

    setattr(URLLib3Session, "send", send_in_process)  # noqa: B010 - a method replaced for the whole process


def _call(app: Any, request: AWSPreparedRequest) -> AWSResponse:
    """`request` answered by the WSGI `app`, as botocore's HTTP session would return its answer."""
    from moto.core.botocore_stubber import MockRawResponse

    url = urllib.parse.urlsplit(request.url)
    body = request.body
    data = body.read() if hasattr(body, "read") else body.encode() if isinstance(body, str) else body or b""
    headers = [(name, value.decode() if isinstance(value, bytes) else value) for name, value in request.headers.items()]
    environ = EnvironBuilder(path=urllib.parse.unquote(url.path), base_url=f"{url.scheme}://{url.netloc}",
                             query_string=url.query, method=request.method, headers=headers, data=data).get_environ()
    chunks, status, answered = run_wsgi_app(app, environ, buffered=True)
    try:
        content = b"".join(chunks)
    finally:
        getattr(chunks, "close", lambda: None)()
    return AWSResponse(request.url, int(status.split(" ", 1)[0]), dict(answered.items()), MockRawResponse(content))


@functools.cache
def plumbing_client(service: str, endpoint_url: str) -> Any:
    """One client per service and endpoint for the process: building one costs about 0.3 s, and boto3's clients
    are safe to share between threads."""
    return boto3.session.Session().client(
        service, endpoint_url=endpoint_url, region_name=REGION,
        aws_access_key_id=PLUMBING_ACCESS_KEY, aws_secret_access_key="local",  # noqa: S106 - moto's fake key
        # Every poller and test thread shares it: a connection each, not "connection pool is full".
        config=Config(retries={"max_attempts": 2}, max_pool_connections=64),
    )


def provision(template: Template, endpoint_url: str, secrets: dict[str, str]) -> None:
    """Create every table and queue the template declares, and the secrets its parameters name."""
    dynamodb = plumbing_client("dynamodb", endpoint_url)
    for name, resource in template.of_type("AWS::DynamoDB::Table").items():
        props = template.resolve(resource["Properties"])
        request = {key: props[key] for key in (
            "AttributeDefinitions", "KeySchema", "BillingMode", "LocalSecondaryIndexes", "GlobalSecondaryIndexes",
        ) if key in props}
        if "StreamSpecification" in props:
            request["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        dynamodb.create_table(TableName=name, **request)
        ttl = props.get("TimeToLiveSpecification")
        if ttl:
            dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)

    sqs = plumbing_client("sqs", endpoint_url)
    queues = template.of_type("AWS::SQS::Queue")
    # Dead-letter queues first: a redrive policy names its target's ARN.
    for name in sorted(queues, key=lambda n: "RedrivePolicy" in queues[n].get("Properties", {})):
        props = template.resolve(queues[name].get("Properties", {}))
        attributes = {key: str(props[key]).lower() if isinstance(props[key], bool) else str(props[key])
                      for key in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds", "FifoQueue",
                                  "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit")
                      if key in props}
        if "RedrivePolicy" in props:
            attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
        sqs.create_queue(QueueName=template.queue_name(name), Attributes=attributes)

    ssm = plumbing_client("ssm", endpoint_url)
    for name, value in secrets.items():  # SecureString, standard tier, with the account's own aws/ssm key
        ssm.put_parameter(Name=name, Value=value, Type="SecureString", Tier="Standard")
