"""The parts of a Bot API Update the bot reads, checked at the edge before python-telegram-bot builds objects from it.

python-telegram-bot trusts Telegram's types: `"chat": "x"` or `"id": "1"` fails deep inside it as a TypeError, and a
reply nested in a reply nested … as a RecursionError. So the webhook checks these fields first, strictly (a number
is a JSON number, text is a JSON string), and refuses an update that breaks them naming the field:
`message.chat.id: Input should be a valid integer`. Only what was checked goes on to python-telegram-bot: fields the
bot does not read (Telegram adds new ones) and kinds of update it does not answer (an edit, a poll, a reaction, a
channel post) are left out, unread, so nothing unchecked reaches it.
"""


from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, TypeAdapter, ValidationError

from loyalty.validation import problems

_MAX_TEXT = 10_000  # Telegram sends at most 4,096 characters of text and 1,024 of a caption
_MAX_ID = 2**53  # Telegram's ids have at most 52 significant bits
_MAX_DATE = 2**32  # a Unix time: python-telegram-bot fails on one past what the platform's clock can hold
Id = Annotated[StrictInt, Field(ge=-_MAX_ID, le=_MAX_ID)]
Date = Annotated[StrictInt, Field(ge=0, le=_MAX_DATE)]
_MAX_SIZES = 20  # a photo comes in a few sizes


class _Part(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="ignore", strict=True)


class _User(_Part):
    id: Id
    is_bot: StrictBool
    first_name: StrictStr = Field(max_length=_MAX_TEXT)
    username: StrictStr | None = None
    language_code: StrictStr | None = Field(default=None, max_length=35)


class _Chat(_Part):
    id: Id
    type: StrictStr


class _Contact(_Part):
    phone_number: StrictStr = Field(max_length=64)
    first_name: StrictStr = Field(max_length=_MAX_TEXT)
    user_id: Id | None = None


class _PhotoSize(_Part):
    file_id: StrictStr = Field(max_length=512)
    file_unique_id: StrictStr
    width: StrictInt
    height: StrictInt
    file_size: StrictInt | None = None


class _Document(_Part):
    file_id: StrictStr = Field(max_length=512)
    file_unique_id: StrictStr
    file_name: StrictStr | None = None
    mime_type: StrictStr | None = None
    file_size: StrictInt | None = None


class _Replied(_Part):
    """The message one replies to: Telegram never nests a reply inside it."""

    message_id: Id
    date: Date
    chat: _Chat
    text: StrictStr | None = Field(default=None, max_length=_MAX_TEXT)
    caption: StrictStr | None = Field(default=None, max_length=_MAX_TEXT)
    reply_to_message: None = None


class _Message(_Part):
    message_id: Id
    date: Date
    chat: _Chat
    from_: _User | None = Field(default=None, alias="from")
    text: StrictStr | None = Field(default=None, max_length=_MAX_TEXT)
    caption: StrictStr | None = Field(default=None, max_length=_MAX_TEXT)
    contact: _Contact | None = None
    photo: list[_PhotoSize] | None = Field(default=None, max_length=_MAX_SIZES)
    document: _Document | None = None
    reply_to_message: _Replied | None = None


class _CallbackQuery(_Part):
    id: StrictStr
    from_: _User = Field(alias="from")
    chat_instance: StrictStr
    data: StrictStr | None = Field(default=None, max_length=64)  # Telegram's own limit on callback data
    message: _Message | None = None


class _ChatJoinRequest(_Part):
    """Someone asks to join the brand's private community (docs/program.md: community)."""

    chat: _Chat
    from_: _User = Field(alias="from")
    user_chat_id: Id
    date: Date


class _Update(_Part):
    update_id: Id
    message: _Message | None = None
    callback_query: _CallbackQuery | None = None
    chat_join_request: _ChatJoinRequest | None = None


_CHECK = TypeAdapter(_Update)


class MalformedUpdate(ValueError):
    """An update whose fields the bot reads are not what the Bot API sends; the message names them."""


def checked(update: Any) -> dict[str, Any]:
    """What the bot reads of `update`, with the Bot API's types (MalformedUpdate, naming each bad field, if not)."""
    try:
        return _CHECK.validate_python(update).model_dump(by_alias=True, exclude_none=True)
    except ValidationError as error:
        raise MalformedUpdate(problems(error, "update")) from error
