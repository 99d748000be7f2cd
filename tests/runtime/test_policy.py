"""IAM policy evaluation (runtime/policy.py), table-driven."""

from __future__ import annotations

import json
from typing import Any

import pytest

from statewright.runtime import policy

FN = "arn:aws:lambda:us-east-1:123456789012:function:"


def _doc(*statements: dict[str, Any]) -> list[policy.Statement]:
    return policy.parse(json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))


ALLOW_ALL = {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "*"}


@pytest.mark.parametrize(("statements", "action", "resource", "decision"), [
    ([], "lambda:InvokeFunction", FN + "a", "implicit_deny"),
    ([ALLOW_ALL], "lambda:InvokeFunction", FN + "a", "allow"),
    ([ALLOW_ALL], "lambda:invokefunction", FN + "a", "allow"),  # actions ignore case
    ([{"Effect": "Allow", "Action": "lambda:*", "Resource": FN + "a"}],
     "lambda:InvokeFunction", FN + "A", "implicit_deny"),  # resources do not
    ([{"Effect": "Allow", "Action": "lambda:Invoke*", "Resource": FN + "order?"}],
     "lambda:InvokeFunction", FN + "orders", "allow"),
    ([{"Effect": "Allow", "Action": "lambda:Invoke*", "Resource": FN + "order?"}],
     "lambda:InvokeFunction", FN + "orders2", "implicit_deny"),
    ([{"Effect": "Allow", "NotAction": "lambda:Delete*", "Resource": "*"}],
     "lambda:InvokeFunction", FN + "a", "allow"),
    ([{"Effect": "Allow", "NotAction": ["lambda:Invoke*"], "Resource": "*"}],
     "lambda:InvokeFunction", FN + "a", "implicit_deny"),
    ([{"Effect": "Allow", "Action": "*", "NotResource": FN + "secret"}],
     "lambda:InvokeFunction", FN + "secret", "implicit_deny"),
    ([ALLOW_ALL, {"Effect": "Deny", "Action": "lambda:*", "Resource": FN + "b"}],
     "lambda:InvokeFunction", FN + "b", "explicit_deny"),
    ([{"Effect": "Deny", "Action": "lambda:*", "Resource": FN + "b"}, ALLOW_ALL],
     "lambda:InvokeFunction", FN + "a", "allow"),
    # A condition on a known key absent from the request is false (IAM's rule): the Allow
    # does not apply, nor does the Deny.
    ([{**ALLOW_ALL, "Condition": {"Bool": {"aws:SecureTransport": "true"}}}],
     "lambda:InvokeFunction", FN + "a", "implicit_deny"),
    ([ALLOW_ALL, {"Effect": "Deny", "Action": "*", "Resource": "*",
                  "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}}],
     "lambda:InvokeFunction", FN + "a", "allow"),
    # A key statewright cannot supply fails closed: no Allow, and the Deny denies.
    ([{**ALLOW_ALL, "Condition": {"StringEquals": {"aws:PrincipalTag/team": "a"}}}],
     "lambda:InvokeFunction", FN + "a", "implicit_deny"),
    ([ALLOW_ALL, {"Effect": "Deny", "Action": "*", "Resource": "*",
                  "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}}],
     "lambda:InvokeFunction", FN + "a", "explicit_deny"),
])
def test_evaluation(statements: list[dict[str, Any]], action: str, resource: str,
                    decision: str) -> None:
    parsed = [_doc(*statements)] if statements else []
    assert policy.evaluate(parsed, action, resource) == decision


def test_a_deny_in_any_of_several_policies_wins() -> None:
    deny = _doc({"Effect": "Deny", "Action": "lambda:InvokeFunction", "Resource": FN + "*"})
    assert policy.evaluate([_doc(ALLOW_ALL), deny], "lambda:InvokeFunction", FN + "a") == \
        "explicit_deny"


@pytest.mark.parametrize(("document", "message"), [
    ("not json", "Syntax errors in policy."),
    ("[]", "Syntax errors in policy."),
    ('{"Version": "2012-10-17"}', "Missing required field Statement"),
    ('{"Version": "2020-01-01", "Statement": []}', "The policy must contain a valid version"),
    ('{"Statement": {"Effect": "Maybe", "Action": "a:b", "Resource": "*"}}', "Invalid effect"),
    ('{"Statement": {"Effect": "Allow", "Resource": "*"}}', "must contain actions"),
    ('{"Statement": {"Effect": "Allow", "Action": "x:y"}}', "must contain resources"),
    ('{"Statement": {"Effect": "Allow", "Action": "InvokeFunction", "Resource": "*"}}',
     "prefaced by a vendor"),
    ('{"Statement": {"Effect": "Allow", "Action": "a:b", "Resource": "*", "Principal": "*"}}',
     "should not specify a principal"),
])
def test_malformed_documents_are_refused(document: str, message: str) -> None:
    with pytest.raises(policy.PolicyError) as raised:
        policy.parse(document)
    assert message in str(raised.value)


@pytest.mark.parametrize(("principal", "trusted"), [
    ({"Service": "states.amazonaws.com"}, True),
    ({"Service": ["lambda.amazonaws.com", "states.us-east-1.amazonaws.com"]}, True),
    ({"Service": "lambda.amazonaws.com"}, False),
    ({"AWS": "arn:aws:iam::123456789012:root"}, False),
])
def test_trust_policies_name_the_service(principal: Any, trusted: bool) -> None:
    statements = policy.parse(json.dumps({"Statement": [
        {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]}), trust=True)
    assert policy.trusts_service(statements, "states.amazonaws.com") is trusted


CONTEXT = {"aws:SecureTransport": "false", "aws:RequestedRegion": "us-east-1",
           "aws:PrincipalArn": "arn:aws:iam::123456789012:role/service-role/orders",
           "aws:SourceIp": "127.0.0.1", "aws:EpochTime": "1700000000",
           "aws:CurrentTime": "2023-11-14T22:13:20Z"}


@pytest.mark.parametrize(("condition", "holds"), [
    ({"Bool": {"aws:SecureTransport": "false"}}, True),
    ({"Bool": {"aws:SecureTransport": True}}, False),  # JSON booleans read as "true"
    ({"StringEquals": {"aws:RequestedRegion": ["eu-west-1", "us-east-1"]}}, True),  # ORed
    ({"StringEquals": {"AWS:requestedregion": "us-east-1"}}, True),  # keys ignore case
    ({"StringNotEquals": {"aws:RequestedRegion": "us-east-1"}}, False),
    ({"StringEqualsIgnoreCase": {"aws:RequestedRegion": "US-EAST-1"}}, True),
    ({"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/service-role/*"}}, True),
    ({"StringNotLike": {"aws:PrincipalArn": "*:role/other"}}, True),
    ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/*"}}, True),
    ({"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/orders"}}, False),
    ({"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}, True),
    ({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, True),
    ({"NumericLessThan": {"aws:EpochTime": "1800000000"}}, True),
    ({"DateGreaterThan": {"aws:CurrentTime": "2024-01-01T00:00:00Z"}}, False),
    ({"Null": {"aws:SourceArn": "true"}}, True),  # absent
    ({"Null": {"aws:SourceIp": "true"}}, False),
    # A known key the request lacks: false, but true for negated operators and IfExists.
    ({"StringEquals": {"aws:SourceArn": "x"}}, False),
    ({"StringNotEquals": {"aws:SourceArn": "x"}}, True),
    ({"StringEqualsIfExists": {"aws:SourceArn": "x"}}, True),
    # Every block and every key must hold.
    ({"Bool": {"aws:SecureTransport": "false"},
      "StringEquals": {"aws:RequestedRegion": "eu-west-1"}}, False),
])
def test_conditions(condition: dict[str, Any], holds: bool) -> None:
    statement = _doc({**ALLOW_ALL, "Condition": condition})[0]
    assert policy.conditions_hold(statement, CONTEXT) is holds
    decision = policy.evaluate([[statement]], "lambda:InvokeFunction", FN + "a", CONTEXT)
    assert decision == ("allow" if holds else "implicit_deny")


def test_an_unknown_condition_operator_is_a_malformed_policy() -> None:
    with pytest.raises(policy.PolicyError, match="Invalid Condition type"):
        _doc({**ALLOW_ALL, "Condition": {"StringSortOf": {"aws:SourceIp": "x"}}})


def test_a_trust_policy_with_the_confused_deputy_conditions_trusts_its_own_source() -> None:
    """The trust policy AWS suggests for Step Functions roles (confused deputy prevention):
    aws:SourceAccount and aws:SourceArn of the state machine assuming the role."""
    trust = policy.parse(json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"},
                      "ArnLike": {"aws:SourceArn":
                                  "arn:aws:states:us-east-1:123456789012:stateMachine:*"}}}]}),
        trust=True)
    source = {"aws:SourceAccount": "123456789012",
              "aws:SourceArn": "arn:aws:states:us-east-1:123456789012:stateMachine:orders"}
    assert policy.trusts_service(trust, "states.amazonaws.com", source)
    assert not policy.trusts_service(trust, "states.amazonaws.com",
                                     {**source, "aws:SourceAccount": "999999999999"})
