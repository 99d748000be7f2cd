"""The ``context`` object handed to a handler, with the attributes Lambda's Python runtime has."""

from __future__ import annotations

import time


class LambdaContext:
    """Lambda's context: request id, function identity, remaining time."""

    def __init__(
        self,
        function_name: str,
        request_id: str,
        deadline: float,
        *,
        region: str = "us-east-1",
        account: str = "123456789012",
        memory_limit_in_mb: int = 128,
    ) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{account}:function:{function_name}"
        self.memory_limit_in_mb = memory_limit_in_mb
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = f"statewright/{request_id}"
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))
