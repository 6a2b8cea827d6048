"""Real python-telegram-bot Updates, as Telegram sends them (JSON-ready): what the bot's tests feed it, on the
local stack and on the fakes alike."""

from datetime import UTC, datetime
from typing import Any

from telegram import CallbackQuery, Chat, ChatJoinRequest, Contact, Message, Update, User


def telegram_update(update_id: int, user_id: int, text: str | None = None, contact: Contact | None = None,
                    language: str = "ru", chat_type: str = "private", **media: Any) -> dict[str, Any]:
    """A real python-telegram-bot Update, as Telegram would send it (JSON-ready)."""
    user = User(id=user_id, first_name="Анна", is_bot=False, language_code=language)
    chat = Chat(id=user_id if chat_type == "private" else -100 - user_id, type=chat_type)
    message = Message(message_id=update_id, date=datetime.now(UTC), chat=chat, from_user=user, text=text,
                      contact=contact, **media)
    return Update(update_id=update_id, message=message).to_dict()


def tapped(update_id: int, user_id: int, data: str, language: str = "ru", under_message_id: int = 1) -> dict[str, Any]:
    """An inline button tapped under one of the bot's messages in the shopper's private chat."""
    user = User(id=user_id, first_name="Анна", is_bot=False, language_code=language)
    message = Message(message_id=under_message_id, date=datetime.now(UTC), chat=Chat(id=user_id, type="private"),
                      text="…")
    query = CallbackQuery(id=f"cb-{update_id}", from_user=user, chat_instance=str(user_id), data=data,
                          message=message)
    return Update(update_id=update_id, callback_query=query).to_dict()


def contact_of(user_id: int, phone: str = "+7 916 123-45-67") -> Contact:
    return Contact(phone_number=phone, first_name="Анна", user_id=user_id)


STAFF_MEMBER = 5_000_001  # the shipped program's support (bot.staff)


def in_staff_chat(update_id: int, chat_id: int, text: str | None = None, reply_to_text: str | None = None,
                  data: str | None = None, username: str = "maria_care", user_id: int = STAFF_MEMBER
                  ) -> dict[str, Any]:
    """Someone in the brand's staff group (by default Мария, support in the shipped program): a message (a Reply to
    one of the bot's), or a button tapped."""
    user = User(id=user_id, first_name="Мария", is_bot=False, username=username)
    chat = Chat(id=chat_id, type="supergroup")
    bot = User(id=7000000001, first_name="Loyalty", is_bot=True)
    replied = Message(message_id=update_id * 10, date=datetime.now(UTC), chat=chat, from_user=bot,
                      text=reply_to_text) if reply_to_text is not None else None
    message = Message(message_id=update_id * 10 + 1, date=datetime.now(UTC), chat=chat, from_user=user, text=text,
                      reply_to_message=replied)
    if data is not None:
        query = CallbackQuery(id=f"cb-{update_id}", from_user=user, chat_instance=str(chat_id), data=data,
                              message=message)
        return Update(update_id=update_id, callback_query=query).to_dict()
    return Update(update_id=update_id, message=message).to_dict()


def join_request(update_id: int, user_id: int, chat_id: int, language: str = "ru") -> dict[str, Any]:
    """Someone asks to join a private group or channel through its invite link (a real python-telegram-bot Update)."""
    user = User(id=user_id, first_name="Анна", is_bot=False, language_code=language)
    request = ChatJoinRequest(chat=Chat(id=chat_id, type="supergroup"), from_user=user, date=datetime.now(UTC),
                              user_chat_id=user_id)
    return Update(update_id=update_id, chat_join_request=request).to_dict()
