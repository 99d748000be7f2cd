"""What each API request needs from IAM: its actions and resource ARNs.

A request signed with a key bound to a role (``statewright keys create --role``, and every
function's own key) is authorised against that role's policies before it runs
(``api/auth.py``). ``needs`` reads the operation and its resource from the request, as AWS's
Service Authorization Reference maps them:

- Step Functions: ``states:<Operation>`` on the state machine, execution, activity or tagged
  resource the request names; ``ListStateMachines``, ``ListActivities`` and the
  ``SendTask*`` callbacks on ``*`` (no resource type); ``ValidateStateMachineDefinition`` on
  ``stateMachine:*``. CreateStateMachine and UpdateStateMachine with a ``roleArn`` also need
  ``iam:PassRole`` on it (``iam:PassedToService`` = ``states.amazonaws.com``).
- Lambda: ``lambda:<Operation>`` on the function's ARN (Invoke: qualified by ``Qualifier``);
  ListFunctions on ``*``; CreateFunction, and UpdateFunctionConfiguration with a ``Role``,
  also ``iam:PassRole`` (``lambda.amazonaws.com``).
- IAM: ``iam:<Action>`` on the role (``arn:aws:iam::ACCOUNT:role/PATH/NAME``) or policy ARN;
  ListRoles and ListPolicies on ``*``.

A request statewright would answer with an unknown-operation error needs nothing.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl, unquote

from statewright.arns import Partition, function_arn, parse_function_name

#: ``(action, resource ARN, extra condition keys)``.
Need = tuple[str, str, dict[str, str]]

_STATE_MACHINE_OPS = frozenset({
    "DescribeStateMachine", "DeleteStateMachine", "UpdateStateMachine", "StartExecution",
    "StartSyncExecution", "ListExecutions", "PublishStateMachineVersion",
    "ListStateMachineVersions", "ListStateMachineAliases"})
_EXECUTION_OPS = frozenset({
    "DescribeExecution", "StopExecution", "GetExecutionHistory",
    "DescribeStateMachineForExecution", "RedriveExecution"})
_ACTIVITY_OPS = frozenset({"DescribeActivity", "DeleteActivity", "GetActivityTask"})
_TAG_OPS = frozenset({"TagResource", "UntagResource", "ListTagsForResource"})
_ROLE_ACTIONS = frozenset({
    "GetRole", "DeleteRole", "UpdateAssumeRolePolicy", "PutRolePolicy", "GetRolePolicy",
    "ListRolePolicies", "DeleteRolePolicy", "AttachRolePolicy", "DetachRolePolicy",
    "ListAttachedRolePolicies"})
_POLICY_ACTIONS = frozenset({"GetPolicy", "DeletePolicy", "GetPolicyVersion"})
_FUNCTIONS = "/2015-03-31/functions"
_FUNCTION_PATH = re.compile(r"/2015-03-31/functions/(?P<name>[^/]+)(?P<rest>/[a-z]+)?/?")
_LAMBDA_OPERATIONS = {
    ("GET", ""): "GetFunction", ("DELETE", ""): "DeleteFunction",
    ("GET", "/configuration"): "GetFunctionConfiguration",
    ("PUT", "/configuration"): "UpdateFunctionConfiguration",
    ("PUT", "/code"): "UpdateFunctionCode", ("GET", "/code"): "GetFunction",
    ("POST", "/invocations"): "InvokeFunction",
}


def needs(service: str, method: str, path: str, query: str, headers: dict[str, str],
          body: bytes, partition: Partition, role_arn_of: Any) -> list[Need]:
    """What the request needs; ``role_arn_of(name)`` gives a stored role's ARN (IAM)."""
    if service == "lambda":
        return _lambda(method, path, query, body, partition)
    if service == "iam":
        return _iam(query, body, partition, role_arn_of)
    target = headers.get("x-amz-target", "")
    return _states(target.rpartition(".")[2], _json(body), partition)


def _json(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _text(params: dict[str, Any], key: str) -> str:
    value = params.get(key)
    return value if isinstance(value, str) else ""


def _pass_role(role_arn: str, service: str) -> Need:
    return ("iam:PassRole", role_arn, {"iam:PassedToService": service})


def _states(operation: str, params: dict[str, Any], partition: Partition) -> list[Need]:
    if not operation:
        return []
    action = f"states:{operation}"
    found: list[Need] = []
    if operation == "CreateStateMachine":
        found.append((action, partition.state_machine(_text(params, "name")), {}))
    elif operation == "ValidateStateMachineDefinition":
        found.append((action, partition.state_machine("*"), {}))
    elif operation == "CreateActivity":
        found.append((action, partition.activity(_text(params, "name")), {}))
    elif operation in _STATE_MACHINE_OPS:
        arn = _text(params, "stateMachineArn").partition("#")[0]  # ...#TestCase (mocks)
        if operation == "ListExecutions" and not arn:
            arn = _text(params, "mapRunArn")
        found.append((action, arn or "*", {}))
    elif operation in _EXECUTION_OPS:
        found.append((action, _text(params, "executionArn") or "*", {}))
    elif operation in _ACTIVITY_OPS:
        found.append((action, _text(params, "activityArn") or "*", {}))
    elif operation in _TAG_OPS:
        found.append((action, _text(params, "resourceArn") or "*", {}))
    else:  # List*, SendTask*, TestState: no resource type
        found.append((action, "*", {}))
    role = _text(params, "roleArn")
    if role and operation in ("CreateStateMachine", "UpdateStateMachine", "TestState"):
        found.append(_pass_role(role, "states.amazonaws.com"))
    return found


def _lambda(method: str, path: str, query: str, body: bytes,
            partition: Partition) -> list[Need]:
    if path.rstrip("/") == _FUNCTIONS:
        if method == "GET":
            return [("lambda:ListFunctions", "*", {})]
        if method != "POST":
            return []
        params = _json(body)
        created = _function(_text(params, "FunctionName"), None, partition)
        found: list[Need] = [("lambda:CreateFunction", created, {})]
        if _text(params, "Role"):
            found.append(_pass_role(_text(params, "Role"), "lambda.amazonaws.com"))
        return found
    match = _FUNCTION_PATH.fullmatch(path)
    operation = match and _LAMBDA_OPERATIONS.get((method, match["rest"] or ""))
    if match is None or operation is None:
        return []
    qualifier = dict(parse_qsl(query)).get("Qualifier") if operation == "InvokeFunction" \
        else None
    resource = _function(unquote(match["name"]), qualifier, partition)
    found = [(f"lambda:{operation}", resource, {})]
    if operation == "UpdateFunctionConfiguration" and _text(_json(body), "Role"):
        found.append(_pass_role(_text(_json(body), "Role"), "lambda.amazonaws.com"))
    return found


def _function(name: str, qualifier: str | None, partition: Partition) -> str:
    try:
        plain, written = parse_function_name(name)
    except ValueError:
        return function_arn(partition, name)  # refused as malformed by the operation itself
    return function_arn(partition, plain, qualifier or written)


def _iam(query: str, body: bytes, partition: Partition, role_arn_of: Any) -> list[Need]:
    params = dict(parse_qsl(query, keep_blank_values=True))
    params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    action = params.get("Action", "")
    if not action:
        return []
    account = partition.account
    if action == "CreateRole":
        path = params.get("Path") or "/"
        resource = f"arn:aws:iam::{account}:role{path}{params.get('RoleName', '')}"
    elif action in _ROLE_ACTIONS:
        resource = str(role_arn_of(params.get("RoleName", "")))
    elif action == "CreatePolicy":
        path = params.get("Path") or "/"
        resource = f"arn:aws:iam::{account}:policy{path}{params.get('PolicyName', '')}"
    elif action in _POLICY_ACTIONS:
        resource = params.get("PolicyArn", "")
    else:  # ListRoles, ListPolicies
        resource = "*"
    keys = {"iam:PolicyARN": params["PolicyArn"]} if action in (
        "AttachRolePolicy", "DetachRolePolicy") and "PolicyArn" in params else {}
    return [(f"iam:{action}", resource, keys)]
