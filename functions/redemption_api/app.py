"""The brand site's points API: quote, hold, commit, release; promo codes; reviews. REST API + API key."""

from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Header, Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from loyalty.domain.errors import DomainError, HoldExpired, HoldNotFound, InsufficientPoints, MemberNotFound
from loyalty.flows.redemption import (
    CommitRequest,
    Conflict,
    HoldRequest,
    HoldView,
    Quote,
    QuoteRequest,
    RedeemRequest,
    Redemption,
    ReviewRequest,
)
from loyalty.observability import logger, metrics, tracer
from loyalty.settings import RedemptionSettings, environment

app = APIGatewayRestResolver(enable_validation=True)
redemption = Redemption(environment(RedemptionSettings))

MemberId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
HoldId = Annotated[str, Path(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9_.:-]+$")]
Key = Annotated[str, Header(alias="idempotency-key", min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$",
                            description="one per checkout attempt: a retry with the same key never charges twice")]


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {
        "type": "object", "required": ["error", "message"],
        "properties": {"error": {"type": "string"}, "message": {"type": "string"}}}}}}


NOT_FOUND, CONFLICT, BAD = _error("no such member, hold or code"), _error("refused"), _error("impossible request")


@app.post("/quote", summary="How much of a basket points can pay, per line", responses={404: NOT_FOUND, 400: BAD})
def quote(request: QuoteRequest) -> Quote:
    return redemption.quote(request)


@app.post("/members/<member_id>/holds", status_code=201, summary="Reserve points for an order",
          responses={404: NOT_FOUND, 409: CONFLICT, 400: BAD})
def hold(member_id: MemberId, request: HoldRequest, idempotency_key: Key) -> HoldView:
    return redemption.hold(member_id, idempotency_key, request)


@app.post("/members/<member_id>/holds/<hold_id>/commit", summary="The order is paid: spend the held points",
          responses={404: NOT_FOUND, 409: CONFLICT})
def commit(member_id: MemberId, hold_id: HoldId, request: CommitRequest) -> HoldView:
    return redemption.commit(member_id, hold_id, request)


@app.post("/members/<member_id>/holds/<hold_id>/release", summary="The order is cancelled: give the points back",
          responses={404: NOT_FOUND, 409: CONFLICT})
def release(member_id: MemberId, hold_id: HoldId) -> HoldView:
    return redemption.release(member_id, hold_id)


@app.post("/promo-codes/<code>/redeem", summary="Pay an order with a promo code from the bot (once)",
          responses={404: NOT_FOUND, 409: CONFLICT})
def redeem(code: Annotated[str, Path(min_length=1, max_length=40)], request: RedeemRequest) -> HoldView:
    return redemption.redeem(code, request)


@app.post("/members/<member_id>/reviews", status_code=202, summary="A review was published: pay its bonus once",
          responses={404: NOT_FOUND})
def review(member_id: MemberId, request: ReviewRequest) -> dict[str, str]:
    redemption.review(member_id, request)
    return {"status": "accepted"}


_STATUS = {MemberNotFound: 404, HoldNotFound: 404, InsufficientPoints: 409, HoldExpired: 409, Conflict: 409}


@app.exception_handler(DomainError)
def refused(error: DomainError) -> Response:
    status = next((code for kind, code in _STATUS.items() if isinstance(error, kind)), 400)
    logger.info("request refused", extra={"reason": error.reason, "status": status, "detail": str(error)})
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON,
                    body={"error": error.reason, "message": str(error)})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
