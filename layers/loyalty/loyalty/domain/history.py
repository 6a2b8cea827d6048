"""A member's ledger entries in plain words, for /history: date, signed points, why."""

from __future__ import annotations

from typing import TYPE_CHECKING

from loyalty.domain.bot_program import words
from loyalty.domain.ledger import Entry, Kind, bonus_of
from loyalty.domain.messages import render
from loyalty.domain.receipt import MOSCOW
from loyalty.domain.texts import RU

if TYPE_CHECKING:
    from loyalty.domain.program import Program

# Entries a shopper does not need to read: a reminder was already a message; a review that kept the level
# changed nothing.
_SILENT = {Kind.REMINDER}

_REASONS: dict[str, dict[str, str]] = {
    "accrual": {RU: "покупка {store_at}", "en": "purchase {store_at}"},
    "accrual_pending": {RU: "покупка {store_at}, доступны с {date}",
                        "en": "purchase {store_at}, available from {date}"},
    "bonus": {RU: "{label}", "en": "{label}"},
    "bonus_welcome": {RU: "приветственный бонус", "en": "welcome bonus"},
    "bonus_review": {RU: "бонус за отзыв", "en": "review bonus"},
    "bonus_referral": {RU: "бонус за приглашение", "en": "referral bonus"},
    "bonus_draw": {RU: "колесо призов: {prize}", "en": "prize wheel: {prize}"},
    "refund_reversal": {RU: "возврат {store_at}", "en": "refund {store_at}"},
    "refund_debt": {RU: "возврат {store_at}, ещё {debt} спишутся с будущих баллов",
                    "en": "refund {store_at}, {debt} more will come off future points"},
    "hold": {RU: "резерв для заказа {order}", "en": "reserved for order {order}"},
    "hold_promo": {RU: "промокод {code}", "en": "promo code {code}"},
    "commit": {RU: "заказ {order} оплачен баллами", "en": "order {order} paid with points"},
    "commit_promo": {RU: "заказ {order} оплачен промокодом {code}", "en": "order {order} paid with promo code {code}"},
    "release": {RU: "резерв снят", "en": "reservation cancelled"},
    "release_promo": {RU: "промокод {code} не использован", "en": "promo code {code} not used"},
    "activation": {RU: "{activated} стали доступны (покупка {store_at})",
                   "en": "{activated} became available ({store})"},
    "expiry": {RU: "баллы сгорели", "en": "points expired"},
    "adjustment": {RU: "корректировка: {reason}", "en": "adjustment: {reason}"},
    "level": {RU: "новый уровень «{title}»", "en": "new level “{title}”"},
    "opening_balance": {RU: "баллы из прежней программы", "en": "points from the previous programme"},
    "transfer": {RU: "баллы перенесены", "en": "points moved"},
    "hold_reward": {RU: "резерв на награду «{reward}»", "en": "reserved for “{reward}”"},
    "commit_reward": {RU: "обмен на награду «{reward}»", "en": "exchanged for “{reward}”"},
    "release_reward": {RU: "награда «{reward}» закончилась, баллы вернулись", "en": "“{reward}” ran out, points back"},
    "forfeit": {RU: "аккаунт удалён, баллы списаны", "en": "account deleted, points written off"},
    "held_approved": {RU: "чек {store_from} проверен", "en": "receipt {store_from} checked"},
    "held_rejected": {RU: "чек {store_from} не прошёл проверку", "en": "receipt {store_from} did not pass the check"},
    "campaign_withdrawal": {RU: "бонус по акции отменён: сообщение не доставлено",
                            "en": "offer bonus cancelled: the message was not delivered"},
}


def history_lines(entries: list[Entry], language: str, program: Program) -> list[str]:
    """One line per entry, newest first as given: «23.11  +219  покупка в Wildberries». A spending is one line, with
    its minus sign: a reserve (a promo code, a checkout, a reward) that was then spent is told as the spending."""
    spent = {entry.entry_id.split("#", 1)[1]: entry for entry in entries if entry.kind == Kind.COMMIT}
    reserves = {entry.entry_id.split("#", 1)[1]: entry for entry in entries if entry.kind == Kind.HOLD}
    level_titles = {level.id: words(level.title, language) for level in program.levels}
    reward_titles = {reward.id: words(reward.title, language) for reward in program.bot.rewards}
    lines = []
    for entry in entries:
        key = entry.entry_id.split("#", 1)[-1]
        if entry.kind in _SILENT or (entry.kind == Kind.HOLD and key in spent):
            continue
        reserve = reserves.get(key) if entry.kind == Kind.COMMIT else None
        if reserve is not None and reserve.details.code:  # the promo code it was spent with
            details = entry.details.model_copy(update={"code": reserve.details.code})
            entry = entry.model_copy(update={"details": details})
        reason = _reason(entry, language, program, level_titles, reward_titles)
        if reason is None:
            continue
        day = entry.created_at.astimezone(MOSCOW).strftime("%d.%m")
        points = -(entry.details.spent or 0) if entry.kind == Kind.COMMIT else entry.points
        amount = f"{points:+d}" if points else ""
        lines.append("  ".join(part for part in (day, amount, reason) if part))
    return lines


def _reason(entry: Entry, language: str, program: Program, level_titles: dict[str, str],
            reward_titles: dict[str, str]) -> str | None:
    kind, details = entry.kind, entry.details
    key = str(kind)
    if kind == Kind.ACCRUAL and details.pending:
        key = "accrual_pending"
    elif kind == Kind.REFUND and details.shortfall:
        key = "refund_debt"
    elif kind == Kind.BONUS:  # named in the member's language, not by the Russian label the entry keeps
        which = bonus_of(entry.entry_id)
        key = f"bonus_{which}" if which else "bonus"
    elif kind in (Kind.HOLD, Kind.COMMIT, Kind.RELEASE) and details.reward:
        key = f"{kind}_reward"
    elif kind in (Kind.HOLD, Kind.COMMIT, Kind.RELEASE) and details.code:
        key = f"{kind}_promo"
    elif kind == Kind.HELD_DECISION:
        key = "held_approved" if details.approved else "held_rejected"
    elif kind == Kind.LEVEL_REVIEW:
        if details.level_move == "kept":
            return None
        key = "level"
    elif kind == Kind.EXPIRY and not details.expired:
        return None
    texts = _REASONS.get(key)
    if texts is None:
        return str(kind)
    text = texts.get(language, texts[RU])
    if details.challenge_points:  # what the entry completed is in its points: said, so the sum reads right
        text += f", {'в т. ч.' if language == RU else 'incl.'} {details.challenge_points} " + (
            "за задания" if language == RU else "for challenges")
    available_at = details.available_at
    prize = program.draw.prize(details.prize) if program.draw is not None else None
    return text.format(
        prize=words(prize.title, language) if prize else render("draw_no_prize", language).lower(),
        **program.place(details.channel, details.store or details.label).params("store", language), label=details.label,
        date=available_at.astimezone(MOSCOW).strftime("%d.%m") if available_at else "",
        debt=details.shortfall, order=details.order_id or "", code=details.code or "",
        spent=details.spent, reason=details.reason or "", activated=details.activated,
        title=level_titles.get(details.level or "", details.level or ""),
        reward=reward_titles.get(details.reward or "", details.label),
    )
