"""EventBridge schedule: run the win-back ladder and the broadcasts that are due, and send the follow-ups after
receipts (onboarding, nudges, surveys) whose time has come."""

from datetime import datetime
from typing import Any

import loyalty.startup  # first: no garbage collected while the modules load

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from loyalty.deadline import invocation_deadline
from loyalty.observability import logger, metrics
from loyalty.settings import CampaignsSettings, environment
from loyalty.wiring import campaigns as wiring

settings = environment(CampaignsSettings)
followups = wiring.followups(settings)
campaigns = wiring.campaigns(settings, followups.read)  # one read of the console's changes for both


@logger.inject_lambda_context
@metrics.log_metrics
@invocation_deadline  # retry loops give up (retryably) before the function's timeout
@event_source(data_class=EventBridgeEvent)  # the data class, not Parser's model: a tenth of the cold start
def lambda_handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    now = datetime.fromisoformat(event.time)
    return {"campaigns": campaigns.run(now), "followups": followups().run(now)}


loyalty.startup.ready()  # loaded: what it made is kept out of every later collection
