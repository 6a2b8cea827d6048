"""The brand site's points API: quote, hold, commit, release; promo codes; reviews. REST API + API key."""

import json
from typing import Annotated, Any

import loyalty.startup  # first: no garbage collected while the modules load

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Header, Path
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from loyalty.deadline import invocation_deadline
from loyalty.domain.errors import (
    Conflict,
    DomainError,
    HoldExpired,
    HoldNotFound,
    InsufficientPoints,
    MemberNotFound,
)
from loyalty.flows.redemption import (
    CommitRequest,
    HoldRequest,
    HoldView,
    Quote,
    QuoteRequest,
    RedeemRequest,
    ReviewRequest,
)
from loyalty.observability import logger, metrics
from loyalty.settings import RedemptionSettings, environment
from loyalty.wiring import redemption as wiring

app = APIGatewayRestResolver(enable_validation=True)
redemption = wiring.redemption(environment(RedemptionSettings))

MemberId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
HoldId = Annotated[str, Path(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9_.:-]+$")]
Key = Annotated[str, Header(alias="idempotency-key", min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$",
                            description="one per checkout attempt: a retry with the same key never charges twice")]


class _Model(BaseModel):
    # Built by the first request that takes or gives one: a cold start builds no validator it may not need.
    model_config = ConfigDict(defer_build=True)


class Refusal(_Model):
    error: str = Field(description="a stable code: member_not_found, insufficient_points, conflict, ...")
    message: str


_ERRORS = {400: "an impossible request (more points than the basket takes, no member named)",
           404: "no such member, hold or promo code", 409: "refused: not enough points, a used key or code, a "
           "hold already settled or expired"}


def answers(status: int, model: type, *errors: int) -> dict[int, OpenAPIResponse]:
    """The route's documented answers: its success with `model`, and these refusals."""
    documented: dict[int, OpenAPIResponse] = {status: {"description": "done", "content": {
        "application/json": {"model": model}}}}
    for code in errors:
        documented[code] = {"description": _ERRORS[code], "content": {"application/json": {"model": Refusal}}}
    documented[403] = {"description": "no or a wrong API key", "content": {"application/json": {"model": Forbidden}}}
    documented[415] = {"description": "the body is not JSON", "content": {"application/json": {"model": Refusal}}}
    documented[503] = {"description": "the member's points kept changing under concurrent writes, or the "
                       "tables were unavailable; nothing was written: retry after Retry-After seconds",
                       "content": {"application/json": {"model": Refusal}}}
    return documented



class Forbidden(_Model):
    message: str = Field(description="API Gateway's own answer to a request without the right x-api-key")


class Accepted(_Model):
    status: str


@app.post("/quote", summary="How much of a basket points can pay, per line", responses=answers(200, Quote, 404, 400))
def quote(request: QuoteRequest) -> Quote:
    return redemption.quote(request)


@app.post("/members/<member_id>/holds", status_code=201, summary="Reserve points for an order",
          responses=answers(201, HoldView, 404, 409, 400))
def hold(member_id: MemberId, request: HoldRequest, idempotency_key: Key) -> HoldView:
    return redemption.hold(member_id, idempotency_key, request)


@app.post("/members/<member_id>/holds/<hold_id>/commit", summary="The order is paid: spend the held points",
          responses=answers(200, HoldView, 404, 409))
def commit(member_id: MemberId, hold_id: HoldId, request: CommitRequest) -> HoldView:
    return redemption.commit(member_id, hold_id, request)


@app.post("/members/<member_id>/holds/<hold_id>/release", summary="The order is cancelled: give the points back",
          responses=answers(200, HoldView, 404, 409))
def release(member_id: MemberId, hold_id: HoldId) -> HoldView:
    return redemption.release(member_id, hold_id)


@app.post("/promo-codes/<code>/redeem", summary="Pay an order with a promo code from the bot (once)",
          responses=answers(200, HoldView, 404, 409))
def redeem(code: Annotated[str, Path(min_length=1, max_length=40)], request: RedeemRequest) -> HoldView:
    return redemption.redeem(code, request)


@app.post("/members/<member_id>/reviews", status_code=202, summary="A review was published: pay its bonus once",
          responses=answers(202, Accepted, 404))
def review(member_id: MemberId, request: ReviewRequest) -> Accepted:
    redemption.review(member_id, request)
    return Accepted(status="accepted")


_STATUS = {MemberNotFound: 404, HoldNotFound: 404, InsufficientPoints: 409, HoldExpired: 409, Conflict: 409}


@app.exception_handler(DomainError)
def refused(error: DomainError) -> Response[Any]:
    status = 503 if error.retryable else next((code for kind, code in _STATUS.items() if isinstance(error, kind)), 400)
    logger.info("request refused", extra={"reason": error.reason, "status": status, "detail": str(error)})
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON,
                    body=Refusal(error=error.reason, message=str(error)),
                    headers={"Retry-After": "1"} if status == 503 else None)


@app.exception_handler(RequestValidationError)
def invalid(error: RequestValidationError) -> Response[Any]:
    """422 with the documented body: Powertools leaves `msg` out of some errors (a missing body, say), which
    its own OpenAPI document says every error has."""
    problems = [{"loc": list(problem.get("loc", ())), "type": problem.get("type", "invalid"),
                 "msg": problem.get("msg") or problem.get("type", "invalid")} for problem in error.errors()]
    logger.info("request invalid", extra={"problems": problems[:5]})
    return Response(status_code=422, content_type=content_types.APPLICATION_JSON, body={"detail": problems})


@app.exception_handler(ValueError)
def unreadable(error: ValueError) -> Response[Any]:
    """Validation parses the body by its Content-Type and fails outright on some (multipart without a
    boundary, bytes that are not UTF-8): answer 415 for anything but JSON and 422 for a body that is not
    JSON text. Any other ValueError is a bug, answered as one."""
    kind = next((value for name, value in (app.current_event.headers or {}).items() if name.lower() == "content-type"),
                "")
    if isinstance(error, UnicodeDecodeError | json.JSONDecodeError):
        return _unreadable_json(f"the body is not UTF-8 JSON: {error}")
    if "integer string conversion" in str(error):  # json.loads refuses integers of more than 4,300 digits
        return _unreadable_json("the body holds a number of more than 4,300 digits")
    if kind and kind.split(";")[0].strip().lower() != "application/json":
        return Response(status_code=415, content_type=content_types.APPLICATION_JSON,
                        body=Refusal(error="unsupported_media_type", message=f"send application/json, not {kind}"))
    logger.exception("request failed")
    return Response(status_code=500, content_type=content_types.APPLICATION_JSON,
                    body={"message": "Internal Server Error"})


@app.exception_handler(RecursionError)
def too_deep(error: RecursionError) -> Response[Any]:
    return _unreadable_json("the body is JSON nested too deep to read")


def _unreadable_json(why: str) -> Response[Any]:
    return Response(status_code=422, content_type=content_types.APPLICATION_JSON, body={"detail": [
        {"loc": ["body"], "type": "json_invalid", "msg": why}]})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
@invocation_deadline  # retry loops give up (retryably) before the function's timeout
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


loyalty.startup.ready()  # loaded: what it made is kept out of every later collection
