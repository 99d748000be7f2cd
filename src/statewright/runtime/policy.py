"""IAM policy documents: checking their shape and evaluating identity-based policies.

A leaf of pure functions (no I/O). ``evaluate`` follows IAM's evaluation logic for the
identity-based policies of one principal: an explicit Deny in any statement wins; otherwise
an Allow in any statement allows; otherwise the request is implicitly denied. A statement
applies when its Action (or NotAction) and Resource (or NotResource) match; ``*`` and ``?``
are wildcards, actions match case-insensitively, resources case-sensitively.

Conditions are evaluated against the request's context (``Context``: the ``aws:`` keys
statewright can supply, ``KNOWN_KEYS``) with IAM's operators (String*, Arn*, Bool, Null,
Numeric*, Date*, IpAddress/NotIpAddress, the ``...IfExists`` forms and the ``ForAnyValue:``/
``ForAllValues:`` set prefixes). All blocks of a Condition must hold; a key's values are ORed.
A known key absent from the request makes its test false, except a negated operator
(``StringNotEquals``...), which is then true, and ``...IfExists``, which is then true (IAM's
rules). A key statewright cannot supply (``KNOWN_KEYS`` lacks it: ``aws:PrincipalTag/...``,
service keys such as ``states:StateMachineQualifier``) fails closed: an Allow that tests it does
not allow, a Deny that tests it denies.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, Literal

Decision = Literal["allow", "implicit_deny", "explicit_deny"]
#: A request's condition context: key (any case) -> value(s).
Context = Mapping[str, "str | list[str]"]

#: The condition keys statewright supplies when it has them (lower case): tested keys not
#: listed here fail closed.
KNOWN_KEYS = frozenset({
    "aws:principalarn", "aws:principalaccount", "aws:principaltype", "aws:userid",
    "aws:requestedregion", "aws:currenttime", "aws:epochtime", "aws:securetransport",
    "aws:sourceip", "aws:sourceaccount", "aws:sourcearn", "aws:viaawsservice",
    "aws:calledvia", "iam:passedtoservice", "iam:policyarn",
})
_NEGATED = ("StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals",
            "ArnNotLike", "NumericNotEquals", "DateNotEquals", "NotIpAddress")
_OPERATORS = frozenset({
    "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
    "StringLike", "StringNotLike", "ArnEquals", "ArnNotEquals", "ArnLike", "ArnNotLike",
    "Bool", "Null", "NumericEquals", "NumericNotEquals", "NumericLessThan",
    "NumericLessThanEquals", "NumericGreaterThan", "NumericGreaterThanEquals", "DateEquals",
    "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan",
    "DateGreaterThanEquals", "IpAddress", "NotIpAddress", "BinaryEquals"})

#: The policy language versions IAM accepts.
VERSIONS = ("2012-10-17", "2008-10-17")


class PolicyError(ValueError):
    """The document is not a valid IAM policy; the message says why, as IAM's
    MalformedPolicyDocument does."""


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement of a policy, normalised (single values become tuples)."""

    effect: str
    """``Allow`` or ``Deny``."""
    actions: tuple[str, ...] | None
    """Action patterns, or None when the statement uses NotAction."""
    not_actions: tuple[str, ...] | None
    """NotAction patterns."""
    resources: tuple[str, ...] | None
    """Resource patterns, or None when the statement uses NotResource."""
    not_resources: tuple[str, ...] | None
    """NotResource patterns."""
    principal: Any
    """The Principal element (trust policies), None when absent."""
    condition: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    """The Condition: (operator, key, values) tests, all of which must hold."""

    @property
    def conditional(self) -> bool:
        """Whether the statement has a Condition."""
        return bool(self.condition)


def parse(text: str, *, trust: bool = False) -> list[Statement]:
    """The statements of a policy document; raises PolicyError when it is malformed.
    ``trust``: a role's trust policy, whose statements name a Principal and need no
    Resource."""
    try:
        document = json.loads(text)
    except ValueError:
        raise PolicyError("Syntax errors in policy.") from None
    if not isinstance(document, dict):
        raise PolicyError("Syntax errors in policy.")
    version = document.get("Version")
    if version is not None and version not in VERSIONS:
        raise PolicyError("The policy must contain a valid version string")
    raw = document.get("Statement")
    if raw is None:
        raise PolicyError("Missing required field Statement")
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise PolicyError("Missing required field Statement")
    return [_statement(item, trust) for item in items]


def _statement(item: Any, trust: bool) -> Statement:
    if not isinstance(item, dict):
        raise PolicyError("Syntax errors in policy.")
    effect = item.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyError("Invalid effect: " + str(effect) if effect is not None
                          else "Missing required field Effect")
    if ("Action" in item) == ("NotAction" in item):
        raise PolicyError("Policy statement must contain actions."
                          if "Action" not in item else
                          "Policy statement must contain Action or NotAction, not both.")
    has_resource = "Resource" in item or "NotResource" in item
    if "Resource" in item and "NotResource" in item:
        raise PolicyError("Policy statement must contain Resource or NotResource, not both.")
    if not trust and not has_resource:
        raise PolicyError("Policy statement must contain resources.")
    if trust and "Principal" not in item and "NotPrincipal" not in item:
        raise PolicyError("Has prohibited field Resource" if has_resource
                          else "Missing required field Principal")
    if not trust and ("Principal" in item or "NotPrincipal" in item):
        raise PolicyError("Policy document should not specify a principal.")
    actions = _patterns(item, "Action")
    for action in actions or _patterns(item, "NotAction") or ():
        if action != "*" and ":" not in action:
            raise PolicyError("Actions/Conditions must be prefaced by a vendor, e.g., iam, "
                              "sdb, ec2, etc.")
    return Statement(effect, actions, _patterns(item, "NotAction"), _patterns(item, "Resource"),
                     _patterns(item, "NotResource"), item.get("Principal"),
                     _condition(item.get("Condition")) if "Condition" in item else ())


def _condition(raw: Any) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    if not isinstance(raw, dict) or not raw:
        raise PolicyError("Syntax errors in policy: Condition must be an object.")
    tests = []
    for operator, block in raw.items():
        base = operator.split(":", 1)[-1] if operator.startswith(("ForAnyValue:",
                                                                    "ForAllValues:")) else operator
        base = base.removesuffix("IfExists")
        if base not in _OPERATORS or not isinstance(block, dict) or not block:
            raise PolicyError(f"Invalid Condition type : {operator}.")
        for key, value in block.items():
            values = value if isinstance(value, list) else [value]
            if not values or not all(isinstance(v, (str, bool, int, float)) for v in values):
                raise PolicyError(f"Syntax errors in policy: Condition {operator} {key}.")
            tests.append((operator, str(key),
                          tuple(str(v).lower() if isinstance(v, bool) else str(v)
                                for v in values)))
    return tuple(tests)


def _patterns(item: dict[str, Any], key: str) -> tuple[str, ...] | None:
    if key not in item:
        return None
    value = item[key]
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, str) and v for v in values):
        raise PolicyError(f"Syntax errors in policy: {key} must be a string or a list of "
                          "strings.")
    return tuple(values)


def evaluate(policies: list[list[Statement]], action: str, resource: str,
             context: Context | None = None) -> Decision:
    """The decision of a principal's identity-based ``policies`` on ``action`` (``service:
    Operation``) over ``resource`` (an ARN), with the request's condition ``context``."""
    allowed = False
    for statements in policies:
        for statement in statements:
            if not _applies(statement, action, resource):
                continue
            if statement.effect == "Deny":
                if conditions_hold(statement, context or {}) is not False:
                    return "explicit_deny"  # holds, or tests a key we cannot supply
            elif conditions_hold(statement, context or {}) is True:
                allowed = True
    return "allow" if allowed else "implicit_deny"


def conditions_hold(statement: Statement, context: Context) -> bool | None:
    """Whether every test of the statement's Condition holds in ``context``; None when one
    tests a key statewright cannot supply (the caller fails closed)."""
    known = {key.lower(): value for key, value in context.items()}
    unknown = False
    for operator, key, values in statement.condition:
        lowered = key.lower()
        if lowered not in KNOWN_KEYS and lowered not in known:
            unknown = True
            continue
        if not _test(operator, known.get(lowered), values):
            return False
    return None if unknown else True


def _test(operator: str, present: str | list[str] | None, wanted: tuple[str, ...]) -> bool:
    quantifier = ""
    if operator.startswith(("ForAnyValue:", "ForAllValues:")):
        quantifier, operator = operator.split(":", 1)
    if_exists = operator.endswith("IfExists")
    operator = operator.removesuffix("IfExists")
    if operator == "Null":  # "true": the key is absent
        return (present is None) == (wanted[0].lower() == "true")
    if present is None:
        return if_exists or operator in _NEGATED or quantifier == "ForAllValues"
    items = present if isinstance(present, list) else [present]
    negated = operator in _NEGATED
    positive = operator.replace("Not", "", 1) if negated else operator

    def matches(value: str) -> bool:
        return any(_compare(positive, value, w) for w in wanted)

    if quantifier == "ForAllValues":
        return all(matches(v) != negated for v in items)
    hit = any(matches(v) for v in items)
    return not hit if negated else hit


def _compare(operator: str, value: str, wanted: str) -> bool:
    try:
        match operator:
            case "StringEquals" | "ArnEquals" | "BinaryEquals":
                return value == wanted
            case "StringEqualsIgnoreCase":
                return value.lower() == wanted.lower()
            case "StringLike" | "ArnLike":
                return _resource_pattern(wanted).fullmatch(value) is not None
            case "Bool":
                return value.lower() == wanted.lower()
            case "IpAddress":
                return ipaddress.ip_address(value) in ipaddress.ip_network(wanted, strict=False)
        if operator.startswith("Numeric"):
            return _ordered(operator.removeprefix("Numeric"), float(value), float(wanted))
        if operator.startswith("Date"):
            return _ordered(operator.removeprefix("Date"), _instant(value), _instant(wanted))
    except ValueError:
        return False
    return False


def _ordered(relation: str, left: float, right: float) -> bool:
    return {"Equals": left == right, "LessThan": left < right,
            "LessThanEquals": left <= right, "GreaterThan": left > right,
            "GreaterThanEquals": left >= right}[relation]


def _instant(text: str) -> float:
    """Epoch seconds of an ISO 8601 date or an epoch number."""
    try:
        return float(text)
    except ValueError:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).timestamp()


def trusts_service(statements: list[Statement], service: str,
                   context: Context | None = None) -> bool:
    """Whether a trust policy lets the AWS service principal ``service`` (e.g.
    ``states.amazonaws.com``, or its regional form) assume the role; ``context``: the
    assumption's condition keys (``aws:SourceAccount``, ``aws:SourceArn``)."""
    regional = re.compile(re.escape(service.split(".")[0]) + r"(\.[a-z0-9-]+)?\.amazonaws\.com")
    allowed = False
    for statement in statements:
        if not _matches_any(statement.actions, statement.not_actions, "sts:AssumeRole",
                            _action_pattern):
            continue
        principal = statement.principal
        services = principal.get("Service") if isinstance(principal, dict) else None
        names = services if isinstance(services, list) else [services]
        named = principal == "*" or any(
            isinstance(n, str) and regional.fullmatch(n) for n in names)
        if not named:
            continue
        holds = conditions_hold(statement, context or {})
        if statement.effect == "Deny":
            if holds is not False:
                return False
            continue
        allowed = allowed or holds is True
    return allowed


def _applies(statement: Statement, action: str, resource: str) -> bool:
    return (_matches_any(statement.actions, statement.not_actions, action, _action_pattern)
            and _matches_any(statement.resources, statement.not_resources, resource,
                             _resource_pattern))


def _matches_any(patterns: tuple[str, ...] | None, not_patterns: tuple[str, ...] | None,
                 value: str, compile_: Any) -> bool:
    if patterns is not None:
        return any(compile_(p).fullmatch(value) for p in patterns)
    if not_patterns is not None:
        return not any(compile_(p).fullmatch(value) for p in not_patterns)
    return True  # a trust statement has no Resource


@cache
def _action_pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(_wildcards(pattern), re.IGNORECASE | re.DOTALL)


@cache
def _resource_pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(_wildcards(pattern), re.DOTALL)


def _wildcards(pattern: str) -> str:
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
