"""IAM policy documents: checking their shape and evaluating identity-based policies.

A leaf of pure functions (no I/O). ``evaluate`` follows IAM's evaluation logic for the
identity-based policies of one principal: an explicit Deny in any statement wins; otherwise
an Allow in any statement allows; otherwise the request is implicitly denied. A statement
applies when its Action (or NotAction) and Resource (or NotResource) match; ``*`` and ``?``
are wildcards, actions match case-insensitively, resources case-sensitively.

Conditions are not evaluated (statewright knows none of the context keys they test). A
statement with a Condition is read the safe way: an Allow with a condition does not allow, a
Deny with a condition denies.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

Decision = Literal["allow", "implicit_deny", "explicit_deny"]

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
    conditional: bool
    """Whether the statement has a Condition."""


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
                     "Condition" in item)


def _patterns(item: dict[str, Any], key: str) -> tuple[str, ...] | None:
    if key not in item:
        return None
    value = item[key]
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, str) and v for v in values):
        raise PolicyError(f"Syntax errors in policy: {key} must be a string or a list of "
                          "strings.")
    return tuple(values)


def evaluate(policies: list[list[Statement]], action: str, resource: str) -> Decision:
    """The decision of a principal's identity-based ``policies`` on ``action`` (``service:
    Operation``) over ``resource`` (an ARN)."""
    allowed = False
    for statements in policies:
        for statement in statements:
            if not _applies(statement, action, resource):
                continue
            if statement.effect == "Deny":
                return "explicit_deny"
            if not statement.conditional:
                allowed = True
    return "allow" if allowed else "implicit_deny"


def trusts_service(statements: list[Statement], service: str) -> bool:
    """Whether a trust policy lets the AWS service principal ``service`` (e.g.
    ``states.amazonaws.com``, or its regional form) assume the role."""
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
        if statement.effect == "Deny":
            return False
        allowed = allowed or not statement.conditional
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
