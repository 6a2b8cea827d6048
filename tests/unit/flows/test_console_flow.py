"""The console's sign-in, sessions, roles and audit on in-memory adapters: a link works once and for 5 minutes, a
session is the stack's signature, the role is read on every request, a change needs the CSRF token, the first owner
cannot be locked out, and every action is in a chain `loyalty audit verify` can prove."""

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from loyalty.domain import audit, console
from loyalty.domain.console import Permission, Refused
from loyalty.domain.fraud import STAFF_BLOCKED
from loyalty.domain.keyed import Keyed
from loyalty.domain.staff import Role, StaffMember
from loyalty.flows.console import Console, SignInLinks, StaffDirectory
from loyalty.flows.support import Adjustment, SupportDesk
from tests.fakes import STACK_KEY, MemoryAuditLog, MemoryConsoleTable
from tests.unit.flows.conftest import PROGRAM, World

NOW = datetime(2026, 12, 7, 9, tzinfo=UTC)
OWNER, MARIA = 7_000_001, 5_000_001  # the first owner (template parameter); Мария is support in the program file


class Office:
    def __init__(self) -> None:
        self.table, self.audit = MemoryConsoleTable(), MemoryAuditLog()
        self.directory = StaffDirectory(self.table, PROGRAM, OWNER)
        self.console = Console(self.directory, self.table, self.audit, STACK_KEY)
        self.links = SignInLinks(self.directory, self.table, "https://api.example")

    def signed_in(self, telegram_id: int) -> tuple[console.Session, str, StaffMember]:
        link = self.links.issue(telegram_id, NOW)
        assert link is not None
        session, cookie, _ = self.console.sign_in(link.split("t=")[1], NOW + timedelta(minutes=1))
        return session, cookie, self.console.who(cookie, NOW + timedelta(minutes=2))[1]


@pytest.fixture
def office() -> Office:
    return Office()


def test_a_link_is_for_staff_works_once_and_for_five_minutes(office: Office) -> None:
    assert office.links.issue(123_456, NOW) is None  # a shopper, a stranger: no link
    link = office.links.issue(MARIA, NOW)
    assert link is not None and link.startswith("https://api.example/console/signin?t=")
    token = link.split("t=")[1]
    assert token not in str(office.table.links)  # only its hash is kept
    with pytest.raises(Refused):
        office.console.sign_in(token, NOW + timedelta(minutes=5))  # out of time
    fresh = office.links.issue(MARIA, NOW)
    assert fresh is not None
    session, _, staff = office.console.sign_in(fresh.split("t=")[1], NOW + timedelta(minutes=4))
    assert staff.role == Role.SUPPORT
    assert session.telegram_id == MARIA and session.expires_at == NOW + timedelta(minutes=4, hours=8)
    with pytest.raises(Refused):
        office.console.sign_in(fresh.split("t=")[1], NOW + timedelta(minutes=4))  # replayed
    assert [entry.action for entry in office.audit.chain] == [audit.Action.SIGN_IN]


def test_a_session_is_the_stacks_signature_and_runs_out(office: Office) -> None:
    session, cookie, staff = office.signed_in(MARIA)
    assert (staff.telegram_id, staff.role) == (MARIA, Role.SUPPORT)
    payload = cookie.rpartition(".")[0]
    other_stack = Keyed(lambda: "another stack's key")
    forged = f"{payload}.{other_stack.signature('console-session', payload)}"
    for bad in (None, "", "garbage", forged, cookie + "x"):
        with pytest.raises(Refused) as refused:
            office.console.who(bad, NOW)
        assert refused.value.status == 401
    with pytest.raises(Refused):
        office.console.who(cookie, session.expires_at)  # run out


def test_a_change_needs_the_csrf_token_and_the_role_that_may(office: Office) -> None:
    session, cookie, maria = office.signed_in(MARIA)
    me = office.console.whoami(session, maria)
    assert me.role_words == "поддержка" and Permission.MANAGE_STAFF not in me.permissions
    with pytest.raises(Refused) as refused:
        office.console.who(cookie, NOW, csrf=None, changes=True)
    assert refused.value.status == 403
    with pytest.raises(Refused):
        office.console.who(cookie, NOW, csrf=console.csrf_token(office.console.keyed, session) + "x", changes=True)
    _, staff = office.console.who(cookie, NOW, csrf=me.csrf, changes=True)  # the session's own token passes
    with pytest.raises(Refused) as refused:  # … and support may not manage the staff
        office.console.put_staff(session, staff, StaffMember(telegram_id=42, role=Role.OWNER), NOW)
    assert refused.value.status == 403 and office.table.rows == {}


def test_owners_keep_the_staff_a_removed_member_is_out_at_once_and_the_first_owner_stays(office: Office) -> None:
    owner_session, _, owner = office.signed_in(OWNER)
    maria_session, maria_cookie, _ = office.signed_in(MARIA)
    office.console.put_staff(owner_session, owner, StaffMember(telegram_id=42, role=Role.MARKETER, name="Олег"), NOW)
    assert [(m.telegram_id, m.role) for m in office.console.staff(owner)][:1] == [(OWNER, Role.OWNER)]
    office.console.remove_staff(owner_session, owner, MARIA, NOW)  # listed in the program file: now removed
    with pytest.raises(Refused) as refused:
        office.console.who(maria_cookie, NOW)  # her session is still signed, but she is not staff any more
    assert refused.value.status == 403 and office.links.issue(MARIA, NOW) is None
    for change in (lambda: office.console.remove_staff(owner_session, owner, OWNER, NOW),
                   lambda: office.console.put_staff(owner_session, owner,
                                                    StaffMember(telegram_id=OWNER, role=Role.VIEWER), NOW)):
        with pytest.raises(Refused):
            change()
    actions = [(entry.action, entry.subject, entry.before, entry.after) for entry in office.audit.chain]
    assert actions[2:] == [(audit.Action.STAFF_ADDED, "42", None, {"role": "marketer", "name": "Олег"}),
                           (audit.Action.STAFF_REMOVED, str(MARIA), {"role": "support", "name": "Мария"}, None)]
    assert all(entry.session == owner_session.id for entry in office.audit.chain[2:])
    assert maria_session.id != owner_session.id


def test_the_audit_chain_breaks_where_an_entry_was_changed_removed_or_put_in_between(office: Office) -> None:
    for user in (OWNER, MARIA, OWNER):
        office.signed_in(user)
    chain = office.audit.chain
    assert audit.broken_at(chain) is None and [entry.seq for entry in chain] == [1, 2, 3]
    edited = chain[1].model_copy(update={"after": {"via": "miniapp"}})
    assert audit.broken_at([chain[0], edited, chain[2]]) == 2
    assert audit.broken_at([chain[0], chain[2]]) == 2  # removed
    rehashed = audit.chained(edited, 2, chain[0].hash)  # edited and re-hashed: the next one no longer follows
    assert audit.broken_at([chain[0], rehashed, chain[2]]) == 3


def desk_with_anna() -> tuple[SupportDesk, World, MemoryAuditLog]:
    world = World()
    world.join("801", phone="+79160000801")
    world.buy("801", channel="d2c")  # 100 welcome + 45
    audit_log = MemoryAuditLog()
    return SupportDesk(PROGRAM, world.books, world.books, world.accrual_queue, audit_log, STACK_KEY), world, audit_log


def test_support_finds_a_member_by_a_phone_typed_any_way_and_a_viewer_sees_it_masked() -> None:
    desk, _, _ = desk_with_anna()
    support = StaffMember(telegram_id=MARIA, role=Role.SUPPORT, name="Мария")
    for typed in ("8 (916) 000-08-01", "+7 916 000 08 01", "9160000801", "801"):
        (found,) = desk.find(support, typed)
        assert (found.member_id, found.phone, found.available) == ("801", "+79160000801", 145)
    assert desk.find(support, "8 (916) 000-99-99") == []
    viewer = StaffMember(telegram_id=42, role=Role.VIEWER)
    assert desk.card(viewer, "801").phone == "+7 ••• •••-••-01"
    card = desk.card(support, "801")
    assert any(line.endswith("+45  покупка на сайте Лепесток") for line in card.history) and card.level == "Подруга"
    assert card.progress is not None and card.progress.startswith("до «")  # the way to the next level


def test_a_correction_needs_the_right_a_reason_and_the_points_and_is_applied_once_and_audited(
        office: Office) -> None:
    desk, world, audit_log = desk_with_anna()
    session, _, support = office.signed_in(MARIA)
    viewer = StaffMember(telegram_id=42, role=Role.VIEWER)
    request = Adjustment(points=-40, reason="двойное начисление", request_key="console-req-1")
    with pytest.raises(Refused):
        desk.adjust(session, viewer, "801", request, NOW)
    for refused in (request.model_copy(update={"points": -146}), request.model_copy(update={"points": 0})):
        with pytest.raises(Refused):
            desk.adjust(session, support, "801", refused, NOW)
    with pytest.raises(ValidationError):
        Adjustment(points=10, reason="", request_key="console-req-2")
    assert desk.adjust(session, support, "801", request, NOW) == {"available_before": 145, "available_after": 105}
    (command,) = world.accrual_queue.messages
    for _ in range(2):  # redelivered: applied once
        world.accrual.adjust(command, NOW)
    assert world.member("801").available == 105
    (entry,) = audit_log.chain
    assert (entry.action, entry.before, entry.after, entry.reason, entry.member_id) == (
        "adjustment", {"available": 145}, {"available": 105, "points": -40}, "двойное начисление",
        STACK_KEY.marker("member", "801"))
    assert "Мы поправили ваш счёт: −40 баллов. Причина: двойное начисление." in world.texts("801")[-1]


def test_support_stops_a_members_earning_and_resumes_it_audited_with_the_reason(office: Office) -> None:
    desk, world, audit_log = desk_with_anna()
    session, _, support = office.signed_in(MARIA)
    with pytest.raises(Refused):
        desk.block(session, StaffMember(telegram_id=42, role=Role.MARKETER), "801", "подозрение на фарм", True, NOW)
    desk.block(session, support, "801", "подозрение на фарм", True, NOW)
    assert desk.card(support, "801").blocked and world.member("801").suspect == [STAFF_BLOCKED]
    desk.block(session, support, "801", "проверили: всё честно", False, NOW)
    assert not desk.card(support, "801").blocked
    assert [(entry.action, entry.before, entry.after, entry.reason) for entry in audit_log.chain] == [
        ("blocked", {"blocked": False}, {"blocked": True}, "подозрение на фарм"),
        ("unblocked", {"blocked": True}, {"blocked": False}, "проверили: всё честно")]


def test_support_finds_a_member_by_username_and_reverses_a_purchases_credit_once_with_its_reason(
        office: Office) -> None:
    from loyalty.domain.keyed import username_marker
    from loyalty.flows.support import Reversal

    desk, world, audit_log = desk_with_anna()
    world.books.note_username("801", username_marker(STACK_KEY, "Anna_K"))
    session, _, support = office.signed_in(MARIA)
    for typed in ("@anna_k", "Anna_K", " @ANNA_K "):
        assert [found.member_id for found in desk.find(support, typed)] == ["801"], typed
    assert desk.find(support, "@somebody_else") == []
    (receipt,) = desk.card(support, "801").receipts
    assert (receipt.where, receipt.sum_rub, receipt.points, receipt.reversed) == ("Лепесток", 450.0, 45, False)
    with pytest.raises(Refused):  # a marketer may not
        desk.reverse(session, StaffMember(telegram_id=42, role=Role.MARKETER), "801",
                     Reversal(fiscal_key=receipt.fiscal_key, reason="чужой чек"), NOW)
    with pytest.raises(Refused):  # no such purchase
        desk.reverse(session, support, "801", Reversal(fiscal_key="t=nothing", reason="чужой чек"), NOW)
    assert desk.reverse(session, support, "801", Reversal(fiscal_key=receipt.fiscal_key, reason="чужой чек"),
                        NOW) == {"points": 45}
    (command,) = world.accrual_queue.messages
    for _ in range(2):  # redelivered: taken back once
        world.accrual.reverse_credit(command, NOW)
    assert world.member("801").available + world.member("801").pending == 100  # the welcome bonus is left
    assert desk.card(support, "801").receipts[0].reversed
    assert "Мы отменили начисление за покупку на сайте Лепесток: −45 баллов. Причина: чужой чек." in \
        world.texts("801")[-1]
    (entry,) = audit_log.chain
    assert (entry.action, entry.subject, entry.after, entry.reason) == ("reversal", receipt.fiscal_key,
                                                                        {"points": -45}, "чужой чек")


def test_the_queue_lists_the_staff_chats_tickets_and_handles_them_as_the_chat_does(office: Office) -> None:
    """One state wherever a ticket is handled: answered, approved, delivered once; refused as the chat refuses."""
    from loyalty.contracts import HeldReceiptDecided
    from loyalty.domain.conversation import Ticket
    from loyalty.flows.conversations import Conversations
    from loyalty.flows.queue import Handling, TicketQueue
    from loyalty.flows.replies import Replies
    from tests.fakes import MemoryBotTable, MemoryOutbox, MemoryQueue

    _, world, audit_log = desk_with_anna()
    table, outbox, accrual = MemoryBotTable(), MemoryOutbox(), MemoryQueue()
    talk = Conversations(PROGRAM, world.books, Replies(outbox), accrual, table, STACK_KEY)
    talk.staff_of, talk.audit = office.console.directory.member, audit_log
    queue = TicketQueue(table, talk)
    for n, kind in enumerate(("complaint", "reward", "receipt")):
        table.open_ticket(Ticket(id=f"T{kind.upper()[:4]}00001", kind=kind, member_id="801",
                                 followup_id="t=20261110T1200&s=450.00" if kind == "receipt" else "",
                                 opened_at=f"2026-11-1{n}T10:00:00+00:00"))
    session, _, support = office.signed_in(MARIA)
    marketer = StaffMember(telegram_id=42, role=Role.MARKETER, name="Ксения")
    listed = queue.items(support, "open")
    assert [(item.kind_words, item.verbs) for item in listed] == [
        ("задержанный чек", ["approve", "reject"]), ("заказ награды", ["answer", "deliver"]),
        ("жалоба", ["answer"])]

    def handle(staff: StaffMember, ticket: str, verb: str, text: str | None = None) -> dict[str, object]:
        return queue.handle(session, staff, ticket, Handling(verb=verb, text=text, request_key=f"req-{verb}-{ticket}"),
                            NOW)

    with pytest.raises(Refused) as refused:
        handle(marketer, "TRECE00001", "approve")  # a marketer decides reviews, not receipts
    assert refused.value.status == 403
    assert handle(support, "TRECE00001", "approve")["action"] == "receipt_approved"
    assert accrual.messages == [HeldReceiptDecided(member_id="801", fiscal_key="t=20261110T1200&s=450.00",
                                                   approved=True)]
    with pytest.raises(Refused) as refused:
        handle(support, "TRECE00001", "reject")  # decided before (here or in the chat)
    assert refused.value.status == 409
    assert handle(support, "TCOMP00001", "answer", "Извините, уже разбираемся")["action"] == "staff_replied"
    assert handle(support, "TREWA00001", "deliver")["action"] == "reward_delivered"
    assert [t.status for t in table.queue()] == ["approved", "delivered", "answered"]
    assert queue.items(support, "open") == [] and all(item.verbs == [] for item in queue.items(support, "approved"))
    texts = [message.text for message in outbox.messages]
    assert any("Извините, уже разбираемся" in text for text in texts)
    assert any("заказ награды выполнен" in text for text in texts)
    assert [entry.action for entry in audit_log.chain] == ["receipt_approved", "ticket_answered", "reward_delivered"]
    assert {entry.session for entry in audit_log.chain} == {session.id}
