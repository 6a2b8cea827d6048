"""Read template.yaml the way CloudFormation would, for what the local stack needs.

Tables, queues, functions, their environments and their event sources all come from the template, so a
wiring mistake (a missing variable, a queue without a consumer) fails locally first. Intrinsics are
resolved against local physical names: a table or queue is named after its logical id.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ACCOUNT = "123456789012"
REGION = "eu-central-1"


class _CfnLoader(yaml.CSafeLoader):
    """YAML with CloudFormation's short tags (!Ref, !GetAtt, !Sub, ...), read by libyaml (PyYAML's wheels carry it):
    the pure-Python reader took 3% of the suite's CPU, reading the template at each redeploy."""


def _construct_tag(loader: yaml.Loader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:
        raise yaml.constructor.ConstructorError(None, None, f"unexpected !{suffix} node", node.start_mark)
    return {"Ref": value} if suffix == "Ref" else {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def read_template(path: Path) -> dict[str, Any]:
    """The template as a document, its short tags as the long forms ({"Ref": …}, {"Fn::GetAtt": …})."""
    document: dict[str, Any] = yaml.load(path.read_text(encoding="utf-8"), Loader=_CfnLoader)  # noqa: S506 - CSafeLoader subclass
    return document


@dataclass(frozen=True)
class ApiRoute:
    method: str
    path: str  # with {parameters}
    kind: str = "http"  # http: an HTTP API (payload 2.0); rest: a REST API (payload 1.0)
    api_key_required: bool = False


@dataclass(frozen=True)
class ScheduleSource:
    name: str
    expression: str


@dataclass(frozen=True)
class QueueSource:
    queue: str  # logical id
    batch_size: int
    reports_item_failures: bool


@dataclass(frozen=True)
class StreamSource:
    table: str  # logical id
    batch_size: int
    filters: tuple[dict[str, Any], ...]  # Lambda's event filter patterns (any one lets a record through)
    max_retries: int = -1  # -1: until the record leaves the stream
    on_failure: str | None = None  # the queue (logical id) told of a batch given up on


@dataclass
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler: str
    timeout: int
    memory: int
    environment: dict[str, str]
    routes: list[ApiRoute] = field(default_factory=list)
    queues: list[QueueSource] = field(default_factory=list)
    schedules: list[ScheduleSource] = field(default_factory=list)
    streams: list[StreamSource] = field(default_factory=list)


class Template:
    def __init__(self, path: Path, parameter_overrides: dict[str, str] | None = None,
                 endpoint_url: str = "http://localhost"):
        self.path = path
        self.root = path.parent
        self.document = read_template(path)
        self.resources: dict[str, dict[str, Any]] = self.document["Resources"]
        self.endpoint_url = endpoint_url.rstrip("/")
        declared = self.document.get("Parameters", {})
        unknown = set(parameter_overrides or {}) - set(declared)
        if unknown:
            raise ValueError(f"parameters not in the template: {sorted(unknown)}")
        self.parameters = {name: str(spec.get("Default", "")) for name, spec in declared.items()}
        self.parameters.update(parameter_overrides or {})

    # -------------------------------------------------------------------------- resources by type
    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {name: res for name, res in self.resources.items() if res["Type"] == kind}

    def queue_name(self, logical_id: str) -> str:
        """A queue's local physical name: its logical id (a FIFO queue's name must end in .fifo)."""
        fifo = self.resources[logical_id].get("Properties", {}).get("FifoQueue") in (True, "true")
        return f"{logical_id}.fifo" if fifo else logical_id

    def queue_url(self, logical_id: str) -> str:
        return f"{self.endpoint_url}/{ACCOUNT}/{self.queue_name(logical_id)}"

    def functions(self) -> list[FunctionSpec]:
        globals_ = self.document.get("Globals", {}).get("Function", {})
        specs = []
        for name, resource in self.of_type("AWS::Serverless::Function").items():
            props = {**globals_, **resource["Properties"]}
            variables = {
                **globals_.get("Environment", {}).get("Variables", {}),
                **resource["Properties"].get("Environment", {}).get("Variables", {}),
            }
            spec = FunctionSpec(
                logical_id=name,
                code_dir=self.root / props["CodeUri"],
                handler=props["Handler"],
                timeout=int(props.get("Timeout", 3)),
                memory=int(props.get("MemorySize", 128)),
                environment={key: str(self.resolve(value)) for key, value in variables.items()},
            )
            for event_name, event in props.get("Events", {}).items():
                event_props = event.get("Properties", {})
                if event["Type"] == "HttpApi":
                    spec.routes.append(ApiRoute(event_props["Method"].upper(), event_props["Path"]))
                elif event["Type"] == "Api":
                    api = self.resources[event_props["RestApiId"]["Ref"]]["Properties"]
                    spec.routes.append(ApiRoute(event_props["Method"].upper(), event_props["Path"], "rest",
                                                bool(api.get("Auth", {}).get("ApiKeyRequired"))))
                elif event["Type"] == "Schedule":
                    spec.schedules.append(ScheduleSource(event_name, event_props["Schedule"]))
                elif event["Type"] == "SQS":
                    spec.queues.append(QueueSource(
                        queue=event_props["Queue"]["Fn::GetAtt"][0],
                        batch_size=int(event_props.get("BatchSize", 10)),
                        reports_item_failures="ReportBatchItemFailures"
                        in event_props.get("FunctionResponseTypes", []),
                    ))
                elif event["Type"] == "DynamoDB":
                    spec.streams.append(StreamSource(
                        table=event_props["Stream"]["Fn::GetAtt"][0], batch_size=int(event_props.get("BatchSize", 100)),
                        filters=tuple(json.loads(f["Pattern"])
                                      for f in event_props.get("FilterCriteria", {}).get("Filters", [])),
                        max_retries=int(event_props.get("MaximumRetryAttempts", -1)),
                        on_failure=(event_props.get("DestinationConfig", {}).get("OnFailure", {})
                                    .get("Destination", {}).get("Fn::GetAtt", [None])[0]),
                    ))
                else:
                    raise NotImplementedError(f"{name}: event type {event['Type']} is not emulated")
            specs.append(spec)
        return specs

    def layer_dirs(self) -> list[Path]:
        return [self.root / res["Properties"]["ContentUri"]
                for res in self.of_type("AWS::Serverless::LayerVersion").values()]

    # -------------------------------------------------------------------------- intrinsics
    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) != 1:
            return {key: self.resolve(item) for key, item in value.items()}
        (function, argument), = value.items()
        if function == "Ref":
            return self._ref(argument)
        if function == "Fn::GetAtt":
            return self._get_att(*argument)
        if function == "Fn::Sub":
            return re.sub(r"\$\{([^}]+)\}", lambda m: str(self._sub_var(m.group(1))), argument)
        if function.startswith("Fn::"):
            raise NotImplementedError(f"intrinsic {function} is not emulated")
        return {function: self.resolve(argument)}

    def _sub_var(self, name: str) -> Any:
        return self._get_att(*name.split(".", 1)) if "." in name else self._ref(name)

    def _ref(self, name: str) -> Any:
        pseudo = {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::Partition": "aws",
                  "AWS::URLSuffix": "amazonaws.com", "AWS::NoValue": None}
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        kind = self.resources[name]["Type"]
        if kind == "AWS::SQS::Queue":
            return self.queue_url(name)
        return name  # tables, layers, APIs: the logical id is the local physical name

    def _get_att(self, name: str, attribute: str) -> Any:
        kind = self.resources[name]["Type"]
        if kind == "AWS::SQS::Queue":
            physical = self.queue_name(name)
            return {"Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{physical}", "QueueUrl": self.queue_url(name),
                    "QueueName": physical}[attribute]
        if kind == "AWS::DynamoDB::Table" and attribute == "Arn":
            return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"
        if kind == "AWS::DynamoDB::Table" and attribute == "StreamArn":
            return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}/stream/latest"  # the poller asks for the real one
        raise NotImplementedError(f"GetAtt {name}.{attribute} is not emulated")
