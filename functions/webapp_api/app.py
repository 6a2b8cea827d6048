"""The member's Telegram Mini App: the page (GET /miniapp/) and its API under /miniapp/api/, HTTP API.

Every API request carries Telegram's initData as `Authorization: tma <initData>`; the member is the one it names,
and nothing in the request can choose another. A missing, forged or stale initData is 401.
"""

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import loyalty.startup  # first: no garbage collected while the modules load

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import BadRequestError, NotFoundError, UnauthorizedError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from loyalty import clock
from loyalty.domain import init_data
from loyalty.domain.errors import InvalidQr, NoSpins
from loyalty.domain.messages import render
from loyalty.flows.draw import Board, Outcome, PrizeDraw
from loyalty.flows.miniapp import Me, NotAMember, ProfileChange, ProfileRefused
from loyalty.observability import logger, metrics
from loyalty.settings import WebAppSettings, environment
from loyalty.wiring import miniapp as wiring

app = APIGatewayHttpResolver(enable_validation=True)
settings = environment(WebAppSettings)
miniapp, bot_token = wiring.miniapp(settings)
draw = wiring.draw(settings)
# Telegram's WebApp script, or the emulator's on a local stack (its scanner and share sheet are the page's to call)
PAGE = (Path(__file__).parent / "static" / "index.html").read_text(encoding="utf-8").replace(
    "https://telegram.org/js/telegram-web-app.js", settings.TELEGRAM_WEB_APP_JS)


class _Model(BaseModel):
    # Built by the first request that takes or gives one: a cold start builds no validator it may not need.
    model_config = ConfigDict(defer_build=True)


class PromoRequest(_Model):
    points: int | None = Field(default=None, ge=1, le=1_000_000, strict=True)
    request_key: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


class Queued(_Model):
    status: str = "queued"
    order: str | None = None


class ExchangeRequest(_Model):
    request_key: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


def member_id() -> str:
    """The member Telegram signed this request for; 401 for anything else."""
    try:
        user = init_data.from_header(app.current_event.headers.get("authorization"), bot_token(), clock.now(),
                                     timedelta(seconds=settings.INIT_DATA_MAX_AGE_SECONDS))
    except init_data.Unauthorized as error:
        logger.info("mini app request refused", extra={"reason": str(error)})
        raise UnauthorizedError("initData missing, forged or expired") from error
    return str(user.id)


@app.get("/miniapp")
def to_page() -> Response[str]:
    """The page's API paths are relative to /miniapp/."""
    return Response(status_code=301, headers={"Location": "/miniapp/"}, body="")


@app.get("/miniapp/")
def page() -> Response[str]:
    return Response(status_code=200, content_type="text/html; charset=utf-8", body=PAGE,
                    headers={"Cache-Control": "public, max-age=300"})


@app.get("/miniapp/api/me")
def me() -> Me:
    member = member_id()
    try:
        return miniapp().me(member, clock.now())
    except NotAMember as error:
        raise NotFoundError("not a member yet: share your phone in the bot") from error


@app.post("/miniapp/api/rewards/<reward_id>", status_code=202)
def exchange(reward_id: str, request: ExchangeRequest) -> Queued:
    member = member_id()
    try:
        return Queued(order=miniapp().exchange(member, reward_id, request.request_key)["order"])
    except (NotAMember, KeyError) as error:
        raise NotFoundError("no such reward, or not a member yet") from error


@app.post("/miniapp/api/promo", status_code=202)
def promo(request: PromoRequest) -> Queued:
    member = member_id()
    try:
        miniapp().promo(member, request.points, request.request_key)
    except NotAMember as error:
        raise NotFoundError("not a member yet: share your phone in the bot") from error
    return Queued()


def prize_draw() -> PrizeDraw:
    wheel = draw()
    if wheel is None:
        raise NotFoundError("the program has no prize draw")
    return wheel


@app.get("/miniapp/api/draw")
def board() -> Board:
    """The wheel: the member's spins, the prizes and their chances, and the seeds' hashes that make it checkable."""
    member = member_id()
    try:
        return prize_draw().board(miniapp().shopper(member), clock.now())
    except NotAMember as error:
        raise NotFoundError("not a member yet: share your phone in the bot") from error


class SpinRequest(_Model):
    number: int = Field(ge=1, le=1_000_000, strict=True, description="the board's next_number")


@app.post("/miniapp/api/draw/spin")
def spin(request: SpinRequest) -> Outcome:
    """The member's spin `number`, decided by the server and paid once: a repeated request answers the same."""
    member = member_id()
    try:
        return prize_draw().spin(miniapp().shopper(member), clock.now(), request.number)
    except NotAMember as error:
        raise NotFoundError("not a member yet: share your phone in the bot") from error
    except NoSpins as error:
        raise BadRequestError("no spins left: a receipt earns one") from error


class ScanRequest(_Model):
    qr: str = Field(min_length=1, max_length=1000, description="what Telegram's scanner read")
    request_key: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


class Scanned(_Model):
    status: str  # receipt_submitted: the answer comes to the chat; or why not (a limit, the phone)
    message: str | None = None


@app.post("/miniapp/api/receipts", status_code=202)
def scan(request: ScanRequest) -> Response[str]:
    """A receipt's QR code from Telegram's scanner, checked as the chat checks one: 202 on its way, 422 with what to
    do for a code that is not a receipt's."""
    member = member_id()
    try:
        status = miniapp().scanned(member, request.qr, request.request_key)
    except NotAMember as error:
        raise NotFoundError("not a member yet: share your phone in the bot") from error
    except InvalidQr:
        language = miniapp().shopper(member).language
        return Response(status_code=422, content_type="application/json", body=Scanned(
            status="not_a_receipt", message=render("scan_not_a_receipt", language)).model_dump_json())
    return Response(status_code=202, content_type="application/json", body=Scanned(status=status).model_dump_json())


@app.post("/miniapp/api/profile")
def profile(change: ProfileChange) -> Response[str]:
    """What the member changed in their profile: the profile as kept, or 422 with what to do."""
    member = member_id()
    try:
        kept = miniapp().change_profile(member, change, clock.now())
    except NotAMember as error:
        raise NotFoundError("not a member yet: share your phone in the bot") from error
    except ProfileRefused as refused:
        return Response(status_code=422, content_type="application/json",
                        body=json.dumps({"message": str(refused)}, ensure_ascii=False))
    return Response(status_code=200, content_type="application/json", body=kept.model_dump_json())


class Prepared(_Model):
    id: str


@app.post("/miniapp/api/invitation")
def invitation() -> Prepared:
    """The member's invitation prepared for Telegram's share sheet (the page passes its id to shareMessage)."""
    member = member_id()
    try:
        return Prepared(id=miniapp().invitation(member))
    except NotAMember as error:
        raise NotFoundError("not a member yet: share your phone in the bot") from error


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


loyalty.startup.ready()  # loaded: what it made is kept out of every later collection
