"""campaign_sender on moto and the Bot API emulator: a picture with its caption and buttons, once per touch
however often SQS delivers it, the touch settled and made the member's last touch; a rejected one parked."""

from datetime import UTC, datetime
from typing import Any

from loyalty.adapters.campaign_store import CampaignStore
from loyalty.adapters.members import MembersRepository
from loyalty.contracts import CampaignMessage
from loyalty.domain.campaigns import Touch
from loyalty_tools.local.stack import LocalStack
from tests.conftest import present
from tests.integration.conftest import drain, send
from tests.integration.test_telegram_sender import control, transcript

TOUCH = Touch(campaign="spring", step=0, member_id="871", key="spring:0:2027-03-01T09:00:00+00:00")


def message(image: str = "https://lepestok.ru/spring.jpg", chat_id: int = 871) -> str:
    return CampaignMessage(
        campaign="spring", touch=f"touch#871#{TOUCH.key}", member_id="871", chat_id=chat_id, text="Весна: −20%",
        image=image, reply_markup={"inline_keyboard": [[{"text": "На сайт", "url": "https://lepestok.ru"}]]},
        goal_days=7).model_dump_json()


def test_a_picture_with_buttons_goes_once_and_becomes_the_members_last_touch(stack: LocalStack) -> None:
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
    assert present(present(MembersRepository("MembersTable").get("871")).last_touch)["campaign"] == "spring"


def test_a_message_telegram_rejects_is_parked_with_the_reason(stack: LocalStack) -> None:
    control(stack, "/emulator/chats/872/open")
    send(stack, "CampaignQueue", message(image="http://not-https.example/x.jpg", chat_id=872))
    stack.poller("CampaignQueue").poll_once()
    ((_, attributes),) = drain(stack, "CampaignDeadLetterQueue")
    assert "telegram rejected the campaign message" in attributes["reason"]
    assert transcript(stack, 872) == []


def test_a_rate_limited_message_is_put_back_for_retry_after_without_using_up_a_receive(stack: LocalStack) -> None:
    MembersRepository("MembersTable").join("871", 871, "ru")
    control(stack, "/emulator/chats/871/open")
    control(stack, "/emulator/chats/871/fail", {"status": 429, "retry_after": 1, "times": 3})
    CampaignStore("CampaignsTable").record(TOUCH, 0, datetime.now(UTC))
    send(stack, "CampaignQueue", message())
    for deferrals in (1, 2, 3):
        stack.poller("CampaignQueue").poll_once()
        assert transcript(stack, 871) == [] and stack.queue_depth("CampaignQueue") == 1
        assert stack.poller("CampaignQueue").poll_once() == 0  # delayed for at least retry_after
        (again,) = _wait_for_message(stack)
        assert again["MessageAttributes"]["deferrals"]["StringValue"] == str(deferrals)
        assert again["Attributes"]["ApproximateReceiveCount"] == "1"  # a new message: no receive used up
        stack.aws("sqs").change_message_visibility(QueueUrl=stack.template.queue_url("CampaignQueue"),
                                                   ReceiptHandle=again["ReceiptHandle"], VisibilityTimeout=0)
    stack.poller("CampaignQueue").poll_once()
    assert len(transcript(stack, 871)) == 1 and stack.queue_depth("CampaignQueue") == 0


def test_a_message_still_rate_limited_after_its_last_deferral_is_parked_with_the_reason(stack: LocalStack) -> None:
    control(stack, "/emulator/chats/871/open")
    control(stack, "/emulator/chats/871/fail", {"status": 429, "retry_after": 1})
    CampaignStore("CampaignsTable").record(TOUCH, 0, datetime.now(UTC))
    stack.aws("sqs").send_message(QueueUrl=stack.template.queue_url("CampaignQueue"), MessageBody=message(),
                                  MessageAttributes={"deferrals": {"DataType": "Number", "StringValue": "200"}})
    stack.poller("CampaignQueue").poll_once()
    ((_, attributes),) = drain(stack, "CampaignDeadLetterQueue")
    assert attributes["reason"] == "telegram rate limit: still waiting after 200 deferrals"
    assert stack.queue_depth("CampaignQueue") == 0


def _wait_for_message(stack: LocalStack) -> list[dict[str, Any]]:
    """The queue's next message once its delay is over (received, so invisible until put back)."""
    messages: list[dict[str, Any]] = stack.aws("sqs").receive_message(
        QueueUrl=stack.template.queue_url("CampaignQueue"), WaitTimeSeconds=5, MessageAttributeNames=["All"],
        MessageSystemAttributeNames=["All"])["Messages"]
    return messages


def test_a_blocked_chat_whose_member_is_gone_is_settled_not_retried_into_the_dead_letter_queue(
        stack: LocalStack) -> None:
    """A member erased after the campaign queued their message (their books moved to a pseudonym): Telegram's 403
    unsubscribes nobody, and the message is done with, not taken for a transient failure."""
    control(stack, "/emulator/chats/871/open")
    control(stack, "/emulator/chats/871/block")
    CampaignStore("CampaignsTable").record(TOUCH, 0, datetime.now(UTC))
    assert MembersRepository("MembersTable").get("871") is None
    send(stack, "CampaignQueue", message())
    stack.poller("CampaignQueue").poll_once()
    assert stack.queue_depth("CampaignQueue") == 0 and drain(stack, "CampaignDeadLetterQueue") == []
    assert CampaignStore("CampaignsTable").stats("spring")["blocked"] == 1
