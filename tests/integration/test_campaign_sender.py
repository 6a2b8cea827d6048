"""campaign_sender on moto and the Bot API emulator: a picture with its caption and buttons, once per touch
however often SQS delivers it, the touch settled and made the member's last touch; a rejected one parked."""

from datetime import UTC, datetime

from loyalty.adapters.campaign_store import CampaignStore
from loyalty.adapters.members import MembersRepository
from loyalty.contracts import CampaignMessage
from loyalty.domain.campaigns import Touch
from tests.integration.conftest import drain, send
from tests.integration.test_telegram_sender import control, transcript

TOUCH = Touch(campaign="spring", step=0, member_id="871", key="spring:0:2027-03-01T09:00:00+00:00")


def message(image="https://lepestok.ru/spring.jpg", chat_id=871):
    return CampaignMessage(
        campaign="spring", touch=f"touch#871#{TOUCH.key}", member_id="871", chat_id=chat_id, text="Весна: −20%",
        image=image, reply_markup={"inline_keyboard": [[{"text": "На сайт", "url": "https://lepestok.ru"}]]},
        goal_days=7).model_dump_json()


def test_a_picture_with_buttons_goes_once_and_becomes_the_members_last_touch(stack):
    MembersRepository("MembersTable").join("871", 871, "ru")
    control(stack, "/emulator/chats/871/open")
    CampaignStore("CampaignsTable").record(TOUCH, 0, datetime.now(UTC))
    for _ in range(2):  # SQS delivers it twice
        send(stack, "CampaignQueue", message())
        stack.poller("CampaignQueue").poll_once()
    (sent,) = transcript(stack, 871)
    assert (sent["photo"], sent["text"]) == ("https://lepestok.ru/spring.jpg", "Весна: −20%")
    assert sent["reply_markup"]["inline_keyboard"][0][0]["url"] == "https://lepestok.ru"
    assert CampaignStore("CampaignsTable").stats("spring")["delivered"] == 1
    assert MembersRepository("MembersTable").get("871").last_touch["campaign"] == "spring"


def test_a_message_telegram_rejects_is_parked_with_the_reason(stack):
    control(stack, "/emulator/chats/872/open")
    send(stack, "CampaignQueue", message(image="http://not-https.example/x.jpg", chat_id=872))
    stack.poller("CampaignQueue").poll_once()
    ((_, attributes),) = drain(stack, "CampaignDeadLetterQueue")
    assert "telegram rejected the campaign message" in attributes["reason"]
    assert transcript(stack, 872) == []
