"""telegram_sender: python-telegram-bot against the Bot API emulator over HTTP, once per message."""

import json
import urllib.request

from loyalty.contracts import OutboundMessage
from tests.integration.conftest import drain, send


def control(stack, path, payload=None):
    request = urllib.request.Request(stack.telegram.url + path, data=json.dumps(payload or {}).encode(),
                                     method="POST")
    urllib.request.urlopen(request, timeout=5).close()


def transcript(stack, chat_id):
    with urllib.request.urlopen(f"{stack.telegram.url}/emulator/chats/{chat_id}", timeout=5) as response:
        return json.load(response)


def message(chat_id=801, key="k1", text="Привет", markup=None):
    return OutboundMessage(dedupe_key=key, chat_id=chat_id, text=text, reply_markup=markup).model_dump_json()


def poll(stack):
    return stack.poller("OutboxQueue").poll_once()


def test_a_message_with_a_keyboard_reaches_the_chat(stack):
    control(stack, "/emulator/chats/801/open")
    markup = {"keyboard": [[{"text": "📱", "request_contact": True}]], "resize_keyboard": True}
    send(stack, "OutboxQueue", message(markup=markup))
    poll(stack)
    (sent,) = transcript(stack, 801)
    assert sent["text"] == "Привет" and sent["reply_markup"]["keyboard"][0][0]["request_contact"] is True


def test_a_redelivered_message_is_sent_once(stack):
    control(stack, "/emulator/chats/801/open")
    for _ in range(3):
        send(stack, "OutboxQueue", message())
        poll(stack)
    assert len(transcript(stack, 801)) == 1


def test_a_rate_limited_message_is_put_back_for_retry_after_without_using_up_a_receive(stack):
    control(stack, "/emulator/chats/801/open")
    control(stack, "/emulator/chats/801/fail", {"status": 429, "retry_after": 1, "times": 3})
    send(stack, "OutboxQueue", message())
    for deferrals in (1, 2, 3):
        poll(stack)
        assert transcript(stack, 801) == [] and stack.queue_depth("OutboxQueue") == 1
        assert stack.poller("OutboxQueue").poll_once() == 0  # delayed for at least retry_after
        (again,) = _wait_for_message(stack)
        assert again["MessageAttributes"]["deferrals"]["StringValue"] == str(deferrals)
        assert again["Attributes"]["ApproximateReceiveCount"] == "1"  # a new message: no receive used up
        stack.aws("sqs").change_message_visibility(QueueUrl=stack.template.queue_url("OutboxQueue"),
                                                   ReceiptHandle=again["ReceiptHandle"], VisibilityTimeout=0)
    poll(stack)
    assert len(transcript(stack, 801)) == 1 and stack.queue_depth("OutboxQueue") == 0


def test_a_message_still_rate_limited_after_its_last_deferral_is_parked_with_the_reason(stack):
    control(stack, "/emulator/chats/801/open")
    control(stack, "/emulator/chats/801/fail", {"status": 429, "retry_after": 1})
    stack.aws("sqs").send_message(QueueUrl=stack.template.queue_url("OutboxQueue"), MessageBody=message(),
                                  MessageAttributes={"deferrals": {"DataType": "Number", "StringValue": "200"}})
    poll(stack)
    ((_, attributes),) = drain(stack, "OutboxDeadLetterQueue")
    assert attributes["reason"] == "telegram rate limit: still waiting after 200 deferrals"
    assert stack.queue_depth("OutboxQueue") == 0


def _wait_for_message(stack):
    """The queue's next message once its delay is over (received, so invisible until put back)."""
    return stack.aws("sqs").receive_message(
        QueueUrl=stack.template.queue_url("OutboxQueue"), WaitTimeSeconds=5, MessageAttributeNames=["All"],
        MessageSystemAttributeNames=["All"])["Messages"]


def test_a_shopper_who_blocked_the_bot_is_skipped_without_retries(stack):
    control(stack, "/emulator/chats/801/open")
    control(stack, "/emulator/chats/801/block")
    send(stack, "OutboxQueue", message())
    poll(stack)
    assert stack.queue_depth("OutboxQueue") == 0 and drain(stack, "OutboxDeadLetterQueue") == []


def test_a_message_telegram_rejects_is_dead_lettered_with_telegrams_reason(stack):
    send(stack, "OutboxQueue", message(chat_id=802))  # a chat that never wrote to the bot
    poll(stack)
    ((_, attributes),) = drain(stack, "OutboxDeadLetterQueue")
    assert attributes["reason"] == "telegram rejected the message: Chat not found"
