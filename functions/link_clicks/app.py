"""GET /go/{id}: a nudge's tracked link; counts the click and redirects to the brand's page."""

from typing import Any

import loyalty.startup  # first: no garbage collected while the modules load

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from loyalty.observability import logger, metrics
from loyalty.settings import LinkClicksSettings, environment
from loyalty.wiring import link_clicks as wiring

app = APIGatewayHttpResolver()
clicks = wiring.link_clicks(environment(LinkClicksSettings))


@app.get("/go/<followup_id>")
def follow(followup_id: str) -> Response[Any]:
    return Response(status_code=302, headers={"Location": clicks().follow(followup_id), "Cache-Control": "no-store"},
                    body="")


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


loyalty.startup.ready()  # loaded: what it made is kept out of every later collection
