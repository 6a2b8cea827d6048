"""The commands a newcomer types: `loyalty local demo` and `loyalty local serve`."""

import io
import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections import Counter
from datetime import timedelta
from itertools import pairwise

import pytest

from loyalty.adapters.dynamo import to_item
from loyalty.adapters.program_file import load_program
from loyalty.domain.receipt import MOSCOW
from loyalty_tools.local.demo import PROGRAM, Demo
from tests.conftest import deployed, present

pytestmark = pytest.mark.e2e


def test_the_demo_shows_points_everywhere_in_order_on_one_clock_and_checks_the_books() -> None:
    out = io.StringIO()
    with open(os.devnull, "w") as quiet, deployed(log_stream=quiet) as stack:
        demo = Demo(stack, load_program(PROGRAM), out)
        demo.play()
        assert demo.check() == 0
        text = out.getvalue()
        story = ["Анна › /start", "[делится номером телефона]", "Приветственный бонус: +100 баллов",
                 "+283 балла за покупку на Wildberries. Они станут доступны", "Этот чек уже зарегистрирован",
                 "Анна › [фото чека]", "+47 баллов за покупку на Ozon", "Первый чек — есть!", "Как вам",
                 "Анна › [файл чека]", "за покупку в Золотом Яблоке", "+45 баллов за покупку на сайте Лепесток",
                 "283 балла за покупку на Wildberries стали доступны", "Ваш промокод:",
                 "сайт › заказ lepestok-1042 оплачен промокодом",
                 "Последние операции:", "Давно не виделись! На вашем счёте 827 баллов", "Баллы Анны:"]
        positions = [text.find(step) for step in story]
        assert -1 not in positions and positions == sorted(positions), list(zip(story, positions, strict=True))
        assert "ваш новый уровень — «Подруга»! Теперь вам доступно: подарок ко дню рождения" in text

        # /history on the stack's clock: newest first, from the day she joined to the day she paid.
        history = text[text.index("Последние операции:"):text.index("месяц без покупок")].splitlines()[1:]
        dates = [line.split()[0] for line in history if line.strip()[:2].isdigit()]
        story_day = [f"{demo.start.astimezone(MOSCOW) + timedelta(days=day):%d.%m}" for day in (18, 14, 6, 5, 0)]
        assert dates == [story_day[0]] + [story_day[1]] * 2 + story_day[2:4] + [story_day[4]] * 3  # spent once

        # The days lived in order, as a deployed stack lives them: nothing but an answer at night, letters spaced,
        # the two marketplace orders' points (available late in the evening) told in one message the next morning,
        # and the survey due at night moved to the morning.
        # The moments are the hours of the runs that sent them: what the contact policy decided, not when a busy
        # machine got them to Telegram.
        moments = [at.astimezone(MOSCOW) for at, _ in demo.letters]
        letters = [entry for _, entry in demo.letters]
        kinds = ["Первый чек — есть!", "Совет:", "Как вам", "На сайте", "Задание «Три чека за месяц»",
                 "Задание «Первый заказ на сайте»", "стали доступны", "Давно не виделись"]
        assert [next((kind for kind in kinds if kind in entry["text"]), entry["text"]) for entry in letters] == kinds
        assert all(10 <= moment.hour < 21 for moment in moments), [f"{m:%d.%m %H:%M}" for m in moments]
        assert all(later - earlier >= timedelta(hours=2) for earlier, later in pairwise(moments))
        marketing_days = Counter(moment.date() for entry, moment in zip(letters, moments, strict=True)
                                 if not any(news in entry["text"] for news in ("стали доступны", "сгор", "Задание")))
        assert max(marketing_days.values()) <= demo.program.contact.marketing.per_day, marketing_days
        merged = [entry["text"] for entry in letters if "стали доступны" in entry["text"]]
        assert len(merged) == 1 and "Wildberries" in merged[0] and "Ozon" in merged[0]
        survey = next(moment for entry, moment in zip(letters, moments, strict=True) if entry["text"].startswith("Как"))
        assert (survey.date(), survey.hour) == ((demo.start + timedelta(days=4)).astimezone(MOSCOW).date(), 10)
        rows = text[text.index("Баллы Анны:"):text.index("В CRM")].splitlines()[1:]
        table = dict(line.strip().rsplit(maxsplit=1) for line in rows if line.strip()[-1:].isdigit())
        assert table == {"приветственный бонус": "100", "Wildberries": "283", "Ozon": "47", "Золотое Яблоко": "202",
                         "задания": "450",  # «Три чека за месяц», «Два магазина», «Первый заказ на сайте»
                         "сайт Лепесток": "45", "Доступно": "827", "Ожидают": "0", "В резерве": "0",
                         "Потрачено на сайте": "300"}
        assert "В CRM (эмулятор Mindbox): клиент есть, чеков 4, баллов 827" in text  # the brand's CRM agrees
        report = text[text.index("Что видит бренд (loyalty report):"):]  # the brand's side of the same story
        assert "  чеков: 4 (0; +4)" in report and "  покупателей: 1 (0; +1)" in report
        assert "  доля повторных покупателей: 100\u00a0%\n" in report
        assert "  впервые купили на сайте после маркетплейса: 1 (0; +1)" in report
        assert "  потрачено на сайте: 300 (0; +300)" in report and "  заказов на сайте: 1 (0; +1)" in report
        assert "assert" not in text.lower() and "expected" not in text.lower()  # the chat is the shopper's

        # Books changed behind the ledger's back: the run fails, and says why.
        stack.aws("dynamodb").update_item(TableName="MembersTable", Key=to_item({"member_id": str(demo.anna.chat_id)}),
                                          UpdateExpression="SET available = available + :one",
                                          ExpressionAttributeValues=to_item({":one": 1}))
        assert demo.check() == 1
        assert "ОШИБКА: loyalty ledger verify" in out.getvalue()


def test_serve_answers_on_its_port_and_stops_cleanly_on_ctrl_c() -> None:
    process = subprocess.Popen([sys.executable, "-m", "loyalty_tools.cli", "local", "serve", "--port", "0"],
                               stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        out = present(process.stdout)
        webhook = out.readline().split()[-1]
        assert webhook.endswith("/telegram/webhook")
        chat = out.readline().split()[2]
        with urllib.request.urlopen(chat, timeout=10) as page:  # the web chat is served too
            assert page.status == 200 and b"/emulator/send" in page.read()
        request = urllib.request.Request(webhook, data=json.dumps({"update_id": 1}).encode(), method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code == 403  # no secret token: the same webhook as in the cloud
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
