"""The event sources of template.yaml, emulated: API routes, SQS event source mappings and schedules.

- HTTP: each request to a declared route becomes an API Gateway event, HTTP API (payload 2.0) or REST API
  (payload 1.0, with path parameters, and a 403 without the API key where the API requires one); the
  handler's response becomes the HTTP response.
- Schedules never fire by themselves (nor do they in moto): `scheduled_event` makes the event a rule
  delivers, for any moment, and a test or operator invokes the function with it.
- DynamoDB Streams: each table's stream is read from its start, its records passed through the event source's
  filters and handed to the function in batches, in order; a batch the function fails on is handed again, from
  its first record, up to MaximumRetryAttempts times, then named in the OnFailure queue and passed over.
- SQS: each queue is long-polled and its consumer invoked with real SQS event records, as Lambda's poller
  does. Records named in `batchItemFailures` stay in the queue (their visibility decides when they come
  back, and SQS's redrive policy moves them to the dead-letter queue after maxReceiveCount); the others
  are deleted. A handler that raises leaves the whole batch in the queue.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

from loyalty_tools.local.aws import plumbing_client
from loyalty_tools.local.http import JsonHandler, Server
from loyalty_tools.local.runtime import FunctionHost
from loyalty_tools.local.template import ACCOUNT, REGION, ApiRoute, QueueSource, StreamSource, Template

log = logging.getLogger("loyalty_tools.local")


class HttpApi(Server):
    """Every API of the template on one local server (in the cloud each has its own base URL)."""

    def __init__(self, host: FunctionHost, host_ip: str = "127.0.0.1", port: int = 0, api_key: str = ""):
        self.routes = [(route, _path_pattern(route.path), spec.logical_id)
                       for spec in host.specs.values() for route in spec.routes]
        self.api_key = api_key
        self.functions = host  # a redeploy of the stack hands the API its new functions
        super().__init__(type("Handler", (_ApiHandler,), {"api": self}), "http-api", host_ip, port)

    def match(self, method: str, path: str) -> tuple[ApiRoute, dict[str, str], str] | None:
        for route, pattern, function in self.routes:
            found = pattern.fullmatch(path)
            if route.method == method and found:
                return route, {k: unquote(v) for k, v in found.groupdict().items()}, function
        return None


def _path_pattern(path: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path)))


def scheduled_event(rule: str, moment: datetime) -> dict[str, Any]:
    """The event an EventBridge schedule rule delivers to its target."""
    return {
        "version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
        "account": ACCOUNT, "time": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{rule}"], "detail": {},
    }


class _ApiHandler(JsonHandler):
    api: HttpApi

    def do_GET(self) -> None:
        self._invoke()

    def do_POST(self) -> None:
        self._invoke()

    def __getattr__(self, name: str) -> Any:
        """Any other method (PUT, TRACE, QUERY…) gets API Gateway's answer, not the HTTP server's 501."""
        if name.startswith("do_"):
            return self._invoke
        raise AttributeError(name)

    def _invoke(self) -> None:
        url = urlsplit(self.path)
        found = self.api.match(self.command, url.path)
        if found is None:
            self.read_body()
            if any(route.kind == "rest" and pattern.fullmatch(url.path) for route, pattern, _ in self.api.routes):
                self.reply_json(403, {"message": "Missing Authentication Token"})  # what a REST API answers
            else:
                self.reply_json(404, {"message": "Not Found"})
            return
        route, parameters, function = found
        body = self.read_body()
        if route.api_key_required and not hmac.compare_digest(self.headers.get("x-api-key", ""), self.api.api_key):
            self.reply_json(403, {"message": "Forbidden"})  # API Gateway's answer; the function is not invoked
            return
        event = self._event(url.path, url.query, body) if route.kind == "http" \
            else self._rest_event(route, parameters, url.query, body)
        try:
            response = self.api.functions.invoke(function, event)
        except Exception:
            log.exception("function %s failed", function)
            self.reply_json(500, {"message": "Internal Server Error"})
            return
        data = response.get("body") or ""
        payload = base64.b64decode(data) if response.get("isBase64Encoded") else data.encode()
        headers = {k: v for k, v in (response.get("headers") or {}).items() if k.lower() != "content-type"}
        content_type = (response.get("headers") or {}).get("Content-Type", "application/json")
        cookies = [("Set-Cookie", cookie) for cookie in response.get("cookies") or []]  # payload 2.0's cookies
        self.reply(int(response.get("statusCode", 200)), payload, content_type, headers, cookies)

    def _rest_event(self, route: ApiRoute, parameters: dict[str, str], query: str, body: bytes) -> dict[str, Any]:
        now = datetime.now(UTC)
        text, encoded = _body(body)
        pairs = parse_qsl(query)
        return {
            "resource": route.path, "path": urlsplit(self.path).path, "httpMethod": self.command,
            "headers": dict(self.headers.items()),
            "multiValueHeaders": {name: self.headers.get_all(name) or [] for name in self.headers},
            "queryStringParameters": dict(pairs) or None,
            "multiValueQueryStringParameters": {k: [v for n, v in pairs if n == k] for k, _ in pairs} or None,
            "pathParameters": parameters or None, "stageVariables": None,
            "requestContext": {
                "accountId": ACCOUNT, "apiId": "local", "resourcePath": route.path, "httpMethod": self.command,
                "path": f"/v1{urlsplit(self.path).path}", "stage": "v1", "requestId": str(uuid.uuid4()),
                "requestTimeEpoch": int(now.timestamp() * 1000), "protocol": "HTTP/1.1",
                "identity": {"sourceIp": self.client_address[0], "userAgent": self.headers.get("User-Agent", ""),
                             "apiKey": self.headers.get("x-api-key")},
            },
            "body": text or None,
            "isBase64Encoded": encoded,
        }

    def _event(self, path: str, query: str, body: bytes) -> dict[str, Any]:
        now = datetime.now(UTC)
        text, encoded = _body(body)
        return {
            "version": "2.0",
            "routeKey": f"{self.command} {path}",
            "rawPath": path,
            "rawQueryString": query,
            # HTTP API (payload 2.0) joins a header sent twice with a comma: a doubled secret header is refused.
            # Cookies come apart, in `cookies`, not among the headers.
            "headers": {name.lower(): ",".join(self.headers.get_all(name) or []) for name in set(self.headers)
                        if name.lower() != "cookie"},
            "cookies": [part.strip() for value in self.headers.get_all("Cookie") or [] for part in value.split(";")
                        if part.strip()] or None,
            "queryStringParameters": dict(parse_qsl(query)) or None,
            "requestContext": {
                "accountId": ACCOUNT, "apiId": "local", "domainName": self.headers.get("Host", "localhost"),
                "domainPrefix": "local", "requestId": str(uuid.uuid4()), "routeKey": f"{self.command} {path}",
                "stage": "$default", "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "timeEpoch": int(now.timestamp() * 1000),
                "http": {"method": self.command, "path": path, "protocol": "HTTP/1.1",
                         "sourceIp": self.client_address[0], "userAgent": self.headers.get("User-Agent", "")},
            },
            "body": text or None,
            "isBase64Encoded": encoded,
        }


def _body(body: bytes) -> tuple[str, bool]:
    try:
        return body.decode(), False
    except UnicodeDecodeError:
        return base64.b64encode(body).decode(), True


_STOP_SECONDS = 300  # what a batch in hand may take on the busiest machine; a poller that hangs is still named


class Poller:
    """An event source mapping's poller: a thread that polls until told to stop (`_run`, each poller's own)."""

    def __init__(self, name: str):
        self.name = name  # what a poller that does not stop is called
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"poll-{self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop polling, once the batch in hand (if any) is done. A poller left running would go on invoking
        functions, which swap this process's environment under whatever runs next: it is waited for (a batch on a
        machine as busy as a CPU hog makes it takes a while), up to a bound that names it."""
        self.stopping()
        if self._thread is not None:
            self._thread.join(timeout=_STOP_SECONDS)
            if self._thread.is_alive():
                raise RuntimeError(f"the poller of {self.name} did not stop within {_STOP_SECONDS} s")
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    def stopping(self) -> None:
        """Tell the poller to stop after its current poll (`stop` then waits for it): several pollers stop in the
        time of one long poll."""
        self._stop.set()

    def _run(self) -> None:
        raise NotImplementedError


class QueuePoller(Poller):
    """Lambda's SQS poller for one event source mapping."""

    def __init__(self, template: Template, host: FunctionHost, function: str, source: QueueSource,
                 endpoint_url: str):
        super().__init__(source.queue)
        self.function = function
        self.source = source
        self.host = host
        self.queue_url = template.queue_url(source.queue)
        self.queue_arn = template.resolve({"Fn::GetAtt": [source.queue, "Arn"]})
        self.sqs = plumbing_client("sqs", endpoint_url)

    def _run(self) -> None:
        # moto long-polls a FIFO queue whose visible messages wait behind an in-flight one of their group by
        # spinning, which starves every other thread of this process: poll a FIFO queue without waiting.
        fifo = self.queue_url.endswith(".fifo")
        while not self._stop.is_set():
            try:
                if not self.poll_once(wait_seconds=0 if fifo else 1) and fifo:
                    self._stop.wait(0.1)
            except Exception:  # keep polling, as Lambda does, whatever one batch did
                log.exception("poller for %s failed", self.source.queue)
                time.sleep(0.5)

    def poll_once(self, wait_seconds: int = 0) -> int:
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=min(self.source.batch_size, 10),
            WaitTimeSeconds=wait_seconds, MessageSystemAttributeNames=["All"], MessageAttributeNames=["All"],
        )
        messages = response.get("Messages", [])
        if not messages:
            return 0
        records = [self._record(message) for message in messages]
        try:
            result = self.host.invoke(self.function, {"Records": records})
        except Exception:
            log.exception("%s failed on a batch of %d; the batch stays in the queue", self.function, len(records))
            return len(records)
        failed = set()
        if self.source.reports_item_failures and isinstance(result, dict):
            failed = {item["itemIdentifier"] for item in result.get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(index), "ReceiptHandle": m["ReceiptHandle"]} for index, m in enumerate(done)
            ])
        return len(records)

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {
                name: {"stringValue": value.get("StringValue"), "binaryValue": value.get("BinaryValue"),
                       "stringListValues": [], "binaryListValues": [], "dataType": value["DataType"]}
                for name, value in message.get("MessageAttributes", {}).items()
            },
            "md5OfBody": message.get("MD5OfBody") or hashlib.md5(message["Body"].encode()).hexdigest(),  # noqa: S324
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": REGION,
        }


class StreamState(Protocol):
    """What a stream poller reads a table's stream from (MotoServer: moto's own state, in this process)."""

    def stream_length(self, table: str) -> int: ...

    def stream_records(self, table: str, start: int, limit: int) -> list[dict[str, Any]]: ...


class StreamPoller(Poller):
    """Lambda's DynamoDB Streams poller for one event source mapping (moto keeps one shard per stream)."""

    def __init__(self, template: Template, host: FunctionHost, function: str, source: StreamSource,
                 endpoint_url: str, streams: StreamState):
        super().__init__(f"the stream of {source.table}")
        self.streams = streams
        self.function = function
        self.source = source
        self.host = host
        self.template = template
        self.dynamodb = plumbing_client("dynamodb", endpoint_url)
        self.sqs = plumbing_client("sqs", endpoint_url)
        self.stream_arn = ""
        self._read = 0  # how many records were handed over (or filtered out); it moves once a batch is done

    def start(self) -> None:
        """Read the table's (new) stream from its first record."""
        self.stream_arn = self.dynamodb.describe_table(TableName=self.source.table)["Table"]["LatestStreamArn"]
        self._read = 0
        super().start()

    def pending(self) -> bool:
        """Whether the stream holds records the function has not been handed (or is being handed) yet."""
        return self.running and self.streams.stream_length(self.source.table) > self._read

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                handed = self.poll_once(failures)
                failures = 0 if handed >= 0 else failures + 1
                if handed <= 0:
                    self._stop.wait(0.05 if handed == 0 else min(2.0, 0.1 * 2 ** failures))
            except Exception:
                log.exception("stream poller for %s failed", self.source.table)
                self._stop.wait(0.5)

    def poll_once(self, failures: int = 0) -> int:
        """Hand the function the next batch: how many records (0: none waiting; -1: the function failed, the
        batch will be handed again)."""
        raw = self.streams.stream_records(self.source.table, self._read, self.source.batch_size)
        records = [self._record(record) for record in raw]
        passed = [record for record in records if self._passes(record)]
        if passed:
            try:
                self.host.invoke(self.function, {"Records": passed})
            except Exception as error:
                if self.source.max_retries < 0 or failures < self.source.max_retries:
                    log.warning("%s failed on %d stream records; handed again", self.function, len(passed))
                    return -1
                self._gave_up(passed, error)
        self._read += len(records)
        return len(passed) if records else 0

    def _passes(self, record: dict[str, Any]) -> bool:
        return not self.source.filters or any(_matches(pattern, record) for pattern in self.source.filters)

    def _gave_up(self, records: list[dict[str, Any]], error: Exception) -> None:
        """What Lambda sends the OnFailure destination: where the batch was, not the records themselves."""
        log.error("%s failed on stream records %s…%s after every retry", self.function,
                  records[0]["dynamodb"]["SequenceNumber"], records[-1]["dynamodb"]["SequenceNumber"])
        if self.source.on_failure:
            self.sqs.send_message(QueueUrl=self.template.queue_url(self.source.on_failure), MessageBody=json.dumps({
                "requestContext": {"condition": "RetryAttemptsExhausted", "functionArn": self.function},
                "responseContext": {"functionError": type(error).__name__},
                "DDBStreamBatchInfo": {"streamArn": self.stream_arn, "batchSize": len(records),
                                       "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
                                       "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"]}}))

    def _record(self, raw: dict[str, Any]) -> dict[str, Any]:
        stream = dict(raw["dynamodb"])
        created = stream.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):  # moto keeps it in UTC, without saying so
            stream["ApproximateCreationDateTime"] = (created if created.tzinfo else created.replace(tzinfo=UTC)
                                                     ).timestamp()
        return {"eventID": raw["eventID"], "eventName": raw["eventName"], "eventVersion": "1.1",
                "eventSource": "aws:dynamodb", "awsRegion": REGION, "dynamodb": stream,
                "eventSourceARN": self.stream_arn}


def _matches(pattern: Any, value: Any) -> bool:
    """Lambda's event filtering, as far as the template uses it: nested keys, a list of values any of which
    may match, and {"exists": …}, {"prefix": …} or {"anything-but": […]} for a value."""
    if isinstance(pattern, list):
        return any(_matches(option, value) for option in pattern)
    if isinstance(pattern, dict) and set(pattern) == {"prefix"}:
        return isinstance(value, str) and value.startswith(pattern["prefix"])
    if isinstance(pattern, dict) and set(pattern) == {"anything-but"}:
        return value not in pattern["anything-but"]
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(
            _exists(rule, key in value) if _is_exists(rule) else key in value and _matches(rule, value[key])
            for key, rule in pattern.items())
    return bool(pattern == value)


def _is_exists(rule: Any) -> bool:
    return isinstance(rule, list) and len(rule) == 1 and isinstance(rule[0], dict) and "exists" in rule[0]


def _exists(rule: list[dict[str, bool]], present: bool) -> bool:
    return rule[0]["exists"] == present
