"""EventBridge schedule: pending points become available, points expire after a reminder, stale holds go back,
levels are re-checked."""

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from loyalty.deadline import invocation_deadline
from loyalty.observability import logger, metrics
from loyalty.settings import PointsScheduleSettings, environment
from loyalty.wiring import schedule as wiring

schedule = wiring.points_schedule(environment(PointsScheduleSettings))


@logger.inject_lambda_context
@metrics.log_metrics
@invocation_deadline  # retry loops give up (retryably) before the function's timeout
@event_parser(model=EventBridgeModel)
def lambda_handler(event: EventBridgeModel, context: LambdaContext) -> dict[str, Any]:
    return schedule.run(event.time)
