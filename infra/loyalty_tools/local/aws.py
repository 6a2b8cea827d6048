"""AWS on one machine: moto server in-process, every request counted, resources made from template.yaml."""

from __future__ import annotations

import functools
import io
import json
import logging
import re
import threading
import urllib.parse
from collections import Counter
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
        self._lock = threading.Lock()
        self._dynamodb = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        match = _CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        if match:
            caller = "plumbing" if match.group(1) == PLUMBING_ACCESS_KEY else "functions"
            target = environ.get("HTTP_X_AMZ_TARGET", "")
            operation = target.rsplit(".", 1)[-1] if target else environ.get("QUERY_STRING", "") or "?"
            with self._lock:
                self.counts[(caller, match.group(2), operation)] += 1
            if match.group(2) == "dynamodb" and operation in ("TransactWriteItems", "TransactGetItems"):
                # What a transaction costs depends on its items (2 capacity units each): count them too.
                body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
                environ["wsgi.input"] = io.BytesIO(body)
                with self._lock:
                    self.counts[(caller, "dynamodb", f"{operation}.items")] += len(
                        json.loads(body or b"{}").get("TransactItems", []))
            if match.group(2) == "dynamodb":
                with self._dynamodb:
                    return list(self.app(environ, start_response))
        return self.app(environ, start_response)

    def snapshot(self) -> Counter[tuple[str, str, str]]:
        with self._lock:
            return Counter(self.counts)


def _copy_streams_shallowly() -> None:
    """moto backs up every table a transaction touches with a deep copy, to restore it if the transaction is
    cancelled; a table with a stream would copy every record the stream ever held, each transaction dearer than the
    last. Records never change once written: the backup keeps the list of them as it was (so a cancelled
    transaction still leaves none of its own), not copies of each."""
    import copy

    from moto.dynamodb.models.table import StreamShard

    def shallow(shard: StreamShard, memo: dict[int, Any]) -> StreamShard:
        clone = copy.copy(shard)
        clone.items = list(shard.items)
        clone.table = memo.get(id(shard.table), shard.table)
        memo[id(shard)] = clone
        return clone

    StreamShard.__deepcopy__ = shallow  # type: ignore[attr-defined]


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
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto logs every request otherwise
        # moto's server lists its package directory (a stat per service) on every request to find the service a
        # host names: a twentieth of the test suite's CPU. The list never changes while the process runs.
        modules = tuple(backends.list_of_moto_modules())
        backends.list_of_moto_modules = lambda: modules
        _copy_streams_shallowly()
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
        from moto.dynamodb.models import dynamodb_backends

        found = dynamodb_backends[ACCOUNT][REGION].tables.get(table)
        shard = getattr(found, "stream_shard", None)
        return len(shard.items) if shard is not None else 0

    def reset(self) -> None:
        """Forget every resource (between tests)."""
        import urllib.request

        urllib.request.urlopen(urllib.request.Request(f"{self.url}/moto-api/reset", method="POST"))


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

    secretsmanager = plumbing_client("secretsmanager", endpoint_url)
    for name, value in secrets.items():
        secretsmanager.create_secret(Name=name, SecretString=value)
