"""EventBridge schedule: run the win-back ladder and the broadcasts that are due, and send the follow-ups after
receipts (onboarding, nudges, surveys) whose time has come."""

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
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
@event_parser(model=EventBridgeModel)
def lambda_handler(event: EventBridgeModel, context: LambdaContext) -> dict[str, Any]:
    return {"campaigns": campaigns.run(event.time), "followups": followups().run(event.time)}
