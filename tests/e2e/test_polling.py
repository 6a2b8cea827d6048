"""`loyalty local serve --telegram-token`: updates taken by long polling (getUpdates) and handed to the local webhook
as Telegram would POST them; tested against the Telegram emulator's own getUpdates, which behaves as Telegram's."""

import pytest

from loyalty_tools.local.polling import PollingConflict, TelegramPoller
from loyalty_tools.local.shopper import Shopper
from tests.e2e.journeys import seed_stack

pytestmark = pytest.mark.e2e


def test_polled_updates_reach_the_bot_once_and_taps_are_answered() -> None:
    with seed_stack() as stack:
        poller = TelegramPoller(stack.telegram.url, stack.bot_token, stack.webhook_url, stack.webhook_secret,
                                long_poll_seconds=1)
        with pytest.raises(PollingConflict, match="webhook"):  # Telegram refuses getUpdates while a webhook is set
            poller.poll_once()
        stack.bot_api("deleteWebhook")
        shopper = Shopper(stack.telegram.url, user_id=7_400_001)
        shopper.say("/start")
        shopper.say("/language")
        assert shopper.bot_messages() == []  # nothing is pushed: the updates wait for getUpdates
        assert poller.poll_once() == 2
        stack.wait_idle()
        assert shopper.wait_for_bot_messages(2)[0].startswith("Здравствуйте!")
        assert poller.poll_once() == 0  # the offset confirmed them: none comes twice
        shopper.tap("English")
        poller.poll_once()
        stack.wait_idle()
        assert shopper.bot_messages()[-1] == "Done, I will write in English from now on."
        calls = [call for call in stack.bot_api_calls() if call["method"] == "answerCallbackQuery"]
        assert calls and not calls[-1].get("in_answer")  # the poller ran the webhook's answer against the Bot API
        poller.start()  # and as a thread, as `loyalty local serve --telegram-token` runs it
        shopper.say("/help")
        stack.wait_idle()
        assert shopper.wait_for_bot_messages(4)[-1].startswith("I only understand receipts and commands")  # in English
        poller.stop()
