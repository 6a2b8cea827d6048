"""POST /telegram/webhook: Telegram's updates for the brand's bot.

A receipt's QR code is answered at the edge (flows/edge.py) with nothing heavy loaded; any other update loads the
full bot on first need (flows/webhook.py)."""

import json
from typing import Any

import loyalty.startup  # first: no garbage collected while the modules load

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from loyalty.observability import logger, metrics
from loyalty.wiring import edge as wiring

app = APIGatewayHttpResolver()
# The full bot's idempotency ends an update's in-progress mark with the invocation.
edge = wiring.edge(wiring.EdgeSettings.from_environment(),
                   lambda bot: bot.idempotency.register_lambda_context(app.lambda_context))


@app.post("/telegram/webhook")
def receive_update() -> Response[Any]:
    status, answer = edge.receive(app.current_event.headers.get("x-telegram-bot-api-secret-token"),
                                  app.current_event.body)
    return Response(status_code=status, content_type="application/json", body=json.dumps(answer))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


loyalty.startup.ready()  # loaded: what it made is kept out of every later collection
