"""The one helper every adapter's conditional write goes through (adapters/dynamo.py), on moto: a false condition is
an answer about the data (False, None, or the domain error the caller names), anything else stays an error."""

import pytest
from botocore.exceptions import ClientError

from loyalty.adapters.dynamo import applied, conditional, to_item
from loyalty.adapters.members import MembersRepository
from loyalty.domain.errors import MemberNotFound

NEW = {"TableName": "BotTable", "Item": to_item({"pk": "x", "sk": "y"}),
       "ConditionExpression": "attribute_not_exists(pk)"}


def test_a_write_applies_once_and_then_says_its_condition_was_false(stack):
    assert applied("put_item", **NEW) is True
    assert applied("put_item", **NEW) is False
    assert conditional("put_item", **NEW) is None


def test_a_false_condition_raises_the_domain_error_the_caller_names(stack):
    with pytest.raises(MemberNotFound):
        conditional("put_item", refused=MemberNotFound("x"), **{**NEW, "ConditionExpression": "attribute_exists(pk)"})


def test_a_malformed_write_is_not_taken_for_a_false_condition(stack):
    with pytest.raises(ClientError, match="ValidationException"):
        applied("put_item", **{**NEW, "Item": to_item({"pk": "x"})})  # the table's sort key left out


def test_a_member_who_is_gone_is_refused_in_the_domains_words(stack):
    members = MembersRepository("MembersTable")
    assert members.unsubscribe("404") is False
    with pytest.raises(MemberNotFound):
        members.choose_language("404", "en")
    with pytest.raises(MemberNotFound):
        members.save_phone("404", "+79160000000")
