"""The IAM subset a Step Functions + Lambda deployment needs, and its enforcement.

Roles (with the trust policy saying who may assume them), their inline policies, customer
managed policies and attachments, stored in the database; the AWS managed policies the
Step Functions and Lambda tutorials attach are built in (``MANAGED``). Errors and messages
are IAM's (NoSuchEntity, EntityAlreadyExists, DeleteConflict, MalformedPolicyDocument).

Enforcement: a state machine whose ``roleArn`` names a role stored here has that role's
policies checked before each Task calls a function (``invoke_denial``); a denial is the
Lambda error AWS reports, so Retry and Catch see it. A role that does not exist here is not
enforced (the tutorials' example ARNs keep working) unless ``Settings.iam_strict``, where
CreateStateMachine/UpdateStateMachine refuse a role that does not exist or does not trust
``states.amazonaws.com`` (``check_assumable``), as AWS does.
"""

from __future__ import annotations

import json
import re
import secrets
import time
import uuid
from collections.abc import Callable
from functools import lru_cache

from statewright import errors
from statewright.arns import Partition, function_arn
from statewright.asl.errors import Failure
from statewright.runtime import policy
from statewright.store.base import AlreadyExists, PolicyRecord, RoleRecord, Store

_NAME = re.compile(r"[\w+=,.@-]{1,64}")
_POLICY_NAME = re.compile(r"[\w+=,.@-]{1,128}")
_PATH = re.compile(r"/|/[\x21-\x7e]*/")
_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::(?P<account>\d{12}):role/(?:[\x21-\x7e]*/)?"
                       r"(?P<name>[\w+=,.@-]{1,64})")
_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
INVOKE_ACTION = "lambda:InvokeFunction"
STATES_PRINCIPAL = "states.amazonaws.com"


def _document(*statements: dict[str, object]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


#: AWS managed policies the Step Functions + Lambda tutorials attach, by ARN: their
#: statements as AWS publishes them (AWSLambdaRole: "Default policy for AWS Lambda service
#: role"; AWSLambda_FullAccess reduced to its lambda and states statements).
MANAGED: dict[str, tuple[str, str]] = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaRole": ("/service-role/", _document(
        {"Effect": "Allow", "Action": ["lambda:InvokeFunction"], "Resource": ["*"]})),
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole": (
        "/service-role/", _document({
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "*"})),
    "arn:aws:iam::aws:policy/AWSStepFunctionsFullAccess": ("/", _document(
        {"Effect": "Allow", "Action": "states:*", "Resource": "*"},
        {"Effect": "Allow", "Action": "iam:PassRole",
         "Resource": "arn:aws:iam::*:role/service-role/StepFunctions*"})),
    "arn:aws:iam::aws:policy/AWSStepFunctionsReadOnlyAccess": ("/", _document(
        {"Effect": "Allow",
         "Action": ["states:ListStateMachines", "states:ListActivities",
                    "states:Describe*", "states:GetExecutionHistory",
                    "states:ListExecutions", "states:ListTagsForResource"],
         "Resource": "*"})),
    "arn:aws:iam::aws:policy/AWSLambda_FullAccess": ("/", _document(
        {"Effect": "Allow", "Action": ["lambda:*", "states:DescribeStateMachine",
                                       "states:ListStateMachines"], "Resource": "*"})),
}


class IamOps:
    """IAM's role and policy operations over a store."""

    def __init__(self, store: Store, partition: Partition,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.partition = partition
        self.clock = clock

    # ------------------------------------------------------------------ roles

    def create_role(self, name: str, trust_policy: str, path: str | None = None,
                    description: str | None = None, max_session: int | None = None
                    ) -> RoleRecord:
        _check_name(name, "roleName")
        path = _check_path(path)
        _check_document(trust_policy, "assumeRolePolicyDocument", trust=True)
        duration = 3600 if max_session is None else max_session
        if not 3600 <= duration <= 43200:
            raise errors.ValidationError(
                f"1 validation error detected: Value '{duration}' at 'maxSessionDuration' "
                "failed to satisfy constraint: Member must have value less than or equal to "
                "43200 and greater than or equal to 3600")
        record = RoleRecord(
            name, f"arn:aws:iam::{self.partition.account}:role{path}{name}", _new_id("AROA"),
            path, trust_policy, description or "", duration, self.clock())
        try:
            self.store.create_role(record)
        except AlreadyExists:
            raise errors.EntityAlreadyExists(f"Role with name {name} already exists.") from None
        return record

    def get_role(self, name: str) -> RoleRecord:
        record = self.store.get_role(name)
        if record is None:
            raise errors.NoSuchEntity(f"The role with name {name} cannot be found.")
        return record

    def list_roles(self, prefix: str = "/") -> list[RoleRecord]:
        return [r for r in self.store.list_roles() if r.path.startswith(prefix)]

    def update_trust_policy(self, name: str, document: str) -> None:
        _check_document(document, "policyDocument", trust=True)
        if not self.store.update_assume_role_policy(name, document):
            raise errors.NoSuchEntity(f"The role with name {name} cannot be found.")

    def delete_role(self, name: str) -> None:
        self.get_role(name)
        if self.store.list_role_policies(name):
            raise errors.DeleteConflict("Cannot delete entity, must delete policies first.")
        if self.store.list_attached_role_policies(name):
            raise errors.DeleteConflict("Cannot delete entity, must detach all policies first.")
        if not self.store.delete_role(name):  # a policy was added meanwhile
            raise errors.DeleteConflict("Cannot delete entity, must delete policies first.")

    # ------------------------------------------------------------------ inline policies

    def put_role_policy(self, role: str, policy_name: str, document: str) -> None:
        _check_name(policy_name, "policyName", _POLICY_NAME)
        _check_document(document, "policyDocument")
        self.get_role(role)
        self.store.put_role_policy(role, policy_name, document)

    def get_role_policy(self, role: str, policy_name: str) -> str:
        self.get_role(role)
        document = self.store.get_role_policy(role, policy_name)
        if document is None:
            raise errors.NoSuchEntity(
                f"The role policy with name {policy_name} cannot be found.")
        return document

    def list_role_policies(self, role: str) -> list[str]:
        self.get_role(role)
        return [name for name, _ in self.store.list_role_policies(role)]

    def delete_role_policy(self, role: str, policy_name: str) -> None:
        self.get_role(role)
        if not self.store.delete_role_policy(role, policy_name):
            raise errors.NoSuchEntity(
                f"The role policy with name {policy_name} cannot be found.")

    # ------------------------------------------------------------------ managed policies

    def create_policy(self, name: str, document: str, path: str | None = None,
                      description: str | None = None) -> PolicyRecord:
        _check_name(name, "policyName", _POLICY_NAME)
        path = _check_path(path)
        _check_document(document, "policyDocument")
        record = PolicyRecord(
            f"arn:aws:iam::{self.partition.account}:policy{path}{name}", name,
            _new_id("ANPA"), path, document, description or "", self.clock())
        try:
            self.store.create_policy(record)
        except AlreadyExists:
            raise errors.EntityAlreadyExists(
                f"A policy called {name} already exists. Duplicate names are not allowed."
            ) from None
        return record

    def get_policy(self, arn: str) -> PolicyRecord:
        managed = MANAGED.get(arn)
        if managed is not None:
            path, document = managed
            return PolicyRecord(arn, arn.rsplit("/", 1)[1], "ANPA" + _stable_id(arn), path,
                                document, "", 0.0)
        record = self.store.get_policy(arn)
        if record is None:
            raise errors.NoSuchEntity(f"Policy {arn} was not found.")
        return record

    def list_policies(self, scope: str = "All") -> list[PolicyRecord]:
        found = [] if scope == "Local" else [self.get_policy(arn) for arn in sorted(MANAGED)]
        return found + ([] if scope == "AWS" else self.store.list_policies())

    def delete_policy(self, arn: str) -> None:
        if arn in MANAGED:
            raise errors.AwsError("Cannot delete an AWS managed policy.")  # never reached by IAM
        self.get_policy(arn)
        if self.store.count_policy_attachments(arn) or not self.store.delete_policy(arn):
            raise errors.DeleteConflict("Cannot delete a policy attached to entities.")

    def attach_role_policy(self, role: str, arn: str) -> None:
        self.get_role(role)
        if arn not in MANAGED and self.store.get_policy(arn) is None:
            raise errors.NoSuchEntity(f"Policy {arn} does not exist or is not attachable.")
        self.store.attach_role_policy(role, arn)

    def detach_role_policy(self, role: str, arn: str) -> None:
        self.get_role(role)
        if not self.store.detach_role_policy(role, arn):
            raise errors.NoSuchEntity(f"Policy {arn} was not found.")

    def list_attached_role_policies(self, role: str) -> list[str]:
        self.get_role(role)
        return self.store.list_attached_role_policies(role)

    # ------------------------------------------------------------------ enforcement

    def role_for(self, role_arn: str) -> RoleRecord | None:
        """The stored role ``role_arn`` names (same account, name and path), else None."""
        match = _ROLE_ARN.fullmatch(role_arn)
        if match is None:
            return None
        role = self.store.get_role(match["name"])
        return role if role is not None and role.arn == role_arn else None

    def role_arn(self, name: str) -> str:
        """The ARN of the role ``name``: the stored one's (with its path), else ``role/NAME``
        (what a request about a missing role is authorised on)."""
        role = self.store.get_role(name)
        if role is not None:
            return role.arn
        return f"arn:aws:iam::{self.partition.account}:role/{name}"

    def check_assumable(self, role_arn: str, state_machine_arn: str | None = None) -> None:
        """Strict mode: the role must exist here and trust Step Functions; else AWS's
        refusal of CreateStateMachine. A trust policy's confused-deputy conditions see
        ``aws:SourceAccount`` and ``aws:SourceArn`` (the state machine)."""
        role = self.role_for(role_arn)
        source = {"aws:SourceAccount": self.partition.account,
                  **({"aws:SourceArn": state_machine_arn} if state_machine_arn else {})}
        if role is None or not policy.trusts_service(
                _parsed(role.assume_role_policy, True), STATES_PRINCIPAL, source):
            raise errors.AccessDeniedException(
                "Neither the global service principal states.amazonaws.com, nor the regional "
                "one is authorized to assume the provided role.")

    def invoke_denial(self, role_arn: str, function_name: str, resource: str | None = None,
                      strict: bool = False) -> Failure | None:
        """None when the role may invoke the function (or is not enforced); else the Task
        failure AWS reports when the role lacks lambda:InvokeFunction. ``resource`` is the
        function's ARN as the definition gives it (default: the ARN in this partition)."""
        role = self.role_for(role_arn)
        resource = resource or function_arn(self.partition, function_name)
        if role is None:
            if not strict:
                return None
            return _denied(f"arn:aws:sts::{self.partition.account}:assumed-role/"
                           f"{role_arn.rsplit('/', 1)[-1]}", resource, "implicit_deny")
        decision = policy.evaluate(self.policies_of(role), INVOKE_ACTION, resource,
                                   self.context(role, secure=True))
        if decision == "allow":
            return None
        principal = f"arn:aws:sts::{self.partition.account}:assumed-role/{role.name}"
        return _denied(principal, resource, decision)

    def decide(self, role: RoleRecord, action: str, resource: str,
               context: policy.Context) -> policy.Decision:
        """The role's decision on ``action`` over ``resource`` (a request's authorisation)."""
        return policy.evaluate(self.policies_of(role), action, resource, context)

    def context(self, role: RoleRecord, session: str = "", secure: bool = False,
                extra: policy.Context | None = None) -> dict[str, str | list[str]]:
        """The condition keys of a request made by a session of the role."""
        now = self.clock()
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
        return {"aws:PrincipalArn": role.arn, "aws:PrincipalAccount": self.partition.account,
                "aws:PrincipalType": "AssumedRole",
                "aws:userid": f"{role.role_id}:{session}" if session else role.role_id,
                "aws:RequestedRegion": self.partition.region, "aws:CurrentTime": stamp,
                "aws:EpochTime": str(int(now)), "aws:SecureTransport": str(secure).lower(),
                "aws:ViaAWSService": "false", **(extra or {})}

    def policies_of(self, role: RoleRecord) -> list[list[policy.Statement]]:
        """The statements of every identity-based policy of the role: inline, attached."""
        documents = [document for _, document in self.store.list_role_policies(role.name)]
        for arn in self.store.list_attached_role_policies(role.name):
            managed = MANAGED.get(arn)
            if managed is not None:
                documents.append(managed[1])
            elif (stored := self.store.get_policy(arn)) is not None:
                documents.append(stored.document)
        return [_parsed(document, False) for document in documents]

    def invocable(self, role_arn: str, function_names: list[str],
                  written: dict[str, str] | None = None) -> dict[str, bool] | None:
        """For the console: which of the functions the role may invoke; None when the
        role is not enforced. ``written``: the ARN a definition names a function by (what
        its Tasks are checked on), else the function's ARN in this partition."""
        role = self.role_for(role_arn)
        if role is None:
            return None
        statements = self.policies_of(role)
        written = written or {}
        context = self.context(role, secure=True)  # as a Task's call is checked
        return {name: policy.evaluate(
                    statements, INVOKE_ACTION,
                    written.get(name) or function_arn(self.partition, name), context) == "allow"
                for name in function_names}


def denial_message(principal: str, action: str, resource: str, decision: str) -> str:
    """AWS's AccessDenied message for an assumed role's session."""
    why = ("with an explicit deny in an identity-based policy" if decision == "explicit_deny"
           else f"because no identity-based policy allows the {action} action")
    return f"User: {principal} is not authorized to perform: {action} on resource: {resource} {why}"


def _denied(principal: str, resource: str, decision: str) -> Failure:
    # AWS's cause, as Step Functions reports a Lambda call its role may not make.
    session = "".join(secrets.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
                      for _ in range(32))
    why = ("with an explicit deny in an identity-based policy" if decision == "explicit_deny"
           else f"because no identity-based policy allows the {INVOKE_ACTION} action")
    return Failure(
        "Lambda.AWSLambdaException",
        f"User: {principal}/{session} is not authorized to perform: {INVOKE_ACTION} on "
        f"resource: {resource} {why} (Service: AWSLambda; Status Code: 403; Error Code: "
        f"AccessDeniedException; Request ID: {uuid.uuid4()}; Proxy: null)")


@lru_cache(maxsize=512)
def _parsed(document: str, trust: bool) -> list[policy.Statement]:
    try:
        return policy.parse(document, trust=trust)
    except policy.PolicyError:
        return []  # stored documents were checked when stored; an unreadable one grants none


def _check_document(document: str, member: str, trust: bool = False) -> None:
    if not isinstance(document, str) or not 1 <= len(document) <= 131072:
        raise errors.ValidationError(
            f"1 validation error detected: Value at '{member}' failed to satisfy constraint: "
            "Member must have length less than or equal to 131072")
    try:
        policy.parse(document, trust=trust)
    except policy.PolicyError as exc:
        raise errors.MalformedPolicyDocument(str(exc)) from None


def _check_name(name: str, member: str, pattern: re.Pattern[str] = _NAME) -> None:
    if not isinstance(name, str) or not pattern.fullmatch(name):
        raise errors.ValidationError(
            f"1 validation error detected: Value '{name}' at '{member}' failed to satisfy "
            r"constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+")


def _check_path(path: str | None) -> str:
    path = "/" if path is None else path
    if not _PATH.fullmatch(path) or len(path) > 512:
        raise errors.ValidationError(
            "The specified value for path is invalid. It must begin and end with / and "
            "contain only alphanumeric characters and/or / characters.")
    return path


def _new_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(17))


def _stable_id(arn: str) -> str:
    digest = uuid.uuid5(uuid.NAMESPACE_URL, arn).hex.upper()
    return digest[:17]


__all__ = ["MANAGED", "IamOps", "PolicyRecord", "RoleRecord"]
