"""The brand's staff console: the page (GET /console/) and its API under /console/api/, HTTP API.

Signing in: the bot's one-time link (GET /console/signin?t=…) or, inside Telegram, the Mini App's initData
(POST /console/api/session). Either starts a session: a signed cookie, HttpOnly, Secure, SameSite=Strict. Every API
request reads it (401 without a valid one) and the staff table (403 once removed); a request that changes something
also needs the session's CSRF token in X-CSRF-Token (403 without it) and a role that may (403).
"""

import base64
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import loyalty.startup  # first: no garbage collected while the modules load

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.shared.cookies import Cookie, SameSite
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from loyalty import clock
from loyalty.domain import audit, console, init_data
from loyalty.domain.composer import ApprovalRule
from loyalty.domain.console import ChangeRefused, Permission, Refused, Session
from loyalty.domain.dashboard import Dashboard, Language
from loyalty.domain.program_view import ProgramView, program_view, version_of
from loyalty.domain.staff import Role, StaffMember
from loyalty.flows.composer import CampaignResults, CampaignView
from loyalty.flows.console import Whoami
from loyalty.flows.everyday import SectionView
from loyalty.flows.queue import Handling, QueueItem
from loyalty.flows.reach import Reach
from loyalty.flows.support import Adjustment, Card, Found, Reason, Resend, Reversal
from loyalty.observability import logger, metrics
from loyalty.settings import ConsoleSettings, environment
from loyalty.wiring import console as wiring

app = APIGatewayHttpResolver(enable_validation=True)
settings = environment(ConsoleSettings)
staff_console, desk, dashboards, tickets, composer, everyday, bot_token = wiring.console(settings)
PROGRAM_VERSION = version_of(Path(settings.PROGRAM_FILE).read_bytes())  # the deployed file's fingerprint
STATIC = Path(__file__).parent / "static"
PAGE = (STATIC / "index.html").read_text(encoding="utf-8")
VENDORED = {"chart.umd.min.js": (STATIC / "vendor" / "chart.umd.min.js").read_text(encoding="utf-8")}
_SIGNED_IN = """<!doctype html><meta charset="utf-8"><title>Консоль</title>
<p>Вход выполнен. <a href="/console/">Открыть консоль</a></p>
<script>location.replace("/console/")</script>"""  # a same-site navigation: the Strict cookie goes with it
_LINK_REFUSED = """<!doctype html><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Ссылка не работает</title><h1>Ссылка для входа не работает</h1>
<p>Она действует {minutes} минут и открывается один раз. Отправьте боту <b>/console</b>, чтобы получить новую.</p>"""


class _Model(BaseModel):
    # Built by the first request that takes or gives one: a cold start builds no validator it may not need.
    model_config = ConfigDict(defer_build=True)


class StaffRequest(_Model):
    role: Role
    name: str = Field(default="", max_length=64)


class StaffView(_Model):
    telegram_id: int
    role: Role
    role_words: str
    name: str


def _cookie(value: str, max_age: int) -> Cookie:
    return Cookie(name=console.COOKIE, value=value, path="/console", secure=True, http_only=True, max_age=max_age,
                  same_site=SameSite.STRICT_MODE)


def _session_cookie(value: str) -> Cookie:
    return _cookie(value, int(timedelta(hours=console.SESSION_HOURS).total_seconds()))


def _request_cookie() -> str | None:
    for pair in app.current_event.cookies or []:
        name, _, value = pair.partition("=")
        if name.strip() == console.COOKIE:
            return value.strip()
    return None


def _who(changes: bool = False) -> tuple[Session, StaffMember]:
    """The signed-in staff member behind this request (Refused: 401/403 otherwise)."""
    return staff_console.who(_request_cookie(), clock.now(), app.current_event.headers.get(console.CSRF_HEADER),
                             changes)


def _counted(refused: Refused) -> None:
    logger.info("console request refused", extra={"reason": str(refused), "status": refused.status,
                                                   "path": app.current_event.path})


@app.exception_handler(Refused)
def refused_answer(refused: Refused) -> Response[dict[str, Any]]:
    """Any refusal, from any route: its status and why, as the API's other errors say it; nothing changed."""
    _counted(refused)
    return Response(status_code=refused.status, content_type="application/json",
                    body={"statusCode": refused.status, "message": str(refused)})


@app.get("/console")
def to_page() -> Response[str]:
    return Response(status_code=301, headers={"Location": "/console/"}, body="")


@app.get("/console/")
def page() -> Response[str]:
    return Response(status_code=200, content_type="text/html; charset=utf-8", body=PAGE,
                    headers={"Cache-Control": "no-cache", "X-Frame-Options": "SAMEORIGIN",
                             "Content-Security-Policy": "default-src 'self'; script-src 'self' 'unsafe-inline' "
                                                        "https://telegram.org; style-src 'self' 'unsafe-inline'; "
                                                        "frame-ancestors https://web.telegram.org 'self'"})


@app.get("/console/signin")
def sign_in() -> Response[str]:
    token = app.current_event.get_query_string_value("t") or ""
    try:
        cookie = staff_console.sign_in(token, clock.now()).cookie
    except Refused as refused:  # a page, not JSON: the person opened a link
        _counted(refused)
        return Response(status_code=refused.status, content_type="text/html; charset=utf-8",
                        body=_LINK_REFUSED.format(minutes=console.LINK_MINUTES), headers={"Cache-Control": "no-store"})
    return Response(status_code=200, content_type="text/html; charset=utf-8", body=_SIGNED_IN,
                    cookies=[_session_cookie(cookie)],
                    headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


@app.get("/console/static/<name>")
def vendored(name: str) -> Response[str]:
    """The charting library, from our own origin (static/vendor/README.md): only what is vendored."""
    if name not in VENDORED:
        raise ServiceError(404, "Not Found")
    return Response(status_code=200, content_type="text/javascript; charset=utf-8", body=VENDORED[name],
                    headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"})


@app.post("/console/api/session")
def sign_in_miniapp() -> Response[dict[str, Any]]:
    """Inside Telegram: the Mini App opened from the staff chat sends its initData (`Authorization: tma …`)."""
    try:
        user = init_data.from_header(app.current_event.headers.get("authorization"), bot_token(), clock.now(),
                                     timedelta(seconds=settings.INIT_DATA_MAX_AGE_SECONDS))
    except init_data.Unauthorized as error:
        raise Refused(f"initData: {error}") from error
    session, cookie, staff = staff_console.sign_in_miniapp(user.id, clock.now())
    return Response(status_code=200, content_type="application/json",
                    body=staff_console.whoami(session, staff).model_dump(mode="json"),
                    cookies=[_session_cookie(cookie)])


@app.post("/console/api/signout")
def sign_out() -> Response[str]:
    _who(changes=True)
    return Response(status_code=204, body="", cookies=[_cookie("", 0)])


@app.get("/console/api/me")
def me() -> Whoami:
    session, staff = _who()
    return staff_console.whoami(session, staff)


@app.exception_handler(ChangeRefused)
def change_refused(refused: ChangeRefused) -> Response[dict[str, Any]]:
    """A change that cannot be made (a running campaign edited, a stale page, a rule of the program file broken):
    its status and why, in the marketer's words; nothing changed."""
    logger.info("change refused", extra={"reason": refused.reason, "status": refused.status,
                                         "path": app.current_event.path})
    return Response(status_code=refused.status, content_type="application/json",
                    body={"statusCode": refused.status, "message": refused.reason})


class CampaignRequest(_Model):
    campaign: dict[str, Any] = Field(description="as a campaign in the program file's `campaigns:`")
    segment: dict[str, Any] | None = Field(default=None, description="a segment built for it, as in `segments:`")


class CopyRequest(_Model):
    name: str


@app.get("/console/api/campaigns")
def campaign_list() -> list[CampaignView]:
    _who()
    return composer.campaigns()


@app.get("/console/api/campaigns/<name>/results")
def campaign_results(name: str) -> CampaignResults:
    """A campaign's page: reached, delivered, converted, revenue, points, and its effect against the holdout."""
    _who()
    return composer.results(name)


class ReachRequest(_Model):
    segment: dict[str, Any] = Field(description="as a segment in the program file's `segments:`")
    campaign: dict[str, Any] | None = Field(default=None, description="the campaign being written: its moment, "
                                            "bonus, budget, variants and holdout")


@app.post("/console/api/campaigns/audience")
def campaign_audience(request: ReachRequest) -> Reach:
    """The live count of a segment being built: every member in it, those a message can reach, those the contact
    policy would hold back, a sample of ten, and the bonus's cost if all used it."""
    _, staff = _who()
    return composer.reach(staff, request.segment, request.campaign, clock.now())


@app.post("/console/api/campaigns/test", status_code=202)
def campaign_test(request: CampaignRequest) -> dict[str, Any]:
    """The campaign being written, sent to the signed-in marketer's own Telegram chat before launching."""
    _, staff = _who(changes=True)
    document = {"name": "test", **request.campaign}
    return {"sent_to": staff.telegram_id, "text": composer.test(staff, document, request.segment, clock.now())}


@app.put("/console/api/campaigns/<name>")
def save_campaign(name: str, request: CampaignRequest) -> CampaignView:
    session, staff = _who(changes=True)
    return composer.save(session, staff, {**request.campaign, "name": name}, request.segment, clock.now())


@app.post("/console/api/campaigns/<name>/launch")
def launch_campaign(name: str) -> CampaignView:
    session, staff = _who(changes=True)
    return composer.launch(session, staff, name, clock.now())


@app.post("/console/api/campaigns/<name>/stop")
def stop_campaign(name: str) -> CampaignView:
    session, staff = _who(changes=True)
    return composer.stop(session, staff, name, clock.now())


@app.post("/console/api/campaigns/<name>/copy")
def copy_campaign(name: str, request: CopyRequest) -> CampaignView:
    session, staff = _who(changes=True)
    return composer.copy(session, staff, name, request.name, clock.now())


@app.get("/console/api/program")
def program() -> ProgramView:
    """The reviewed program file, read-only: its version deployed, the levels and their rates, the earning rules; and
    the catalog's products, for the composer to pick from."""
    _who()
    return program_view(composer.program, PROGRAM_VERSION)


class SectionChange(_Model):
    value: Any = Field(description="the section's whole new value, as the program file writes it")
    version: int = Field(ge=0, description="the version the page read (0: the file's)")


@app.get("/console/api/everyday")
def everyday_sections() -> list[SectionView]:
    """The everyday sections as they run now: sources, rewards (with how many are left), texts, nudges, onboarding."""
    _, staff = _who()
    return everyday.sections(staff)


@app.put("/console/api/everyday/<section>")
def change_section(section: str, request: SectionChange) -> SectionView:
    session, staff = _who(changes=True)
    return everyday.change(session, staff, section, request.value, request.version, clock.now())


@app.get("/console/api/sources/<key>/qr.<kind>")
def source_qr(key: str, kind: str) -> Response[str]:
    """A source's deep link as a QR code to print: qr.svg or qr.png. Base64 on the way to API Gateway, which sends
    the bytes (the validating resolver would read raw bytes as text)."""
    _, staff = _who()
    if kind not in ("svg", "png"):
        raise ChangeRefused("QR-код бывает в SVG и PNG.", status=404)
    image = everyday.qr(staff, key, "svg" if kind == "svg" else "png")
    response = Response(status_code=200, content_type="image/svg+xml" if kind == "svg" else "image/png",
                        body=base64.b64encode(image).decode(),
                        headers={"Content-Disposition": f'attachment; filename="{key}.{kind}"'})
    response.base64_encoded = True
    return response


@app.get("/console/api/approval")
def approval_rule() -> ApprovalRule:
    """The owner's threshold over which a campaign's launch is the owner's."""
    _, staff = _who()
    return composer.approval_rule(staff)


@app.put("/console/api/approval")
def set_approval_rule(rule: ApprovalRule) -> ApprovalRule:
    session, staff = _who(changes=True)
    return composer.set_approval_rule(session, staff, rule, clock.now())


@app.get("/console/api/staff")
def staff_list() -> list[StaffView]:
    _, staff = _who()
    listed = staff_console.staff(staff)
    return [StaffView(telegram_id=member.telegram_id, role=member.role, role_words=console.ROLE_WORDS[member.role],
                      name=member.name) for member in listed]


@app.put("/console/api/staff/<telegram_id>")
def put_staff(telegram_id: str, request: StaffRequest) -> dict[str, Any]:
    session, staff = _who(changes=True)
    if not telegram_id.isdigit() or int(telegram_id) <= 0:
        raise ServiceError(422, "a Telegram id is a positive number")
    return staff_console.put_staff(session, staff, StaffMember(telegram_id=int(telegram_id), role=request.role,
                                                               name=request.name), clock.now())


@app.delete("/console/api/staff/<telegram_id>")
def remove_staff(telegram_id: str) -> Response[str]:
    session, staff = _who(changes=True)
    staff_console.remove_staff(session, staff, int(telegram_id) if telegram_id.isdigit() else 0, clock.now())
    return Response(status_code=204, body="")


@app.get("/console/api/audit")
def audit_log() -> list[audit.Entry]:
    _, staff = _who()
    console.allow(staff.role, Permission.READ_AUDIT)
    actor = app.current_event.get_query_string_value("actor")
    member = app.current_event.get_query_string_value("member")
    return staff_console.audit_entries(int(actor) if actor and actor.isdigit() else None, member, limit=200)


@app.get("/console/api/dashboard")
def dashboard() -> Dashboard:
    _, staff = _who()
    return dashboards.view(staff, _day("since"), _day("until"), _language(), clock.now())


@app.get("/console/api/dashboard.csv")
def dashboard_csv() -> Response[str]:
    """A table of the dashboard as CSV, for Excel (UTF-8 with its byte-order mark, or Cyrillic comes out garbled).
    A download is a GET: the Strict cookie does not come with another site's link, and the export is audited."""
    session, staff = _who()
    table = app.current_event.get_query_string_value("table") or None
    text, name = dashboards.export(session, staff, _day("since"), _day("until"), table, _language(), clock.now())
    return Response(status_code=200, content_type="text/csv; charset=utf-8", body="\ufeff" + text,
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


def _day(name: str) -> date | None:
    value = app.current_event.get_query_string_value(name)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise Refused(f"{name}: a day is written 2026-11-30", status=422) from error


def _language() -> Language:
    return "en" if app.current_event.get_query_string_value("lang") == "en" else "ru"


@app.get("/console/api/members")
def find_members() -> list[Found]:
    _, staff = _who()
    return desk.find(staff, app.current_event.get_query_string_value("q") or "")


@app.get("/console/api/members/<member_id>")
def member_card(member_id: str) -> Card:
    _, staff = _who()
    return desk.card(staff, member_id, _language())


@app.post("/console/api/members/<member_id>/adjust", status_code=202)
def adjust(member_id: str, adjustment: Adjustment) -> dict[str, int]:
    session, staff = _who(changes=True)
    return desk.adjust(session, staff, member_id, adjustment, clock.now())


@app.post("/console/api/members/<member_id>/block", status_code=204)
def block(member_id: str, request: Reason) -> None:
    _block(member_id, request.reason, True)


@app.post("/console/api/members/<member_id>/unblock", status_code=204)
def unblock(member_id: str, request: Reason) -> None:
    _block(member_id, request.reason, False)


@app.post("/console/api/members/<member_id>/reverse", status_code=202)
def reverse(member_id: str, reversal: Reversal) -> dict[str, int]:
    session, staff = _who(changes=True)
    return desk.reverse(session, staff, member_id, reversal, clock.now())


@app.post("/console/api/members/<member_id>/resend", status_code=202)
def resend(member_id: str, request: Resend) -> dict[str, str]:
    session, staff = _who(changes=True)
    return {"sent_at": desk.resend(session, staff, member_id, request, clock.now())}


@app.get("/console/api/queue")
def queue() -> list[QueueItem]:
    _, staff = _who()
    return tickets.items(staff, app.current_event.get_query_string_value("status") or None, _language())


@app.post("/console/api/queue/<ticket_id>")
def handle_ticket(ticket_id: str, handling: Handling) -> dict[str, Any]:
    session, staff = _who(changes=True)
    return tickets.handle(session, staff, ticket_id, handling, clock.now())


def _block(member_id: str, reason: str, blocked: bool) -> None:
    session, staff = _who(changes=True)
    desk.block(session, staff, member_id, reason, blocked, clock.now())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


loyalty.startup.ready()  # loaded: what it made is kept out of every later collection
