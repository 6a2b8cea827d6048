"""EventBridge schedule: pending points become available, points expire after a reminder, stale holds go back,
levels are re-checked."""

from datetime import datetime
from typing import Any

import loyalty.startup  # first: no garbage collected while the modules load

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from loyalty.deadline import invocation_deadline
from loyalty.observability import logger, metrics
from loyalty.settings import PointsScheduleSettings, environment
from loyalty.wiring import schedule as wiring

schedule = wiring.points_schedule(environment(PointsScheduleSettings))


@logger.inject_lambda_context
@metrics.log_metrics
@invocation_deadline  # retry loops give up (retryably) before the function's timeout
@event_source(data_class=EventBridgeEvent)  # the data class, not Parser's model: a tenth of the cold start
def lambda_handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    return schedule.run(datetime.fromisoformat(event.time))


loyalty.startup.ready()  # loaded: what it made is kept out of every later collection
