"""Telegram's limits on one message, and how a text too long for them is cut (domain/chat_limits.py)."""

from loyalty.contracts import CampaignMessage, OutboundMessage
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
