"""What a shopper is told after a ledger entry: one message per entry (plus a level message), keyed on the
entry, so a replayed entry repeats exactly the same messages and the outbox sends each once."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from loyalty.contracts import Shopper
from loyalty.domain.bot_program import words
from loyalty.domain.challenges import reward_words
from loyalty.domain.messages import day_month, render, with_words

if TYPE_CHECKING:
    from loyalty.domain.ledger import Posting
    from loyalty.domain.program import Program
    from loyalty.flows.letters import Letters
    from loyalty.flows.replies import Replies


class Notices:
    def __init__(self, replies: Replies, program: Program, letters: Letters | None = None):
        self.replies = replies
        self.program = program
        self.letters = letters  # None: direct answers, sent at once; else letters the contact policy sends

    def shopper(self, posting: Posting) -> Shopper | None:
        holder = posting.holder
        if holder.chat_id is None:
            return None
        return Shopper(member_id=holder.member_id, chat_id=holder.chat_id, language=holder.language)

    def send(self, posting: Posting, text_key: str, suffix: str = "", after: int = 0, **params: Any) -> None:
        self.parts(posting, (text_key, params), suffix=suffix, after=after)

    def parts(self, posting: Posting, *keys_and_params: tuple[str, dict[str, Any]], suffix: str = "",
              after: int = 0) -> None:
        """One message made of one or several texts (a credit, then the cap, then the debt paid), keyed on
        the entry (and `suffix`, for a second message about the same entry). `after`: a letter due this many
        milliseconds after the entry, so letters about one entry that go out merged keep their order."""
        shopper = self.shopper(posting)
        if shopper is None:
            return
        balance, entry = posting.balance.available, posting.entry
        dedupe = f"ledger:{entry.member_id}:{entry.entry_id}{suffix}"
        if self.letters is not None:  # the balance is told as it is when the letter goes
            # A letter keeps its values as words (a store's forms in the member's language), not as objects.
            stored = [(key, with_words(shopper.language, **params)) for key, params in keys_and_params]
            self.letters.notice(shopper.member_id, shopper.chat_id, shopper.language, dedupe, stored,
                                entry.created_at + timedelta(milliseconds=after))
            return
        text = " ".join(render(key, shopper.language, **{"balance": balance, **params})
                        for key, params in keys_and_params)
        self.replies.send_text(shopper, dedupe, text)

    def level(self, posting: Posting) -> None:
        """A level-up names what the shopper gained: the new rate if it rose, and the perks; a downgrade is gentle."""
        details = posting.details
        level = self.program.level(details.level)
        if level is None or details.level_move not in ("up", "down"):
            return
        percent = f"{level.percent.normalize():f}"
        language = posting.holder.language
        title, perks = words(level.title, language), ", ".join(words(perk, language) for perk in level.perks)
        previous = self.program.level(details.level_before) or self.program.levels[0]
        if details.level_move == "up":
            if level.percent > previous.percent:
                self.send(posting, "level_up", ":level", title=title, percent=percent, perks=perks or "—")
            else:  # the same rate: the perks are the news
                self.send(posting, "level_up_perks" if level.perks else "level_up_same_rate", ":level",
                          title=title, perks=perks, percent=percent)
        else:
            days = previous.downgrade_every_days if previous and previous.downgrade_every_days else 0
            self.send(posting, "level_down", ":level", title=title, percent=percent, days=days)

    def challenges(self, posting: Posting) -> None:
        """One message per challenge the entry completed, naming what it gave (a letter: the contact policy times
        it, since finishing a challenge is news, not the answer to the receipt)."""
        language = posting.holder.language
        for order, challenge_id in enumerate(posting.details.challenges, start=1):
            challenge = self.program.challenge(challenge_id)
            if challenge is not None:  # after the entry's own news, when the two go out as one
                self.send(posting, "challenge_done", f":challenge:{challenge_id}", after=order,
                          title=words(challenge.title, language), reward=reward_words(challenge.reward, language))

    def date(self, posting: Posting, moment: datetime) -> str:
        shopper = self.shopper(posting)
        return day_month(moment, shopper.language if shopper else "ru")
