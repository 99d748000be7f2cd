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
    # Conditions are not evaluated: an Allow with one does not allow, a Deny with one denies.
    ([{**ALLOW_ALL, "Condition": {"Bool": {"aws:SecureTransport": "true"}}}],
     "lambda:InvokeFunction", FN + "a", "implicit_deny"),
    ([ALLOW_ALL, {"Effect": "Deny", "Action": "*", "Resource": "*",
                  "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}}],
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
