"""template.yaml is wired as the code expects: a wiring mistake fails here, before any deploy."""

import dataclasses
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from loyalty import settings as settings_module
from loyalty.wiring.edge import EdgeSettings
from loyalty_tools.local.template import FunctionSpec, Template
from tests.conftest import ROOT

TEMPLATE = Template(ROOT / "template.yaml")
FUNCTIONS = TEMPLATE.functions()


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda spec: spec.logical_id)
def test_each_function_gets_every_variable_its_settings_model_needs(spec: FunctionSpec) -> None:
    source = (spec.code_dir / "app.py").read_text()
    if "EdgeSettings" in source:  # the webhook: its edge's few settings, and the full bot's behind it
        edge = {field.name for field in dataclasses.fields(EdgeSettings) if field.name != "CONSOLE_TABLE"}
        assert edge <= set(spec.environment), edge - set(spec.environment)
        model_name = "WebhookSettings"
    else:
        (model_name,) = re.findall(r"environment\((\w+)\)", source)
    model = getattr(settings_module, model_name)
    required = {name for name, field in model.model_fields.items() if field.is_required()}
    assert required <= set(spec.environment), required - set(spec.environment)
    model.model_validate(spec.environment)  # and the template's values fit the model's types


@pytest.mark.parametrize("spec", [s for s in FUNCTIONS if s.queues], ids=lambda spec: spec.logical_id)
def test_each_queue_consumer_reports_partial_failures_and_has_time_to_retry(spec: FunctionSpec) -> None:
    for source in spec.queues:
        assert source.reports_item_failures
        queue = TEMPLATE.resources[source.queue]["Properties"]
        assert int(queue["VisibilityTimeout"]) >= 6 * spec.timeout
        assert "deadLetterTargetArn" in queue["RedrivePolicy"]


@pytest.mark.parametrize("spec", [s for s in FUNCTIONS if "CONCURRENCY" in s.environment],
                         ids=lambda spec: spec.logical_id)
def test_a_function_that_paces_itself_is_told_how_many_of_it_may_run_at_once(spec: FunctionSpec) -> None:
    """Each container keeps its share of a rate (adapters/pacing.py: LocalPace): the share is right only while the
    event source runs no more containers than CONCURRENCY says."""
    (event,) = [event["Properties"] for event in TEMPLATE.resources[spec.logical_id]["Properties"]["Events"].values()
                if event["Type"] == "SQS"]
    assert int(spec.environment["CONCURRENCY"]) == int(event["ScalingConfig"]["MaximumConcurrency"])


def test_every_queue_has_a_dead_letter_queue_and_every_dead_letter_queue_pages_someone() -> None:
    queues = TEMPLATE.of_type("AWS::SQS::Queue")
    dead_letter_queues = {name for name in queues if name.endswith("DeadLetterQueue")}
    for name, queue in queues.items():
        assert name in dead_letter_queues or "RedrivePolicy" in queue["Properties"], name
    alarmed = {alarm["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
               for alarm in TEMPLATE.of_type("AWS::CloudWatch::Alarm").values()
               if alarm["Properties"]["Namespace"] == "AWS/SQS"
               and alarm["Properties"]["MetricName"] == "ApproximateNumberOfMessagesVisible"}
    assert alarmed == dead_letter_queues


def test_a_crm_backlog_pages_someone_long_before_the_queue_drops_it() -> None:
    """The CRM being down is retried for days; an engineer hears of it within the hour, not at the DLQ."""
    backlog = [alarm["Properties"] for alarm in TEMPLATE.of_type("AWS::CloudWatch::Alarm").values()
               if alarm["Properties"]["MetricName"] == "ApproximateAgeOfOldestMessage"]
    assert [alarm["Dimensions"][0]["Value"]["Fn::GetAtt"][0] for alarm in backlog] == ["CrmQueue"]
    crm_queue = TEMPLATE.resources["CrmQueue"]["Properties"]
    assert backlog[0]["Threshold"] < int(crm_queue["MessageRetentionPeriod"])


def test_a_fifo_queue_parks_in_a_fifo_dead_letter_queue() -> None:
    queues = TEMPLATE.of_type("AWS::SQS::Queue")
    for name, queue in queues.items():
        redrive = queue["Properties"].get("RedrivePolicy")
        if redrive:
            target = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]
            assert queues[target]["Properties"].get("FifoQueue") == queue["Properties"].get("FifoQueue"), name


def test_every_scheduled_function_pages_someone_when_it_fails_and_has_a_dead_letter_queue() -> None:
    scheduled = {spec.logical_id: spec for spec in TEMPLATE.functions() if spec.schedules}
    assert scheduled, "the points schedule is declared"
    alarmed = {alarm["Properties"]["Dimensions"][0]["Value"]["Ref"]
               for alarm in TEMPLATE.of_type("AWS::CloudWatch::Alarm").values()
               if alarm["Properties"]["Namespace"] == "AWS/Lambda"}
    assert set(scheduled) <= alarmed
    for name in scheduled:
        for event in TEMPLATE.resources[name]["Properties"]["Events"].values():
            assert event["Properties"]["DeadLetterConfig"]["Type"] == "SQS"


def test_the_redemption_api_requires_an_api_key_on_every_route() -> None:
    routes = [route for spec in TEMPLATE.functions() for route in spec.routes if route.kind == "rest"]
    assert len(routes) >= 6 and all(route.api_key_required for route in routes)


def test_tables_are_on_demand_with_point_in_time_recovery() -> None:
    for name, table in TEMPLATE.of_type("AWS::DynamoDB::Table").items():
        props = table["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST", name
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True, name


def test_secrets_are_named_never_given() -> None:
    """A secret is an SSM SecureString parameter the template names: a full path, so its ARN in IAM is right."""
    for name, parameter in TEMPLATE.document["Parameters"].items():
        if "Secret" in name or "Token" in name:
            assert name.endswith("SecretName"), f"{name}: pass the secret's name, not its value"
            assert re.fullmatch(parameter["AllowedPattern"], parameter["Default"]), name
            assert parameter["Default"].startswith("/") and parameter["AllowedPattern"].startswith("^/"), name


def pins(path: Path) -> set[str]:
    """The name==version lines of a lock file (names normalised, extras and markers dropped)."""
    lines = [line.split(";")[0].strip() for line in path.read_text().splitlines()]
    return {re.sub(r"\[.*\]", "", line).lower().replace("_", "-") for line in lines if line and line[0].isalnum()}


def test_the_locks_pin_the_whole_tree_at_the_versions_pyproject_asks_for() -> None:
    """`make lock` generates them; a dependency changed in pyproject.toml without it fails here."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime, dev = set(pins(ROOT / "layers" / "loyalty" / "requirements.txt")), pins(ROOT / "requirements" / "dev.lock")
    asked = {re.sub(r"\[.*\]", "", requirement).lower().replace("_", "-") for requirement in project["dependencies"]}
    tools = {re.sub(r"\[.*\]", "", requirement).lower() for requirement in project["optional-dependencies"]["dev"]}
    assert asked <= runtime and asked <= dev and tools <= dev
    assert len(runtime) > len(asked)  # and what they depend on, pinned too
    assert all("==" in pin for pin in runtime | dev | pins(ROOT / "requirements" / "bench.lock"))


def test_the_lapse_index_projects_what_a_campaign_run_reads_of_a_member() -> None:
    from loyalty.adapters.members import AUDIENCE_ATTRIBUTES, LAPSE_INDEX

    indexes = TEMPLATE.resources["MembersTable"]["Properties"]["GlobalSecondaryIndexes"]
    (lapse,) = [index for index in indexes if index["IndexName"] == LAPSE_INDEX]
    projected = {"member_id", *lapse["Projection"]["NonKeyAttributes"]}  # the table's key is always projected
    assert projected == set(AUDIENCE_ATTRIBUTES)


# Actions that name no resource: AWS grants them only on "*".
_RESOURCELESS_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "cloudwatch:PutMetricData"}


def _policy_statements() -> Iterator[Any]:
    """(function, statement) for every inline statement of every function, and (function, policy) for the rest."""
    for name, resource in TEMPLATE.resources.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for policy in resource["Properties"].get("Policies") or []:
            if isinstance(policy, dict) and "Statement" in policy:
                yield from ((name, statement) for statement in policy["Statement"])
            else:
                yield name, policy


def test_iam_is_least_privilege_no_wildcard_action_or_resource_and_no_managed_policy() -> None:
    assert not [r for r in TEMPLATE.resources.values() if r["Type"].startswith("AWS::IAM::")]  # all roles by SAM
    statements = list(_policy_statements())
    assert len({name for name, _ in statements}) == len(FUNCTIONS)  # every function states its own permissions
    for name, statement in statements:
        assert isinstance(statement, dict) and "Effect" in statement, (name, statement)  # no managed policy
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert not [action for action in actions if "*" in action], (name, actions)
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if "*" in resources:
            assert set(actions) <= _RESOURCELESS_ACTIONS, (name, actions)
            continue
        for resource in resources:  # a table, a queue, an index or a secret: a secret's ARN ends in six wildcards
            text = str(resource).replace("-??????", "")
            assert "*" not in text and "?" not in text, (name, resource)


def test_the_webhook_and_the_apis_take_their_secrets_from_parameter_store_not_the_template() -> None:
    for spec in FUNCTIONS:
        for variable, value in spec.environment.items():
            assert not re.search(r"(TOKEN|SECRET|KEY|PASSWORD)$", variable) or variable.endswith("_NAME"), \
                (spec.logical_id, variable)
            assert not re.fullmatch(r"\d{8,10}:[\w-]{35}", str(value)), (spec.logical_id, variable)  # a bot token


@pytest.mark.parametrize("spec", [s for s in FUNCTIONS if s.streams], ids=lambda spec: spec.logical_id)
def test_a_stream_consumer_retries_in_order_from_the_batch_start_and_names_what_it_gave_up_on(
        spec: FunctionSpec) -> None:
    """The figures count a batch once by its first record (flows/figures.py): a batch must come back from there,
    whole and in order — no bisecting, one batch per shard at a time — and what is given up on is named in a
    queue someone is paged for."""
    events = TEMPLATE.resources[spec.logical_id]["Properties"]["Events"].values()
    for event in (e["Properties"] for e in events if e["Type"] == "DynamoDB"):
        assert not event.get("BisectBatchOnFunctionError") and event.get("ParallelizationFactor", 1) == 1
        assert event["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0].endswith("DeadLetterQueue")
        table = TEMPLATE.resources[event["Stream"]["Fn::GetAtt"][0]]["Properties"]
        assert table["StreamSpecification"]["StreamViewType"] in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES")
    assert {source.table for source in spec.streams} == {"LedgerTable", "MembersTable", "CampaignsTable", "BotTable"}


def test_the_dashboards_charting_library_is_the_pinned_one() -> None:
    """Chart.js is served from our own origin, exactly the version functions/console/static/vendor/README.md names."""
    import hashlib

    vendored = ROOT / "functions" / "console" / "static" / "vendor" / "chart.umd.min.js"
    assert hashlib.sha256(vendored.read_bytes()).hexdigest() == \
        "3f288f4f26882c26b58931fb586a9b4f30370b5de38d69dc005b0bd05b08e113"
    assert "Chart.js v4.6.2" in vendored.read_text(encoding="utf-8")[:200]


def test_the_functions_publish_only_the_metrics_the_dashboard_reads_and_no_more_than_the_free_ten() -> None:
    """A custom metric costs $0.30 a month past CloudWatch's ten free ones, each name and dimension value its own:
    so a metric is published only where an engineer reads it (the operations dashboard), under a fixed name (a
    refusal's reason, say, goes in the log line, not into the metric's name)."""
    code = "\n".join(path.read_text(encoding="utf-8") for folder in ("layers", "functions")
                     for path in (ROOT / folder).rglob("*.py"))
    assert "add_metric(name=f" not in code, "a metric named from a value: one billed metric per value"
    published = set(re.findall(r'add_metric\(name="(\w+)"', code))
    body = TEMPLATE.resources["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    read = set(re.findall(r'\["LoyaltyEverywhere", "(\w+)"', body))
    assert published == read and len(read) <= 10
