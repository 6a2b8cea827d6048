"""`loyalty openapi`: the redemption API's OpenAPI document, generated from the function's own Powertools
resolver (routes, pydantic models, validation), so the document can never drift from the code.

The handler module is loaded the way the local stack loads it: with its environment from template.yaml.
"""

from __future__ import annotations

import json
from typing import Any

from loyalty_tools.local.runtime import FunctionHost
from loyalty_tools.local.stack import ROOT
from loyalty_tools.local.template import Template

FUNCTION = "RedemptionApiFunction"
DOCUMENT = ROOT / "docs" / "redemption-api.json"


def redemption_openapi() -> dict[str, Any]:
    from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn, Server, ServerVariable

    module = FunctionHost(Template(ROOT / "template.yaml"), "http://localhost").module(FUNCTION)
    schema = module.app.get_openapi_json_schema(
        title="Loyalty Everywhere: points on the brand's site", version="1",
        description="Quote a basket, hold points for an order, commit or release the hold; redeem a promo code "
                    "the bot issued; report a published review. Amounts: points are whole roubles, money is "
                    "kopecks. Every call needs the usage plan's API key in x-api-key.",
        servers=[Server(url="https://{api}.execute-api.{region}.amazonaws.com/v1", variables={
            "api": ServerVariable(default="API_ID", description="the RedemptionApiUrl stack output's id"),
            "region": ServerVariable(default="eu-central-1")})],
        security_schemes={"apiKey": APIKey(name="x-api-key", in_=APIKeyIn.header)},
        security=[{"apiKey": []}],
    )
    document: dict[str, Any] = json.loads(schema)
    return document


def write() -> int:
    DOCUMENT.write_text(json.dumps(redemption_openapi(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(DOCUMENT.relative_to(ROOT))
    return 0
