"""What the shopper reads from the menu: how to send a receipt (a guide per store), balance, level and the way to the
next one, history, the rewards catalog, the invitation link, help and the language. Read-only: nothing here
changes points (an exchange goes to AccrualQueue)."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

from loyalty import clock
from loyalty.domain import levels
from loyalty.domain.bot_program import words
from loyalty.domain.challenges import badge_titles, reward_words, shown
from loyalty.domain.contact import Contact, known_zone
from loyalty.domain.history import history_lines
from loyalty.domain.messages import how_many, joined, render, with_commands
from loyalty.domain.texts import EN, RU
from loyalty.flows import keyboards
from loyalty.flows.rewards import catalog

if TYPE_CHECKING:
    from loyalty.contracts import Shopper
    from loyalty.domain.keyed import Keyed
    from loyalty.domain.member import Member
    from loyalty.domain.program import Program
    from loyalty.domain.wallet import Wallet
    from loyalty.flows.ports import BotMemory, Ledger
    from loyalty.flows.replies import Replies

# The menu under the text field, by the catalog's button texts; a tap sends the text, read back as the command.
MENU_ROWS = [["button_receipt", "button_balance"], ["button_level", "button_history"],
             ["button_rewards", "button_invite"], ["button_help"]]
MENU_COMMANDS = {"button_receipt": "/receipt", "button_balance": "/balance", "button_level": "/level",
                 "button_history": "/history", "button_rewards": "/rewards", "button_invite": "/invite",
                 "button_help": "/help"}
HISTORY_LENGTH = 10


def menu_keyboard(language: str) -> dict[str, Any]:
    return keyboards.menu_keyboard([[render(key, language) for key in row] for row in MENU_ROWS])


def menu_command(text: str) -> str | None:
    """The command a menu button's text stands for, in either language (and the brand's wording)."""
    for key, command in MENU_COMMANDS.items():
        if text.strip() in (render(key, RU), render(key, EN)):
            return command
    return None


class Menu:
    def __init__(self, program: Program, ledger: Ledger, replies: Replies, table: BotMemory, keyed: Keyed):
        self.program = program
        self.keyed = keyed
        self.ledger = ledger
        self.replies = replies
        self.table = table

    def receipt_guide(self, shopper: Shopper, key: str) -> dict[str, Any]:
        guides = self.program.bot.store_guides
        buttons = [[(words(guide.title, shopper.language), f"guide:{guide.key}")] for guide in guides]
        self.replies.send(shopper, key, "receipt_how", keyboards.inline_keyboard(buttons) if buttons else None)
        return {"action": "receipt_guide"}

    def store_guide(self, shopper: Shopper, key: str, guide_key: str) -> dict[str, Any]:
        guide = next((guide for guide in self.program.bot.store_guides if guide.key == guide_key), None)
        if guide is None:
            return self.expired(shopper, key)
        text = f"<b>{escape(words(guide.title, shopper.language))}</b>\n{escape(words(guide.text, shopper.language))}"
        self.replies.send_text(shopper, key, text, html=True)
        return {"action": "store_guide", "guide": guide_key}

    def balance(self, shopper: Shopper, key: str, member: Member) -> dict[str, Any]:
        program, language = self.program, shopper.language
        level = program.member_level(member.level)
        percent = level.percent if level else program.earning.base_percent
        self.replies.send(
            shopper, key, "balance", title=program.level_title(member.level, language),
            percent=f"{percent.normalize():f}", balance=member.available,
            pending_line=render("balance_pending", language, pending=member.pending) if member.pending else "",
            held_line=render("balance_held", language, held=member.held) if member.held else "",
        )
        return {"action": "balance"}

    def level(self, shopper: Shopper, key: str, member: Member) -> dict[str, Any]:
        """The level, its perks, and exactly what the next one still takes: a progress to keep, not a number."""
        program, language = self.program, shopper.language
        wallet = self.ledger.read(shopper.member_id)[0]
        level = program.member_level(wallet.level)
        if level is None:  # a program without levels: the balance is all there is
            return self.balance(shopper, key, member)
        perks = ", ".join(words(perk, language) for perk in level.perks)
        gap = levels.next_level_gap(program, wallet, clock.now())
        if gap is None:
            progress = render("level_top", language)
        else:
            upper, missing, _ = gap
            progress = render("level_next", language, title=words(upper.title, language),
                              percent=f"{upper.percent.normalize():f}",
                              missing=joined([how_many(count, what, language) for what, count in missing.items()],
                                             language))
        progress += self._challenges(wallet, language) + self._birthday(wallet, language)
        self.replies.send(shopper, key, "level_card", html=True, title=words(level.title, language),
                          percent=f"{level.percent.normalize():f}", progress=progress,
                          perks_line=render("level_perks", language, perks=perks) if perks else "")
        return {"action": "level", "missing": gap[1] if gap else {}}

    def _challenges(self, wallet: Wallet, language: str) -> str:
        """The challenges left to do, each with where the member stands and what it gives, and the badges earned: plain
        text, which the level's card escapes once as it puts it in (as it does the progress and the perks)."""
        challenges = self.program.challenges
        lines = [f"• {words(challenge.title, language)} — {standing} ({reward_words(challenge.reward, language)})"
                 for challenge, standing in shown(challenges, wallet.challenges, clock.now(), language,
                                                  finished=False)]
        badges = badge_titles(challenges, (badge.challenge for badge in wallet.badges), language)
        return (render("level_challenges", language, lines="\n".join(lines)) if lines else "") + \
            (render("level_badges", language, badges=", ".join(badges)) if badges else "")

    def _birthday(self, wallet: Wallet, language: str) -> str:
        """The birthday the member gave, or the question, where the program has a gift."""
        if self.program.birthday is None:
            return ""
        if wallet.birthday is None:
            return render("level_birthday_ask", language, points=self.program.birthday.points)
        return render("level_birthday", language, date=wallet.birthday.words(language))

    def history(self, shopper: Shopper, key: str) -> dict[str, Any]:
        entries = self.ledger.history(shopper.member_id, HISTORY_LENGTH)
        lines = history_lines(entries, shopper.language, self.program)
        if not lines:
            self.replies.send(shopper, key, "history_empty")
        else:
            self.replies.send_text(shopper, key, "\n".join([render("history_title", shopper.language), *lines]))
        return {"action": "history", "entries": len(lines)}

    def rewards(self, shopper: Shopper, key: str) -> dict[str, Any]:
        """The catalog as buttons: what the member can take, what opens at a higher level, what is gone."""
        program, language = self.program, shopper.language
        if not program.bot.rewards:
            self.replies.send(shopper, key, "rewards_empty")
            return {"action": "rewards", "shown": 0}
        wallet = self.ledger.read(shopper.member_id)[0]
        available = wallet.spendable_points(clock.now())
        rows = []
        for reward in catalog(program, wallet, available, self.table, language):
            if reward.state == "locked":
                text = render("reward_button_locked", language, title=reward.title, level=reward.from_level)
            elif reward.state == "gone":
                text = render("reward_button_gone", language, title=reward.title)
            else:
                text = render("reward_button", language, title=reward.title, points=reward.points)
            rows.append([(text, f"reward:{reward.id}")])
        self.replies.send(shopper, key, "rewards_title", keyboards.inline_keyboard(rows), html=True,
                          balance=available)
        return {"action": "rewards", "shown": len(rows)}

    def reward_offer(self, shopper: Shopper, key: str, reward_id: str) -> dict[str, Any]:
        """A tapped reward: confirm first. The confirmation's buttons carry one order id, keyed on the member, the
        reward and this offer, so tapping "Exchange" twice orders once and a client cannot make up another."""
        reward = self.program.bot.reward(reward_id)
        if reward is None:
            return self.expired(shopper, key)
        offer = key.rpartition(":")[2]  # the update's id: the offer's own
        order = self.keyed.id("order", shopper.member_id, reward.id, offer)
        buttons = [[(render("button_yes_exchange", shopper.language), f"take:{reward.id}:{offer}:{order}"),
                    (render("button_cancel", shopper.language), "take_no")]]
        self.replies.send(shopper, key, "reward_confirm", keyboards.inline_keyboard(buttons),
                          title=words(reward.title, shopper.language), points=reward.points)
        return {"action": "reward_offer", "reward": reward_id}

    def invite(self, shopper: Shopper, key: str) -> dict[str, Any]:
        program = self.program
        code = self.table.invite_code(shopper.member_id)
        self.replies.send(shopper, key, "invite", link=f"https://t.me/{program.brand.bot_username or 'bot'}"
                          f"?start=ref_{code}", referrer=program.bonuses.referrer, referred=program.bonuses.referred)
        return {"action": "invite"}

    def help(self, shopper: Shopper, key: str) -> dict[str, Any]:
        self.replies.send_text(shopper, key, with_commands("unsupported_message", shopper.language))
        return {"action": "help"}

    def choose_time_zone(self, shopper: Shopper, member: Member, key: str) -> dict[str, Any]:
        """/timezone: the cities the program offers, each with its clock now, so the member sees which is theirs."""
        policy, now = self.program.contact, clock.now()
        buttons = [(f"{words(choice.title, shopper.language)} · {now.astimezone(known_zone(choice.zone)):%H:%M}",
                    f"tz:{choice.zone}") for choice in policy.zone_choices]
        rows = [buttons[index:index + 2] for index in range(0, len(buttons), 2)]
        here = now.astimezone(policy.zone(shopper.language, member.time_zone))
        self.replies.send(shopper, key, "choose_time_zone", keyboards.inline_keyboard(rows), time=f"{here:%H:%M}",
                          **daytime(policy))
        return {"action": "choose_time_zone"}

    def choose_language(self, shopper: Shopper, key: str) -> dict[str, Any]:
        buttons = [[("Русский", "lang:ru"), ("English", "lang:en")]]
        self.replies.send(shopper, key, "choose_language", keyboards.inline_keyboard(buttons))
        return {"action": "choose_language"}

    def expired(self, shopper: Shopper, key: str) -> dict[str, Any]:
        self.replies.send(shopper, key, "button_expired", menu_keyboard(shopper.language))
        return {"action": "button_expired"}


def daytime(policy: Contact) -> dict[str, Any]:
    """When letters may come, as a text says it: {start} (quiet hours end) to {end} (they begin)."""
    return {"start": f"{policy.quiet_hours.end:%H:%M}", "end": f"{policy.quiet_hours.start:%H:%M}"}
