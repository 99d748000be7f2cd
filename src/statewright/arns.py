"""ARNs in AWS's formats, and the names they carry."""

from __future__ import annotations

import re
from dataclasses import dataclass

from statewright.errors import InvalidArn, InvalidName

# Forbidden in state machine, execution and activity names (botocore's StartExecution docs):
# whitespace, brackets, wildcards, specials, control characters.
_FORBIDDEN = re.compile(r"[\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True, slots=True)
class Partition:
    """Where resources live: every ARN statewright makes names this region and account."""

    region: str = "us-east-1"
    """AWS region in ARNs."""
    account: str = "123456789012"
    """Account id in ARNs."""

    def state_machine(self, name: str) -> str:
        return f"arn:aws:states:{self.region}:{self.account}:stateMachine:{name}"

    def execution(self, state_machine_name: str, name: str) -> str:
        return f"arn:aws:states:{self.region}:{self.account}:execution:{state_machine_name}:{name}"

    def express_execution(self, state_machine_name: str, name: str, run_id: str) -> str:
        return (f"arn:aws:states:{self.region}:{self.account}:express:{state_machine_name}:"
                f"{name}:{run_id}")

    def activity(self, name: str) -> str:
        return f"arn:aws:states:{self.region}:{self.account}:activity:{name}"


def check_name(name: str, what: str = "name") -> str:
    """AWS's naming rule for state machines, executions and activities (1-80 characters)."""
    if not 1 <= len(name) <= 80 or _FORBIDDEN.search(name):
        raise InvalidName(f"Invalid Name: '{name}'")
    return name


def parse_state_machine_arn(arn: str) -> tuple[str, str, str]:
    """``(region, account, name)`` of a state machine ARN; raises InvalidArn."""
    parts = arn.split(":") if isinstance(arn, str) else []
    if len(parts) != 7 or parts[:3] != ["arn", "aws", "states"] or parts[5] != "stateMachine":
        raise InvalidArn(f"Invalid Arn: 'Resource type not valid in this context: {arn}'"
                         if len(parts) >= 6 else f"Invalid Arn: '{arn}'")
    return parts[3], parts[4], parts[6]


def parse_activity_arn(arn: str) -> tuple[str, str, str]:
    """``(region, account, name)`` of an activity ARN; raises InvalidArn."""
    parts = arn.split(":") if isinstance(arn, str) else []
    if len(parts) != 7 or parts[:3] != ["arn", "aws", "states"] or parts[5] != "activity":
        raise InvalidArn(f"Invalid Arn: 'Resource type not valid in this context: {arn}'"
                         if len(parts) >= 6 else f"Invalid Arn: '{arn}'")
    return parts[3], parts[4], parts[6]


def parse_execution_arn(arn: str) -> tuple[str, str, str, str]:
    """``(region, account, state machine name, execution name)``; raises InvalidArn."""
    parts = arn.split(":") if isinstance(arn, str) else []
    if len(parts) != 8 or parts[:3] != ["arn", "aws", "states"] or parts[5] not in (
        "execution", "express"
    ):
        raise InvalidArn(f"Invalid Arn: '{arn}'")
    return parts[3], parts[4], parts[6], parts[7]


#: A Lambda function as the API names it: a name, a partial ARN (ACCOUNT:function:NAME) or a
#: full ARN, each with an optional qualifier (botocore's FunctionName pattern, simplified).
_FUNCTION = re.compile(
    r"(?:arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:)?(?:\d{12}:)?(?:function:)?"
    r"(?P<name>[a-zA-Z0-9_-]+)(?::(?P<qualifier>\$LATEST|[a-zA-Z0-9_-]+))?"
)
#: Lambda's limit on a plain function name (the longer limits of the model are for ARNs).
MAX_FUNCTION_NAME = 64


def function_arn(partition: Partition, name: str, qualifier: str | None = None) -> str:
    """``arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]``."""
    arn = f"arn:aws:lambda:{partition.region}:{partition.account}:function:{name}"
    return arn if qualifier is None else f"{arn}:{qualifier}"


def parse_function_name(value: str) -> tuple[str, str | None]:
    """``(name, qualifier)`` of a function given by name or ARN, whatever region and account
    the ARN names (definitions run unchanged). Raises ValueError when it is neither."""
    match = _FUNCTION.fullmatch(value) if isinstance(value, str) else None
    if match is None or len(match["name"]) > MAX_FUNCTION_NAME:
        raise ValueError(f"not a function name or ARN: {value!r}")
    return match["name"], match["qualifier"]
