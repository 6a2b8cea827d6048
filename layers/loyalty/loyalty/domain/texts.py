"""Every text a shopper reads, in Russian and English, chosen by the Telegram language code: the catalog, as data.

Short and polite, and each one that reports a problem says what to do next. It needs nothing but the standard
library, so the webhook's edge answers a receipt's QR code in the shopper's language before anything else loads
(domain/messages.py renders them everywhere else).
"""

from __future__ import annotations

RU = "ru"
EN = "en"
# Shoppers in these languages read Russian more easily than English.
_RUSSIAN_READERS = {"ru", "uk", "be", "kk", "ky", "uz", "tg", "hy", "az"}

TEXTS: dict[str, dict[str, str]] = {
    "welcome": {
        RU: "Здравствуйте! Это программа лояльности {brand}: присылайте чеки с нашими товарами из любого магазина "
        "и копите баллы — ими можно оплатить до 100% заказа на нашем сайте.{invited_line}\n\n"
        "Чтобы начать, нажмите «Поделиться номером»: так вы принимаете правила программы{rules_line}.",
        EN: "Hello! This is the {brand} loyalty program: send receipts with our goods from any store and collect "
        "points — they pay up to 100% of an order on our website.{invited_line}\n\n"
        "To begin, tap “Share phone number”: by doing so you accept the program rules{rules_line}.",
    },
    "welcome_invited": {
        RU: "\n\nВас пригласили: после первого чека вы получите {referred} {referred_word} в подарок.",
        EN: "\n\nYou were invited: your first receipt brings you {referred} bonus points.",
    },
    "welcome_back": {
        RU: "С возвращением! На счёте {balance} {balance_word}. Пришлите чек или выберите, что посмотреть, в меню.",
        EN: "Welcome back! You have {balance} points. Send a receipt or pick something in the menu.",
    },
    "button_receipt": {RU: "📷 Зарегистрировать чек", EN: "📷 Register a receipt"},
    "button_balance": {RU: "💰 Баланс", EN: "💰 Balance"},
    "button_level": {RU: "🏆 Мой уровень", EN: "🏆 My level"},
    "button_history": {RU: "📜 История", EN: "📜 History"},
    "button_rewards": {RU: "🎁 Награды", EN: "🎁 Rewards"},
    "button_invite": {RU: "👥 Пригласить друга", EN: "👥 Invite a friend"},
    "button_help": {RU: "❓ Помощь", EN: "❓ Help"},
    "receipt_how": {
        RU: "Пришлите фото QR-кода с чека, текст из него или файл чека из приложения «Проверка чеков». "
        "Где найти QR-код — выберите магазин:",
        EN: "Send a photo of the receipt's QR code, its text, or the receipt file from the «Проверка чеков» app. "
        "Where to find the QR code — pick the store:",
    },
    "level_card": {
        RU: "<b>Уровень «{title}»</b>: {percent}% баллами с покупок.{perks_line}\n\n{progress}",
        EN: "<b>Level “{title}”</b>: {percent}% back in points.{perks_line}\n\n{progress}",
    },
    "level_perks": {RU: "\nВам доступно: {perks}.", EN: "\nYour perks: {perks}."},
    "level_challenges": {RU: "\n\nЗадания:\n{lines}", EN: "\n\nChallenges:\n{lines}"},
    "level_badges": {RU: "\nВаши значки: {badges}.", EN: "\nYour badges: {badges}."},
    "level_birthday_ask": {RU: "\n\n🎂 Укажите день рождения — /birthday — и получите подарок: {points} {points_word}.",
                           EN: "\n\n🎂 Tell us your birthday — /birthday — and get a gift: {points} points."},
    "level_birthday": {RU: "\n\n🎂 День рождения: {date}.", EN: "\n\n🎂 Birthday: {date}."},
    "level_next": {
        RU: "Ещё {missing} — и уровень «{title}»: {percent}% баллами.",
        EN: "{missing} to go until “{title}”: {percent}% back in points.",
    },
    "level_top": {
        RU: "Это высший уровень программы — спасибо, что вы с нами!",
        EN: "This is the program's top level — thank you for being with us!",
    },
    "rewards_title": {
        RU: "<b>Награды за баллы</b>. На счёте {balance} {balance_word}. Нажмите на награду, чтобы обменять:",
        EN: "<b>Rewards for points</b>. You have {balance} points. Tap a reward to exchange:",
    },
    "rewards_empty": {
        RU: "Каталог наград пока пуст. Баллами можно оплатить до 100% заказа на сайте — команда /promo.",
        EN: "The rewards catalog is empty for now. Points pay up to 100% of an order on the website — /promo.",
    },
    "reward_button": {RU: "{title} — {points} {points_word}", EN: "{title} — {points} points"},
    "reward_button_locked": {RU: "🔒 {title} — с уровня «{level}»", EN: "🔒 {title} — from “{level}”"},
    "reward_button_gone": {RU: "{title} — закончилось", EN: "{title} — out of stock"},
    "reward_confirm": {
        RU: "Обменять {points} {points_word} на «{title}»? Мы свяжемся с вами, чтобы передать награду.",
        EN: "Exchange {points} points for “{title}”? We will contact you to hand it over.",
    },
    "button_yes_exchange": {RU: "✅ Обменять", EN: "✅ Exchange"},
    "button_cancel": {RU: "Отмена", EN: "Cancel"},
    "reward_ordered": {
        RU: "Готово, награда «{title}» ваша! Списано {points} {points_word}, на счёте {balance} {balance_word}. "
        "Мы напишем вам, как передать награду.",
        EN: "Done: “{title}” is yours! {points} points spent, balance {balance} points. We will write to you about "
        "handing it over.",
    },
    "reward_out_of_stock": {
        RU: "Увы, «{title}» только что закончилась. Баллы остались на счёте — загляните в /rewards за другими "
        "наградами.",
        EN: "Sorry, “{title}” has just run out. Your points stay with you — see /rewards for other rewards.",
    },
    "reward_too_few": {
        RU: "Для «{title}» нужно {points} {points_word}, а доступно {balance} {balance_word}. Присылайте чеки — "
        "баллы копятся быстро.",
        EN: "“{title}” takes {points} points and you have {balance}. Keep sending receipts — points add up fast.",
    },
    "reward_level_needed": {
        RU: "«{title}» доступна с уровня «{level}». Ваш прогресс — в «🏆 Мой уровень».",
        EN: "“{title}” is available from level “{level}”. See your progress in “🏆 My level”.",
    },
    "reward_cancelled": {RU: "Хорошо, баллы остаются на счёте.", EN: "All right, your points stay with you."},
    "staff_draw_prize": {
        RU: "🎡 Приз колеса #{order}: «{title}».\nУчастник: {member}, уровень «{level}».\n\n"
        "Ответьте на это сообщение (Reply) — ответ уйдёт покупателю.",
        EN: "🎡 Prize wheel win #{order}: “{title}”.\nMember: {member}, level “{level}”.\n\n"
        "Reply to this message and the shopper gets your answer.",
    },
    "draw_prize_reward": {
        RU: "🎡 Ваш приз — «{title}»! Мы напишем вам, как его получить.",
        EN: "🎡 You won “{title}”! We will write to you about how to get it.",
    },
    "spins_earned": {  # after a receipt's points
        RU: "🎡 И +{spins} {spins_word} колеса призов — оно ждёт вас в «Мои баллы» (кнопка меню).",
        EN: "🎡 And +{spins} {spins_word} of the prize wheel: it waits in “My points” (the menu button).",
    },
    "birthday_ask": {
        RU: "🎂 Когда у вас день рождения? Напишите день и месяц, например: 14.05 — год не нужен.",
        EN: "🎂 When is your birthday? Write the day and the month, e.g. 14.05 — no year needed.",
    },
    "birthday_unreadable": {
        RU: "Не получилось понять дату. Напишите день и месяц, например: 14.05 или 14 мая.",
        EN: "I could not read the date. Write the day and the month, e.g. 14.05 or 14 May.",
    },
    "birthday_saved": {RU: "🎂 Записали: {date}.", EN: "🎂 Saved: {date}."},
    "birthday_saved_gift": {
        RU: "🎂 Записали: {date}. За {days} {days_word} до него пришлём подарок — {points} {points_word} "
        "на {valid_days} {valid_days_word}.",
        EN: "🎂 Saved: {date}. {days} days before it we will send you a gift: {points} points for "
        "{valid_days} days.",
    },
    "birthday_saved_gift_level": {
        RU: "🎂 Записали: {date}. За {days} {days_word} до него пришлём подарок — {points} {points_word} "
        "на {valid_days} {valid_days_word} (с уровня «{level}»).",
        EN: "🎂 Saved: {date}. {days} days before it we will send you a gift: {points} points for "
        "{valid_days} days (from the “{level}” level).",
    },
    "birthday_locked": {
        RU: "Дату рождения можно изменить раз в год — после {date}.",
        EN: "The birthday can be changed once a year: after {date}.",
    },
    "birthday_gift": {
        RU: "🎂 С наступающим днём рождения! Дарим {points} {points_word} — они действуют до {date}.",
        EN: "🎂 Happy birthday in advance! Here are {points} points, valid until {date}.",
    },
    "invite_card_title": {RU: "Приглашение в программу {brand}", EN: "An invitation to the {brand} loyalty program"},
    "invite_card": {
        RU: "Я собираю баллы {brand} за покупки в любых магазинах — присоединяйтесь! За первый чек вам +{points} "
        "{points_word}.\n{link}",
        EN: "I collect {brand} points for purchases in any store: join me! Your first receipt brings you +{points} "
        "points.\n{link}",
    },
    "invite_card_button": {RU: "Вступить в {brand}", EN: "Join {brand}"},
    "scan_not_a_receipt": {
        RU: "Это не QR-код чека. Наведите камеру на QR-код внизу кассового чека.",
        EN: "This is not a receipt's QR code. Point the camera at the QR code at the bottom of the receipt.",
    },
    "profile_gift": {
        RU: "{points} {points_word} в подарок за {days} {days_word} до дня рождения",
        EN: "{points} points as a gift {days} days before your birthday",
    },
    "community_closed": {
        RU: "Сообщество «{title}» открыто участникам с уровня «{level}». Покупайте и присылайте чеки — мы будем рады "
        "вам там, как только уровень откроется (прогресс — в «🏆 Мой уровень»).",
        EN: "The “{title}” community is open from the “{level}” level. Keep sending receipts: we will be glad to see "
        "you there once your level opens it (see “🏆 My level”).",
    },
    "community_join_first": {
        RU: "Сообщество «{title}» — для участников программы. Сначала вступите в неё: нажмите /start в чате с ботом.",
        EN: "The “{title}” community is for members of the program. Join it first: tap /start in the chat with the "
        "bot.",
    },
    "community_left": {
        RU: "Сообщество «{title}» открыто с уровня «{level}», а ваш уровень сейчас ниже — мы закрыли вам доступ. "
        "Вернём его, как только уровень вернётся.",
        EN: "The “{title}” community is open from the “{level}” level, and your level is below it now, so your access "
        "is closed. It opens again as soon as your level returns.",
    },
    "draw_no_prize": {RU: "В этот раз без приза", EN: "No prize this time"},
    "staff_reward_order": {
        RU: "🎁 Заказ награды #{order}: «{title}» за {points} баллов.\nУчастник: {member}, уровень «{level}».\n\n"
        "Ответьте на это сообщение (Reply) — ответ уйдёт покупателю.",
        EN: "🎁 Reward order #{order}: “{title}” for {points} points.\nMember: {member}, level “{level}”.\n\n"
        "Reply to this message and the shopper gets your answer.",
    },
    "choose_language": {RU: "Выберите язык / Choose your language:", EN: "Choose your language / Выберите язык:"},
    "language_set": {RU: "Готово, теперь я пишу по-русски.", EN: "Done, I will write in English from now on."},
    "reward_delivered": {
        RU: "Ваш заказ награды выполнен. Спасибо, что вы с нами!",
        EN: "Your reward order has been fulfilled. Thank you for being with us!",
    },
    "staff_reward_delivered": {
        RU: "✅ Заказ награды #{ticket} отмечен выданным ({who}).",
        EN: "✅ Reward order #{ticket} marked handed over ({who}).",
    },
    "credit_reversed": {
        RU: "Мы отменили начисление за покупку {store_at}: −{points} {points_word}. Причина: {reason}.",
        EN: "We cancelled the points for your purchase {store_at}: −{points} points. Reason: {reason}.",
    },
    "points_adjusted": {
        RU: "Мы поправили ваш счёт: {sign}{points} {points_word}. Причина: {reason}.",
        EN: "We corrected your balance: {sign}{points} points. Reason: {reason}.",
    },
    "console_link": {
        RU: "Вход в консоль бренда. Ссылка действует {minutes} мин. и открывается один раз — никому её не пересылайте.",
        EN: "Your way into the brand's console. The link works for {minutes} min. and opens once: do not forward it.",
    },
    "console_button": {RU: "Открыть консоль", EN: "Open the console"},
    "choose_time_zone": {
        RU: "О баллах и акциях я пишу только днём: с {start} до {end} по вашему времени. Сейчас я думаю, что у вас "
        "{time}. Если это не так, выберите свой город:",
        EN: "I write about points and offers only in the daytime: {start} to {end} your time. I think it is {time} "
        "where you are now. If not, pick your city:",
    },
    "time_zone_set": {
        RU: "Готово: {zone}, у вас сейчас {time}. Сообщения о баллах и акциях буду присылать с {start} до {end} по "
        "вашему времени.",
        EN: "Done: {zone}, it is {time} where you are. Messages about points and offers will come from {start} to "
        "{end} your time.",
    },
    "delete_confirm": {
        RU: "Удалить ваш аккаунт? Мы сотрём номер телефона, имя и переписку, а баллы ({balance} {balance_word}) и "
        "уровень сгорят. Чеки, которые вы регистрировали, повторно зарегистрировать будет нельзя. Это не отменить.",
        EN: "Delete your account? We will erase your phone number, name and chat, and your points ({balance}) and "
        "level will be gone. The receipts you registered cannot be registered again. This cannot be undone.",
    },
    "button_delete": {RU: "Удалить навсегда", EN: "Delete for good"},
    "delete_done": {
        RU: "Аккаунт удалён, ваши данные стёрты. Если захотите вернуться — просто нажмите /start.",
        EN: "Your account is deleted and your data erased. If you want to come back, just send /start.",
    },
    "delete_cancelled": {RU: "Хорошо, всё остаётся как было.", EN: "All right, everything stays as it was."},
    "survey_question": {
        RU: "Как вам {goods} {store_from}? Оцените, пожалуйста, от 1 до 5 — это займёт секунду.",
        EN: "How do you like {goods} {store_from}? Please rate it from 1 to 5 — it takes a second.",
    },
    "survey_goods_default": {RU: "ваша покупка", EN: "your purchase"},
    "survey_what_wrong": {
        RU: "Нам очень жаль. Напишите в ответ, что пошло не так, — ваше сообщение прочитает команда {brand} и "
        "ответит здесь же.",
        EN: "We are sorry to hear that. Reply with what went wrong — the {brand} team will read it and answer "
        "right here.",
    },
    "survey_review_ask": {
        RU: "Спасибо, мы рады! Оставьте, пожалуйста, отзыв там, где покупали, и пришлите сюда скриншот или ссылку "
        "на него — после проверки начислим {points} {points_word}.",
        EN: "Thank you, we are glad! Please leave a review where you bought it and send a screenshot or a link "
        "here — once we check it, you get {points} points.",
    },
    "survey_thanks": {RU: "Спасибо за оценку!", EN: "Thank you for your rating!"},
    "nps_question": {
        RU: "И ещё один вопрос: насколько вероятно, что вы порекомендуете {brand} друзьям? 0 — точно нет, 10 — "
        "обязательно.",
        EN: "One more question: how likely are you to recommend {brand} to a friend? 0 — not at all, 10 — certainly.",
    },
    "button_write_review": {RU: "✍️ Написать отзыв", EN: "✍️ Write a review"},
    "complaint_forwarded": {
        RU: "Спасибо, передали команде {brand}. Ответ придёт сюда же.",
        EN: "Thank you, we passed it to the {brand} team. The answer will come here.",
    },
    "review_received": {
        RU: "Спасибо! Отзыв на проверке, бонус начислим сразу после неё.",
        EN: "Thank you! Your review is being checked; the bonus comes right after.",
    },
    "review_rejected": {
        RU: "Мы не нашли ваш отзыв по присланному скриншоту или ссылке. Проверьте, что он опубликован, и "
        "пришлите ещё раз.",
        EN: "We could not find your review from the screenshot or link. Check it is published and send it again.",
    },
    "staff_reply": {
        RU: "💬 Ответ команды {brand}:\n{text}\n\nЕсли нужно, напишите ответ здесь же — его получит команда.",
        EN: "💬 The {brand} team replies:\n{text}\n\nIf you need to, write back here and the team will get it.",
    },
    "staff_thread": {
        RU: "💬 #{ticket}: покупатель пишет.\nУчастник: {member}, уровень «{level}».\n\n{text}\n\n"
        "Ответьте на это сообщение (Reply) — ответ уйдёт покупателю.",
        EN: "💬 #{ticket}: the shopper writes.\nMember: {member}, level “{level}”.\n\n{text}\n\n"
        "Reply to this message and the shopper gets your answer.",
    },
    "staff_complaint": {
        RU: "⚠️ Обращение #{ticket}: оценка {rating} из 5.\nУчастник: {member}, уровень «{level}».\n"
        "Покупка: {store}, {goods}.\n\n{text}\n\nОтветьте на это сообщение (Reply) — ответ уйдёт покупателю.",
        EN: "⚠️ Ticket #{ticket}: rated {rating} of 5.\nMember: {member}, level “{level}”.\n"
        "Purchase: {store}, {goods}.\n\n{text}\n\nReply to this message and the shopper gets your answer.",
    },
    "staff_review": {
        RU: "⭐ Отзыв #{ticket} на проверку: участник {member}, уровень «{level}».\nПокупка: {store}, {goods}.\n"
        "{proof}",
        EN: "⭐ Review #{ticket} to check: member {member}, level “{level}”.\nPurchase: {store}, {goods}.\n{proof}",
    },
    "staff_review_screenshot": {RU: "Скриншот — следующим сообщением.", EN: "The screenshot follows."},
    "button_approve": {RU: "✅ Засчитать", EN: "✅ Approve"},
    "button_reject": {RU: "❌ Отклонить", EN: "❌ Reject"},
    "staff_decided": {
        RU: "#{ticket}: {decision} ({who}).",
        EN: "#{ticket}: {decision} ({who}).",
    },
    "staff_approved": {RU: "засчитан", EN: "approved"},
    "staff_rejected": {RU: "отклонён", EN: "rejected"},
    "staff_reply_delivered": {RU: "Ответ на #{ticket} отправлен покупателю.", EN: "Answer to #{ticket} sent."},
    "staff_member_gone": {
        RU: "#{ticket}: покупатель удалил аккаунт, ответ не доставить.",
        EN: "#{ticket}: the shopper deleted their account; the answer cannot be delivered.",
    },
    "staff_may_not_decide": {
        RU: "Решать по отзывам и чекам могут сотрудники программы с такой ролью, и не по своим.",
        EN: "Only the program's staff with such a role decide on reviews and receipts, and not on their own.",
    },
    "staff_may_not_answer": {
        RU: "#{ticket}: ответ не отправлен. Отвечать покупателям могут владелец и поддержка программы, и не на свои "
        "обращения.",
        EN: "#{ticket}: the answer was not sent. Only the program's owner and support answer shoppers, and not on "
        "their own tickets.",
    },
    "staff_unknown_reply": {
        RU: "Не понял, к какому обращению этот ответ: нажмите Reply на сообщении с номером #…",
        EN: "I cannot tell which ticket this answers: use Reply on the message with its #… number.",
    },
    "button_not_interested": {RU: "Не интересно", EN: "Not interested"},
    "nudge_stopped": {
        RU: "Поняли, больше не будем об этом писать.",
        EN: "Got it, we will not write about this again.",
    },
    "button_expired": {
        RU: "Эта кнопка уже не работает. Откройте меню или пришлите чек.",
        EN: "This button no longer works. Open the menu or send a receipt.",
    },
    "share_phone_button": {RU: "📱 Поделиться номером", EN: "📱 Share phone number"},
    "phone_saved": {
        RU: "Спасибо, вы в программе! Пришлите фото QR-кода с чека, текст из него или файл чека из приложения "
        "«Проверка чеков».\n\n{commands}",
        EN: "Thank you, you are in! Send a photo of the receipt's QR code, its text, or the receipt file from "
        "the «Проверка чеков» app.\n\n{commands}",
    },
    "commands": {
        RU: "/balance — баллы\n/level — уровень и что до следующего\n/history — последние операции\n"
        "/rewards — награды за баллы\n/promo — промокод для сайта\n/invite — пригласить друга\n"
        "/language — язык\n/timezone — часовой пояс\n/birthday — день рождения\n"
        "/stop — не присылать акции\n/delete — удалить аккаунт",
        EN: "/balance — points\n/level — your level and what the next one takes\n/history — recent activity\n"
        "/rewards — rewards for points\n/promo — a promo code for the website\n/invite — invite a friend\n"
        "/language — language\n/timezone — time zone\n/birthday — your birthday\n"
        "/stop — no more offers\n/delete — delete your account",
    },
    "marketing_stopped": {
        RU: "Больше не буду присылать акции и напоминания. Баллы и уровень остаются с вами, чеки принимаю как "
        "раньше. Вернуть рассылки — /start.",
        EN: "No more offers or reminders from me. Your points and level stay with you, and I take receipts as "
        "before. To get them back, send /start.",
    },
    "phone_not_yours": {
        RU: "Это не ваш номер. Нажмите кнопку «Поделиться номером», чтобы отправить свой.",
        EN: "That is not your number. Tap “Share phone number” to send your own.",
    },
    "phone_needed": {
        RU: "Сначала поделитесь номером телефона кнопкой ниже: чек я запомнил и проверю сразу после этого.",
        EN: "Please share your phone number with the button below first: I kept the receipt and will "
        "check it right after.",
    },
    "phone_needed_first": {
        RU: "Сначала поделитесь номером телефона кнопкой ниже, чтобы стать участником программы.",
        EN: "Please share your phone number with the button below first to join the program.",
    },
    "receipt_accepted": {
        RU: "Чек принят, проверяю. Это займёт до минуты.",
        EN: "Receipt received, checking it. This takes up to a minute.",
    },
    "not_a_receipt": {
        RU: "Не вижу здесь QR-кода чека. Пришлите фото QR-кода или текст из него: он начинается с t=… "
        "и содержит fn=, i=, fp=.",
        EN: "This does not look like a receipt QR code. Send a photo of the QR code or its text: it starts "
        "with t=… and holds fn=, i=, fp=.",
    },
    "unsupported_message": {
        RU: "Пока я понимаю только чеки и команды: пришлите фото QR-кода, текст из него или JSON-файл из "
        "приложения «Проверка чеков».\n\n{commands}",
        EN: "I only understand receipts and commands: send a photo of the QR code, its text, or the JSON file "
        "from the «Проверка чеков» app.\n\n{commands}",
    },
    "points_credited": {
        RU: "+{points} {points_word} за покупку {store_at}. На счёте {balance} {balance_word}.",
        EN: "+{points} points for your purchase {store_at}. Balance: {balance} points.",
    },
    "receipt_duplicate": {
        RU: "Этот чек уже зарегистрирован, повторно баллы не начисляются.",
        EN: "This receipt is already registered; points are not credited twice.",
    },
    "receipt_not_found": {
        RU: "Налоговая не нашла такой чек. Проверьте, что QR-код отсканирован целиком, и пришлите его снова.",
        EN: "The tax service did not find this receipt. Check the QR code was scanned whole and send it again.",
    },
    "receipt_delayed": {
        RU: "Чек задерживается: налоговая пока не отвечает. Мы его сохранили — баллы придут сами, присылать "
        "заново не нужно.",
        EN: "Your receipt is delayed: the tax service is not answering yet. We have kept it, and the points will "
        "come by themselves: no need to send it again.",
    },
    "file_unavailable": {
        RU: "Telegram не отдал нам этот файл (бывает с файлами больше 20 МБ). Пришлите, пожалуйста, фото QR-кода "
        "ещё раз или текст из него.",
        EN: "Telegram would not give us this file (it happens with files over 20 MB). Please send a photo of the "
        "QR code again, or its text.",
    },
    "receipt_not_a_sale": {
        RU: "Это чек возврата или расхода, за него баллы не начисляются.",
        EN: "This is a refund or expense receipt; it does not earn points.",
    },
    "receipt_no_brand_goods": {
        RU: "В чеке {store_from} нет товаров {brand}, поэтому баллов за него нет.",
        EN: "The receipt {store_from} has no {brand} goods, so it earns no points.",
    },
    "receipt_too_old": {
        RU: "Этот чек старше {days} дней, за такие чеки баллы не начисляются.",
        EN: "This receipt is older than {days} days; such receipts do not earn points.",
    },
    "receipt_in_future": {
        RU: "Дата в чеке ещё не наступила. Проверьте QR-код и пришлите его снова.",
        EN: "The receipt's date is in the future. Check the QR code and send it again.",
    },
    "submissions_per_minute": {
        RU: "Чеки приходят слишком часто. Подождите {seconds} сек. и пришлите этот чек ещё раз.",
        EN: "Receipts are coming in too fast. Wait {seconds} seconds and send this one again.",
    },
    "submissions_per_day": {
        RU: "На сегодня чеков достаточно: за день можно прислать не больше {limit}. Пришлите этот чек завтра, "
        "после 00:00 по Москве.",
        EN: "That is enough receipts for today: at most {limit} a day. Please send this one tomorrow, after "
        "midnight Moscow time.",
    },
    "receipt_items_earned_before": {
        RU: "Товары из этого чека уже принесли баллы по другому чеку: каждый маркированный товар приносит баллы "
        "один раз.",
        EN: "The goods on this receipt have already earned points on another receipt: each marked item earns "
        "once.",
    },
    "receipt_held": {
        RU: "Чек {store_from} принят и отправлен на проверку: {points} {points_word} начислим сразу после неё. "
        "Обычно это занимает не больше суток.",
        EN: "Your receipt {store_from} is accepted and being checked: {points} points come right after. It "
        "usually takes less than a day.",
    },
    "receipt_held_later": {
        RU: "Чек {store_from} отправлен на проверку: с этой кассы сегодня пришло много чеков. {points} {points_word} "
        "за него подождут её результата — обычно это не больше суток.",
        EN: "Your receipt {store_from} is being checked: many receipts came from that till today. Its {points} "
        "points wait for the result, which usually takes less than a day.",
    },
    "receipt_held_approved": {
        RU: "Чек {store_from} проверен, спасибо! +{points} {points_word}.",
        EN: "Your receipt {store_from} is checked, thank you! +{points} points.",
    },
    "receipt_held_rejected": {
        RU: "Мы проверили чек {store_from} и не можем начислить за него баллы: {reason}. Если это ошибка, напишите "
        "нам, где и когда вы покупали, — мы разберёмся.",
        EN: "We checked your receipt {store_from} and cannot credit points for it: {reason}. If this is a "
        "mistake, tell us where and when you bought it and we will look into it.",
    },
    "staff_receipt_held": {
        RU: "🔎 Чек #{ticket} на проверке: {rules}.\nУчастник: {member}, уровень «{level}».\n"
        "Покупка: {store}, {roubles} ₽ товаров бренда, {points} баллов.\nЧек: {fiscal_key}",
        EN: "🔎 Receipt #{ticket} to check: {rules}.\nMember: {member}, level “{level}”.\n"
        "Purchase: {store}, {roubles} ₽ of the brand's goods, {points} points.\nReceipt: {fiscal_key}",
    },
    "receipt_items_grey_market": {
        RU: "Мы не нашли товары из этого чека среди тех, что {brand} выпустил в продажу, поэтому баллы за них не "
        "начисляются. Если вы уверены в покупке, напишите нам, где её сделали.",
        EN: "We could not find the goods on this receipt among those {brand} put on sale, so they earn no points. "
        "If you are sure of the purchase, tell us where you made it.",
    },
    "receipt_daily_limit": {
        RU: "Сегодня вы уже зарегистрировали {limit} {limit_word}, это максимум на день. Пришлите этот чек завтра.",
        EN: "You have registered {limit} receipts today, the daily maximum. Please send this one tomorrow.",
    },
    "receipt_same_order": {
        RU: "Этот чек относится к заказу, за который баллы уже начислены: предоплата и получение одного "
        "заказа считаются один раз.",
        EN: "This receipt belongs to an order that has already earned points: an order's prepayment and "
        "delivery receipts count once.",
    },
    "refund_unmatched": {
        RU: "Это чек возврата, но покупки, к которой он относится, нет среди ваших чеков. Баллы не изменились.",
        EN: "This is a refund receipt, but the purchase it refunds is not among your receipts. Points unchanged.",
    },
    "points_reversed": {
        RU: "Возврат {store_at}: списано {points} {points_word}. На счёте {balance} {balance_word}.",
        EN: "Refund {store_at}: {points} points taken back. Balance: {balance} points.",
    },
    "points_reversed_challenge": {  # after points_reversed: the refunded purchase had completed a challenge
        RU: "В том числе награда за задание «{title}» — его выполнила эта покупка.",
        EN: "That includes the reward for the “{title}” challenge, which this purchase completed.",
    },
    "points_reversed_debt": {
        RU: "Возврат {store_at}: за него нужно списать {points} {points_word}, но часть уже потрачена. "
        "Списано {taken} {taken_word}, а оставшиеся {debt} {debt_word} спишутся с будущих начислений.",
        EN: "Refund {store_at}: it takes back {points} points, but some are already spent. {taken} were taken "
        "back; the other {debt} will come off your next points.",
    },
    "points_pending": {
        RU: "+{points} {points_word} за покупку {store_at}. Они станут доступны {date}, когда закончится срок "
        "возврата. Сейчас на счёте {balance} {balance_word}.",
        EN: "+{points} points for your purchase {store_at}. They become available on {date}, when the return "
        "period ends. Balance now: {balance} points.",
    },
    "points_capped": {
        RU: "По правилам программы за день и месяц можно получить не больше баллов, чем установлено, поэтому "
        "за этот чек начислено {points} из {earned}.",
        EN: "The program caps the points earned per day and month, so this receipt earned {points} of {earned}.",
    },
    "debt_paid": {
        RU: "{paid} {paid_word} из них ушли в счёт прошлого возврата.",
        EN: "{paid} of them went to cover an earlier refund.",
    },
    "points_available": {
        RU: "{points} {points_word} за покупку {store_at} стали доступны.",
        EN: "{points} points for your purchase {store_at} are now available.",
    },
    "balance_now": {RU: "На счёте {balance} {balance_word}.", EN: "Balance: {balance} points."},
    "expiry_reminder": {
        RU: "У вас сгорит {points} {points_word} через {days} {days_word} — {date}. Успейте потратить их: на "
        "сайте {brand} баллами можно оплатить до {share}% заказа.",
        EN: "{points} of your points expire in {days} days, on {date}. Spend them in time: on the {brand} "
        "website points pay up to {share}% of an order.",
    },
    "points_expired": {
        RU: "Срок действия {points} {points_word} закончился, они сгорели.",
        EN: "{points} points have expired.",
    },
    "challenge_done": {
        RU: "🏆 Задание «{title}» выполнено! Вам: {reward}.",
        EN: "🏆 Challenge “{title}” complete! You get: {reward}.",
    },
    "level_up": {
        RU: "Поздравляем, ваш новый уровень — «{title}»! Теперь баллами возвращается {percent}% от покупок. "
        "Что вам доступно: {perks}.",
        EN: "Congratulations, your new level is “{title}”! You now get {percent}% back in points. "
        "Your perks: {perks}.",
    },
    "level_up_perks": {
        RU: "Поздравляем, ваш новый уровень — «{title}»! Теперь вам доступно: {perks}.",
        EN: "Congratulations, your new level is “{title}”! You now have: {perks}.",
    },
    "level_up_same_rate": {
        RU: "Поздравляем, ваш новый уровень — «{title}»! Баллами по-прежнему возвращается {percent}% от покупок.",
        EN: "Congratulations, your new level is “{title}”! You still get {percent}% back in points.",
    },
    "level_down": {
        RU: "Ваш уровень теперь «{title}»: за последние {days} {days_word} покупок было меньше, чем нужно для "
        "прежнего. Все баллы на месте, а вернуть уровень можно новыми покупками. Сейчас начисляем {percent}%.",
        EN: "Your level is now “{title}”: there were fewer purchases in the last {days} days than the previous "
        "level needs. All your points are kept, and new purchases bring the level back. You now get {percent}%.",
    },
    "points_transferred": {
        RU: "Перенесли {points} {points_word} из прежней программы лояльности. На счёте {balance} {balance_word}.",
        EN: "{points} points moved over from your previous loyalty programme. Balance: {balance} points.",
    },
    "bonus_welcome": {
        RU: "Приветственный бонус: +{points} {points_word}.",
        EN: "Welcome bonus: +{points} points.",
    },
    "bonus_review": {
        RU: "Спасибо за отзыв! +{points} {points_word}.",
        EN: "Thank you for your review! +{points} points.",
    },
    "bonus_referred": {
        RU: "Вы пришли по приглашению, и это ваш первый чек: +{points} {points_word} в подарок.",
        EN: "You joined by invitation and this is your first receipt: +{points} bonus points.",
    },
    "bonus_referrer": {
        RU: "Ваш друг зарегистрировал первый чек — вам +{points} {points_word}.",
        EN: "Your friend registered their first receipt: +{points} points for you.",
    },
    "invite": {
        RU: "Пригласите друзей по этой ссылке: {link}\n\nКогда друг зарегистрирует первый чек, вы получите "
        "{referrer} {referrer_word}, а он — {referred} {referred_word}.",
        EN: "Invite friends with this link: {link}\n\nWhen a friend registers their first receipt, you get "
        "{referrer} points and they get {referred}.",
    },
    "promo_issued": {
        RU: "Ваш промокод: {code}\nОн на {points} {points_word} ({points} ₽) и действует до {date}. Введите его "
        "при оформлении заказа на сайте {brand}. Пока код не использован, эти баллы зарезервированы.",
        EN: "Your promo code: {code}\nIt is worth {points} points ({points} ₽) and valid until {date}. Enter it "
        "at checkout on the {brand} website. The points are reserved until the code is used.",
    },
    "promo_too_few": {
        RU: "Для промокода на {points} {points_word} не хватает баллов: доступно {balance} {balance_word}.",
        EN: "Not enough points for a {points}-point promo code: {balance} available.",
    },
    "promo_too_small": {
        RU: "Промокод выпускается от {minimum} {minimum_word}, а доступно {balance} {balance_word}.",
        EN: "A promo code is at least {minimum} points; you have {balance} available.",
    },
    "promo_usage": {
        RU: "Напишите /promo и число баллов, например: /promo 300. Просто /promo — на все доступные баллы.",
        EN: "Send /promo and the number of points, e.g. /promo 300. Just /promo uses all available points.",
    },
    "promo_returned": {
        RU: "Промокод {code} не был использован, {points} {points_word} вернулись на счёт.",
        EN: "Promo code {code} was not used; {points} points are back.",
    },
    "balance": {
        RU: "Уровень «{title}»: баллами возвращается {percent}%.\nДоступно: {balance} {balance_word}.{pending_line}"
        "{held_line}",
        EN: "Level “{title}”: {percent}% back in points.\nAvailable: {balance} points.{pending_line}{held_line}",
    },
    "balance_pending": {
        RU: "\nОжидают окончания срока возврата: {pending} {pending_word}.",
        EN: "\nWaiting for the return period to end: {pending} points.",
    },
    "balance_held": {
        RU: "\nЗарезервировано под заказы и промокоды: {held} {held_word}.",
        EN: "\nReserved for orders and promo codes: {held} points.",
    },
    "history_empty": {
        RU: "Операций по баллам пока нет. Пришлите чек с товарами бренда — и здесь появятся начисления.",
        EN: "No points activity yet. Send a receipt with the brand's goods and it will show here.",
    },
    "history_title": {RU: "Последние операции:", EN: "Recent activity:"},
    "photo_no_qr": {
        RU: "Не нашёл QR-код на фото. Сфотографируйте чек ближе, чтобы код был целиком в кадре и резким, "
        "и пришлите снова.",
        EN: "I could not find a QR code in the photo. Take it closer, with the whole code in frame and sharp, "
        "and send it again.",
    },
    "file_unreadable": {
        RU: "Не получилось прочитать файл. Пришлите JSON-файл чека из приложения «Проверка чеков», "
        "фото QR-кода или текст из него.",
        EN: "I could not read the file. Send the receipt's JSON file from the «Проверка чеков» app, a photo "
        "of the QR code or its text.",
    },
    "file_received": {
        RU: "Файл принят, чеков в нём: {count}. Проверяю каждый.",
        EN: "File received, receipts in it: {count}. Checking each one.",
    },
    "receipt_zero_points": {
        RU: "Чек зарегистрирован, но сумма товаров {brand} слишком мала для баллов.",
        EN: "Receipt registered, but the {brand} goods total is too small to earn points.",
    },
}


def language_of(language_code: str | None) -> str:
    code = (language_code or RU).split("-")[0].lower()
    return RU if code in _RUSSIAN_READERS else EN


def wording(key: str, language: str, brand: dict[str, dict[str, str]]) -> str:
    """Text `key` in `language` before its placeholders are filled: the brand's wording (`brand`: the program's
    `bot.texts`) first, then the catalog's; Russian where there is none in `language`."""
    texts = {**TEXTS[key], **brand.get(key, {})}
    return texts.get(language) or texts[RU]
