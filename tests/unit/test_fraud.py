"""The fraud layer's pure rules (domain/fraud.py): a marking code read from a Честный ЗНАК export, what each rule
counts, and the words a held receipt is explained with."""

from loyalty.domain.fraud import Rule, RuleName, Seen, counted_for, parse_code, phone_suspect, rule_words, suspicions


def test_a_marking_code_is_read_as_printed_or_as_two_columns_and_a_header_is_not_one() -> None:
    assert parse_code("0104607012345678215Xq!8jK2\x1d91EE06\x1d92c2lnbmF0dXJl") == "04607012345678:5Xq!8jK2"
    assert parse_code('"4607012345678";"5Xq!8jK2"') == "04607012345678:5Xq!8jK2"
    assert parse_code("04607012345678,ABC-1\n") == "04607012345678:ABC-1"
    assert parse_code("04607012345678\tABC-2") == "04607012345678:ABC-2"
    assert [parse_code(text) for text in ("GTIN;Серийный номер", "", "0104607012345678", "hello")] == [None] * 4


def test_a_rule_trips_over_its_threshold_and_only_where_it_counts() -> None:
    rules = [Rule(rule=RuleName.TILL_MEMBERS, threshold=3), Rule(rule=RuleName.MEMBER_TILL, threshold=5),
             Rule(rule=RuleName.PHONE_ACCOUNTS, threshold=2)]
    assert suspicions(rules, Seen(till_members=3, member_till=5)) == ()
    assert suspicions(rules, Seen(till_members=4, member_till=6)) == ("till_members", "member_till")
    assert suspicions([*rules, Rule(rule=RuleName.IDLE_FRIENDS, threshold=2)], Seen(idle_friends=3)) == (
        "idle_friends",)
    # a marketplace's or the brand's own drive serves everyone, a listed chain many: only friends are counted there
    assert counted_for("marketplace") == {RuleName.IDLE_FRIENDS} == counted_for("d2c")
    assert counted_for("retail") == {RuleName.MEMBER_TILL, RuleName.IDLE_FRIENDS}
    assert RuleName.PHONE_ACCOUNTS not in counted_for("other")  # a person's rule, not a receipt's count
    assert (phone_suspect(rules, 2), phone_suspect(rules, 3), phone_suspect(rules[:1], 9)) == (False, True, False)


def test_a_held_receipt_is_explained_in_words_even_for_a_rule_removed_since() -> None:
    assert rule_words(["till_members", "grey_market", "retired_rule"]) == [
        "с этой кассы сегодня прислали чеки многие участники",
        "серийного номера товара нет среди выпущенных брендом в оборот", "retired_rule"]
