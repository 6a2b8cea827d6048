"""Telegram's limits on one message, how a text too long for them is cut (domain/chat_limits.py), and how a step's
texts to one chat go as one message (contracts.joined)."""

from loyalty.contracts import CampaignMessage, OutboundMessage, joined
from loyalty.domain import chat_limits


def test_length_is_counted_as_telegram_counts_it_in_utf16_units() -> None:
    assert chat_limits.length("балл") == 4 and chat_limits.length("🎁") == 2


def test_a_text_that_fits_is_kept_and_one_that_does_not_is_cut_between_words_with_an_ellipsis() -> None:
    assert chat_limits.fit("коротко", 10) == ("коротко", False)
    cut, is_html = chat_limits.fit("слово " * 20, 30)
    assert (cut, is_html) == ("слово слово слово слово…", False) and chat_limits.length(cut) <= 30
    emoji, _ = chat_limits.fit("🎁" * 20, 9)  # never half an emoji
    assert emoji == "🎁🎁🎁🎁…"


def test_html_too_long_is_sent_as_plain_text_never_with_a_tag_left_open() -> None:
    assert chat_limits.fit("<b>Итог</b>: 5 &lt; 7", 16, is_html=True) == ("Итог: 5 < 7", False)
    cut, is_html = chat_limits.fit("<b>" + "очень " * 100 + "</b>", 50, is_html=True)
    assert not is_html and "<" not in cut and cut.endswith("…")


def test_every_queued_message_fits_its_limit_a_shoppers_picture_taking_a_caption() -> None:
    message = OutboundMessage(dedupe_key="k", chat_id=1, text="я" * 5000, html=True)
    assert chat_limits.length(message.text) == chat_limits.TEXT and not message.html
    captioned = OutboundMessage(dedupe_key="k", chat_id=1, text="я" * 2000, photo="file-1")
    assert chat_limits.length(captioned.text) <= chat_limits.CAPTION
    campaign = CampaignMessage(campaign="c", touch="t", member_id="1", chat_id=1, text="я" * 5000, goal_days=0,
                               image="https://example.com/a.png")  # too long for a caption: sent without the picture
    assert chat_limits.length(campaign.text) == chat_limits.TEXT
    assert OutboundMessage(dedupe_key="k", chat_id=1, text="<b>да</b>", html=True).html  # what fits stays HTML


def test_what_telegram_refuses_is_named_in_its_words() -> None:
    assert chat_limits.refusal("я" * 4097) == "Bad Request: message is too long"
    assert chat_limits.refusal("я" * 1025, caption=True) == "Bad Request: message caption is too long"
    data = {"inline_keyboard": [[{"text": "x", "callback_data": "ж" * 33}]]}
    assert chat_limits.refusal("ok", markup=data) == "Bad Request: BUTTON_DATA_INVALID"
    link = {"inline_keyboard": [[{"text": "x", "url": "ftp://example.com"}]]}
    assert "unsupported URL protocol" in str(chat_limits.refusal("ok", markup=link))


def _text(key: str, chat: int = 1, text: str = "", **fields: object) -> OutboundMessage:
    return OutboundMessage.model_validate({"dedupe_key": key, "chat_id": chat, "text": text or key, **fields})


def test_a_steps_consecutive_texts_to_a_chat_go_as_one_message_under_one_key() -> None:
    buttons = {"inline_keyboard": [[{"text": "Да", "callback_data": "yes"}]]}
    (one,) = joined([_text("points"), _text("level", reply_markup=buttons)])
    assert (one.dedupe_key, one.text, one.reply_markup) == ("points+level", "points\n\nlevel", buttons)
    assert joined([_text("points"), _text("level")]) == joined([_text("points"), _text("level")])  # a replay: the same


def test_buttons_a_photo_another_chat_other_markup_or_the_limit_keep_messages_apart() -> None:
    buttons = {"inline_keyboard": [[{"text": "Да", "callback_data": "yes"}]]}
    apart = [
        [_text("a", reply_markup=buttons), _text("b")],  # a's buttons stay under a
        [_text("a"), _text("b", photo="file-1")],
        [_text("a", photo="file-1"), _text("b")],
        [_text("a", chat=1), _text("b", chat=2)],
        [_text("a"), _text("b", html=True)],
        [_text("a", text="я" * 3000), _text("b", text="я" * 1095)],  # 3000 + 2 + 1095 > 4096
    ]
    for messages in apart:
        assert joined(messages) == messages
    assert [m.dedupe_key for m in joined([_text("a"), _text("b"), _text("c", chat=2), _text("d", chat=2)])] == [
        "a+b", "c+d"]
    assert len(joined([_text("a", text="я" * 3000), _text("b", text="я" * 1094)])[0].text) == chat_limits.TEXT
