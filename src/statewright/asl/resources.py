"""Task ``Resource`` ARNs, classified once at parse time.

A Lambda function ARN (``arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]``) resolves to
the local function NAME whatever the region and account, so definitions run unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["lambda_function", "service", "activity"]
Pattern = Literal["request_response", "sync", "sync2", "wait_for_task_token"]


@dataclass(frozen=True, slots=True)
class Resource:
    """A classified Task resource."""

    arn: str
    """The ARN as written."""
    kind: Kind
    """Lambda function ARN, ``arn:aws:states:::service:api`` integration, or an activity."""
    service: str = ""
    """Integration service (``lambda``, ``sqs``...); ``lambda`` for a function ARN."""
    api: str = ""
    """Integration API (``invoke``); for an activity or function, empty."""
    pattern: Pattern = "request_response"
    """Integration pattern from the ARN suffix."""
    function_name: str | None = None
    """Function name of a Lambda function ARN."""
    qualifier: str | None = None
    """Version or alias of a Lambda function ARN."""
    activity_name: str | None = None
    """Name of an activity ARN."""

    @property
    def history_resource(self) -> str:
        """The ``resource`` AWS writes in Task* history events (``invoke`` for lambda:invoke)."""
        return self.api + {"sync": ".sync", "sync2": ".sync:2",
                           "wait_for_task_token": ".waitForTaskToken"}.get(self.pattern, "")


def classify_resource(arn: str) -> Resource:
    """Classifies a Resource ARN; unknown shapes become a ``service`` resource named by the ARN."""
    parts = arn.split(":")
    if len(parts) >= 7 and parts[0] == "arn" and parts[2] == "lambda" and parts[5] == "function":
        qualifier = parts[7] if len(parts) > 7 else None
        return Resource(arn, "lambda_function", service="lambda",
                        function_name=parts[6], qualifier=qualifier)
    if len(parts) >= 7 and parts[0] == "arn" and parts[2] == "states" and parts[5] == "activity":
        return Resource(arn, "activity", activity_name=parts[6])
    if len(parts) >= 7 and parts[0] == "arn" and parts[2] == "states" and parts[3] == "":
        service = parts[5]
        api = ":".join(parts[6:])
        pattern: Pattern = "request_response"
        if api.endswith(".sync:2"):
            api, pattern = api.removesuffix(".sync:2"), "sync2"
        elif api.endswith(".sync"):
            api, pattern = api.removesuffix(".sync"), "sync"
        elif api.endswith(".waitForTaskToken"):
            api, pattern = api.removesuffix(".waitForTaskToken"), "wait_for_task_token"
        return Resource(arn, "service", service=service, api=api, pattern=pattern)
    return Resource(arn, "service", service=arn, api="")
