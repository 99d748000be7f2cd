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


def parse_execution_arn(arn: str) -> tuple[str, str, str, str]:
    """``(region, account, state machine name, execution name)``; raises InvalidArn."""
    parts = arn.split(":") if isinstance(arn, str) else []
    if len(parts) != 8 or parts[:3] != ["arn", "aws", "states"] or parts[5] not in (
        "execution", "express"
    ):
        raise InvalidArn(f"Invalid Arn: '{arn}'")
    return parts[3], parts[4], parts[6], parts[7]
