"""Errors at the edges, with AWS's code and HTTP status, so the API answers as AWS does.

The tree (the ASL core's own errors are values; see ``statewright.asl.errors``)::

    Exception
     +-- AwsError(code, status, message)        what the API sends as {"__type", "message"}
          +-- ValidationException               a request field is missing or malformed
          +-- InvalidArn                        an ARN that does not parse
          +-- InvalidName                       a name with forbidden characters or too long
          +-- InvalidDefinition                 the ASL definition has faults
          +-- InvalidExecutionInput             the input is not a JSON object/value
          +-- StateMachineDoesNotExist
          +-- StateMachineAlreadyExists
          +-- ExecutionDoesNotExist
          +-- ExecutionAlreadyExists
          +-- ExecutionLimitExceeded
          +-- ActivityDoesNotExist
          +-- ActivityAlreadyExists             the name is taken with another configuration
          +-- ResourceNotFound                  tags on an unknown resource
          +-- InvalidToken                      a nextToken or task token we did not issue
          +-- InvalidOutput                     SendTaskSuccess output that is not JSON
          +-- TaskDoesNotExist                  a task token of an unknown execution
          +-- TaskTimedOut                      the task is no longer waiting for this token
          +-- StateMachineTypeNotSupported      StartSyncExecution on a STANDARD machine
          +-- ServiceUnavailable                the database is unreachable (HTTP 503)
          +-- ThrottlingException               the database is busy, or other writers kept
          |                                     winning the race for an execution (HTTP 400,
          |                                     botocore retries it)
          |   Lambda's (REST: the code travels in the x-amzn-ErrorType header, the HTTP
          |   status means something, the body is {"Type": "User", "message": ...}):
          +-- ResourceNotFoundException         no such function (HTTP 404)
          +-- ResourceConflictException         the function name is taken (HTTP 409)
          +-- InvalidParameterValueException    a value Lambda refuses: runtime, zip...
          +-- InvalidRequestContentException    the body is not JSON, or of the wrong types
          +-- RequestEntityTooLargeException    a payload or package over Lambda's quota (413)
          +-- PreconditionFailedException       the RevisionId given is not current (412)
          +-- ServiceException                  Lambda's internal failure (HTTP 500)
          |   IAM's (Query protocol: XML <ErrorResponse>, ``api/iam.py``):
          +-- NoSuchEntity                      no such role, policy or attachment (404)
          +-- EntityAlreadyExists               the role or policy name is taken (409)
          +-- DeleteConflict                    a role with policies, an attached policy (409)
          +-- MalformedPolicyDocument           a policy that is not valid IAM JSON
          +-- ValidationError                   a malformed IAM parameter
          +-- InvalidInput                      an IAM value out of range
          +-- AccessDeniedException             Step Functions: the role cannot be assumed
          +-- ServiceUnavailableException       Lambda's: the database is unreachable (503)
          +-- TooManyRequestsException          Lambda's: the database is busy, or a function
                                                is at its concurrency limit (HTTP 429)
"""

from __future__ import annotations


class AwsError(Exception):
    """An error as AWS reports it: code (``__type``), HTTP status and message."""

    code = "InternalFailure"
    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _error(name: str, status: int = 400) -> type[AwsError]:
    return type(name, (AwsError,), {"code": name, "status": status, "__doc__": name})


ValidationException = _error("ValidationException")
InvalidArn = _error("InvalidArn")
InvalidName = _error("InvalidName")
InvalidDefinition = _error("InvalidDefinition")
InvalidExecutionInput = _error("InvalidExecutionInput")
StateMachineDoesNotExist = _error("StateMachineDoesNotExist")
StateMachineAlreadyExists = _error("StateMachineAlreadyExists")
StateMachineDeleting = _error("StateMachineDeleting")
ExecutionDoesNotExist = _error("ExecutionDoesNotExist")
ExecutionAlreadyExists = _error("ExecutionAlreadyExists")
ExecutionLimitExceeded = _error("ExecutionLimitExceeded")
ActivityDoesNotExist = _error("ActivityDoesNotExist")
ActivityAlreadyExists = _error("ActivityAlreadyExists")
ResourceNotFound = _error("ResourceNotFound")
InvalidToken = _error("InvalidToken")
InvalidOutput = _error("InvalidOutput")
TaskDoesNotExist = _error("TaskDoesNotExist")
TaskTimedOut = _error("TaskTimedOut")
StateMachineTypeNotSupported = _error("StateMachineTypeNotSupported")
ServiceUnavailable = _error("ServiceUnavailable", 503)
ThrottlingException = _error("ThrottlingException")

# Lambda's errors. Their names collide with no Step Functions error: ResourceNotFound (above)
# is Step Functions' tag error, ResourceNotFoundException Lambda's.
ResourceNotFoundException = _error("ResourceNotFoundException", 404)
ResourceConflictException = _error("ResourceConflictException", 409)
InvalidParameterValueException = _error("InvalidParameterValueException")
InvalidRequestContentException = _error("InvalidRequestContentException")
RequestEntityTooLargeException = _error("RequestEntityTooLargeException", 413)
PreconditionFailedException = _error("PreconditionFailedException", 412)
ServiceException = _error("ServiceException", 500)

# IAM's errors (issue 12): codes as IAM's Query protocol sends them.
NoSuchEntity = _error("NoSuchEntity", 404)
EntityAlreadyExists = _error("EntityAlreadyExists", 409)
DeleteConflict = _error("DeleteConflict", 409)
MalformedPolicyDocument = _error("MalformedPolicyDocument")
ValidationError = _error("ValidationError")
InvalidInput = _error("InvalidInput")
# Step Functions' refusal of a role it cannot assume (``serve --iam strict``).
AccessDeniedException = _error("AccessDeniedException")
ServiceUnavailableException = _error("ServiceUnavailableException", 503)


class TooManyRequestsException(AwsError):
    """Lambda's throttle (HTTP 429): the database is busy, or an invocation past a concurrency
    limit; ``reason`` is then the body's ``Reason`` (a ThrottleReason)."""

    code = "TooManyRequestsException"
    status = 429

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
