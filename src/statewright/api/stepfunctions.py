"""The Step Functions operations: checked request members in, the Engine, output members out.

Each operation is a plain function ``(engine, request) -> output``; ``OPERATIONS`` maps AWS's
operation names to them. Requests arrive already checked against the model (``shapes.py``), so
an operation reads its members without re-checking types. Outputs use botocore's member names
and leave out members that have no value, as AWS does.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any, Protocol

from statewright import errors
from statewright.api.protocol import MissingRequiredParameter, Output, epoch
from statewright.api.shapes import history_details_members
from statewright.asl.events import details_member, to_json
from statewright.runtime.engine import Engine
from statewright.runtime.teststate import Mock, TestStateRequest

Request = dict[str, Any]
"""An operation's request members, checked against the model."""
Operation = Callable[[Engine, Request], Output]

#: What AWS reports for a state machine created without logging or tracing settings.
_DEFAULT_LOGGING = {"level": "OFF", "includeExecutionData": False}
_DEFAULT_TRACING = {"enabled": False}
#: Request members kept in the state machine's config and echoed by Describe*.
_CONFIG_MEMBERS = ("loggingConfiguration", "tracingConfiguration", "encryptionConfiguration")
#: Default and largest page sizes (botocore's doc strings: 0 means the default, 100).
_DEFAULT_PAGE = 100
#: Express executions are billed in 100 ms steps of at least 64 MB (AWS pricing page).
_BILLING_STEP_MS = 100
_BILLED_MEMORY_MB = 64


# ----------------------------------------------------------------------------- records
# The API reads Engine records through these views, so it never imports the store.


class _Machine(Protocol):
    @property
    def arn(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def definition(self) -> str: ...
    @property
    def role_arn(self) -> str: ...
    @property
    def revision_id(self) -> str: ...
    @property
    def created_at(self) -> float: ...
    @property
    def updated_at(self) -> float: ...
    @property
    def config(self) -> str: ...


class _Execution(Protocol):
    @property
    def arn(self) -> str: ...
    @property
    def state_machine_arn(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def input(self) -> str: ...
    @property
    def start_date(self) -> float: ...
    @property
    def stop_date(self) -> float | None: ...
    @property
    def output(self) -> str | None: ...
    @property
    def error(self) -> str | None: ...
    @property
    def cause(self) -> str | None: ...


class _Event(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def previous_event_id(self) -> int: ...
    @property
    def timestamp(self) -> float: ...
    @property
    def type(self) -> str: ...
    @property
    def details(self) -> str | None: ...


# ----------------------------------------------------------------------------- state machines


def create_state_machine(engine: Engine, request: Request) -> Output:
    _refuse_versions(request)
    record = engine.create_state_machine(
        request["name"], request["definition"], request["roleArn"],
        type=request.get("type", "STANDARD"), tags=_tags(request.get("tags", [])),
        config=_config(request),
    )
    return {"stateMachineArn": record.arn, "creationDate": epoch(record.created_at)}


def describe_state_machine(engine: Engine, request: Request) -> Output:
    record = engine.describe_state_machine(request["stateMachineArn"])
    return {
        "stateMachineArn": record.arn,
        "name": record.name,
        "status": "ACTIVE",
        "definition": record.definition,
        "roleArn": record.role_arn,
        "type": record.type,
        "creationDate": epoch(record.created_at),
        **_configured(record),
        "revisionId": record.revision_id,
    }


def update_state_machine(engine: Engine, request: Request) -> Output:
    _refuse_versions(request)
    definition, role_arn, config = request.get("definition"), request.get("roleArn"), None
    if any(member in request for member in _CONFIG_MEMBERS):
        config = _config(request)
    if definition is None and role_arn is None and config is None:
        raise MissingRequiredParameter(
            "Either the definition, the role ARN, the LoggingConfiguration, or the "
            "TracingConfiguration must be specified")
    record = engine.update_state_machine(request["stateMachineArn"], definition, role_arn, config)
    return {"updateDate": epoch(record.updated_at), "revisionId": record.revision_id}


def delete_state_machine(engine: Engine, request: Request) -> Output:
    engine.delete_state_machine(request["stateMachineArn"])
    return {}


def list_state_machines(engine: Engine, request: Request) -> Output:
    page = engine.list_state_machines(_page_size(request), request.get("nextToken"))
    machines = [
        {"stateMachineArn": m.arn, "name": m.name, "type": m.type,
         "creationDate": epoch(m.created_at)}
        for m in page.items
    ]
    return _without_none({"stateMachines": machines, "nextToken": page.next_token})


def describe_state_machine_for_execution(engine: Engine, request: Request) -> Output:
    record = engine.describe_state_machine_for_execution(request["executionArn"])
    return {
        "stateMachineArn": record.arn,
        "name": record.name,
        "definition": record.definition,
        "roleArn": record.role_arn,
        "updateDate": epoch(record.updated_at),
        **_configured(record),
        "revisionId": record.revision_id,
    }


def validate_state_machine_definition(engine: Engine, request: Request) -> Output:
    # Every fault statewright finds is an ERROR, so the severity filter (ERROR: errors only;
    # WARNING: errors and warnings) keeps them all.
    faults = engine.validate_definition(request["definition"])
    limit = request.get("maxResults") or _DEFAULT_PAGE
    diagnostics = [
        _without_none({"severity": "ERROR", "code": f.code, "message": f.message,
                       "location": f.location or None})
        for f in faults[:limit]
    ]
    return {"result": "FAIL" if faults else "OK", "diagnostics": diagnostics,
            "truncated": len(faults) > limit}


def _refuse_versions(request: Request) -> None:
    # Versions and aliases are not implemented; accepting ``publish`` without returning a
    # version ARN would mislead deploy tools that then address the version.
    if request.get("publish"):
        raise errors.ValidationException(
            "statewright does not support state machine versions yet: 'publish' must be false")


def _config(request: Request) -> dict[str, Any]:
    return {member: request[member] for member in _CONFIG_MEMBERS if member in request}


def _configured(record: _Machine) -> Output:
    config = json.loads(record.config or "{}")
    out = {
        "loggingConfiguration": config.get("loggingConfiguration", _DEFAULT_LOGGING),
        "tracingConfiguration": config.get("tracingConfiguration", _DEFAULT_TRACING),
    }
    if "encryptionConfiguration" in config:
        out["encryptionConfiguration"] = config["encryptionConfiguration"]
    return out


# ----------------------------------------------------------------------------- executions


def start_execution(engine: Engine, request: Request) -> Output:
    started = engine.start_execution(
        request["stateMachineArn"], request.get("input"), request.get("name"))
    return {"executionArn": started.execution_arn, "startDate": epoch(started.start_date)}


def test_state(engine: Engine, request: Request) -> Output:
    mock = request.get("mock")
    configuration = request.get("stateConfiguration") or {}
    error_output = (mock or {}).get("errorOutput")
    result = engine.test_state(TestStateRequest(
        definition=request["definition"],
        state_name=request.get("stateName"),
        input=request.get("input"),
        variables=request.get("variables"),
        context=request.get("context"),
        mock=None if mock is None else Mock(
            mock.get("result"),
            None if error_output is None else error_output.get("error", ""),
            None if error_output is None else error_output.get("cause"),
            mock.get("fieldValidationMode", "STRICT")),
        retrier_retry_count=configuration.get("retrierRetryCount", 0),
        map_iteration_failure_count=configuration.get("mapIterationFailureCount"),
        error_caused_by_state=configuration.get("errorCausedByState"),
        inspection_level=request.get("inspectionLevel", "INFO"),
    ))
    return result.to_aws()


def start_sync_execution(engine: Engine, request: Request) -> Output:
    text = request.get("input")
    result = engine.start_sync_execution(request["stateMachineArn"], text, request.get("name"))
    info = result.info
    elapsed_ms = max(0.0, (result.stop_time - info.start_time) * 1000)
    out: Output = {
        "executionArn": info.execution_arn,
        "stateMachineArn": info.state_machine_arn,
        "name": info.name,
        "startDate": epoch(info.start_time),
        "stopDate": epoch(result.stop_time),
        "status": result.status,
        "billingDetails": {
            "billedMemoryUsedInMB": _BILLED_MEMORY_MB,
            "billedDurationInMilliseconds": max(1, math.ceil(elapsed_ms / _BILLING_STEP_MS))
            * _BILLING_STEP_MS,
        },
    }
    if request.get("includedData") != "METADATA_ONLY":
        # AWS echoes the input as sent; the engine only keeps it decoded.
        out["input"] = "{}" if text is None else text
        out["inputDetails"] = {"included": True}
        if result.status == "SUCCEEDED":
            out["output"] = to_json(result.output)
            out["outputDetails"] = {"included": True}
    if result.failure is not None and result.status != "SUCCEEDED":
        out["error"] = result.failure.error
        out["cause"] = result.failure.cause
    return _without_none(out)


def describe_execution(engine: Engine, request: Request) -> Output:
    record = engine.describe_execution(request["executionArn"])
    out = _execution_summary(record)
    if request.get("includedData") != "METADATA_ONLY":
        out["input"] = record.input
        out["inputDetails"] = {"included": True}
        if record.output is not None:
            out["output"] = record.output
            out["outputDetails"] = {"included": True}
    out["error"], out["cause"] = record.error, record.cause
    out["redriveCount"] = 0
    out["redriveStatus"] = "NOT_REDRIVABLE"
    out["redriveStatusReason"] = (
        f"Execution is {record.status} and cannot be redriven"
        if record.status in ("RUNNING", "SUCCEEDED")
        else "statewright does not support RedriveExecution yet")
    return _without_none(out)


def stop_execution(engine: Engine, request: Request) -> Output:
    stopped = engine.stop_execution(
        request["executionArn"], request.get("error"), request.get("cause"))
    return {"stopDate": epoch(stopped)}


def list_executions(engine: Engine, request: Request) -> Output:
    machine = request.get("stateMachineArn")
    map_run = request.get("mapRunArn")
    if map_run is not None:
        # Map runs belong to Distributed Map, which statewright does not run yet.
        raise errors.ResourceNotFound(f"Resource not found: '{map_run}'")
    if machine is None:
        raise errors.ValidationException("Must provide a StateMachine ARN or MapRun ARN")
    page = engine.list_executions(
        machine, request.get("statusFilter"), _page_size(request), request.get("nextToken"))
    # Nothing is ever redriven here, so REDRIVEN matches no execution.
    items = [] if request.get("redriveFilter") == "REDRIVEN" else page.items
    executions = [_without_none(_execution_summary(e)) for e in items]
    return _without_none({"executions": executions, "nextToken": page.next_token})


def get_execution_history(engine: Engine, request: Request) -> Output:
    page = engine.get_history(
        request["executionArn"], _page_size(request), request.get("nextToken"),
        bool(request.get("reverseOrder", False)),
    )
    with_data = request.get("includeExecutionData", True)
    events = [_history_event(event, with_data) for event in page.items]
    return _without_none({"events": events, "nextToken": page.next_token})


def _execution_summary(record: _Execution) -> Output:
    return {
        "executionArn": record.arn,
        "stateMachineArn": record.state_machine_arn,
        "name": record.name,
        "status": record.status,
        "startDate": epoch(record.start_date),
        "stopDate": None if record.stop_date is None else epoch(record.stop_date),
    }


def _history_event(event: _Event, with_data: bool) -> Output:
    out: Output = {
        "timestamp": epoch(event.timestamp),
        "type": event.type,
        "id": event.id,
        "previousEventId": event.previous_event_id,
    }
    if event.details:
        details = json.loads(event.details)
        if not with_data:
            # includeExecutionData=false hides the payloads, keeping the rest of the details.
            details = {k: v for k, v in details.items() if k not in _PAYLOAD_MEMBERS}
        member = details_member(event.type)
        # Types AWS gives no details member (e.g. WaitStateAborted) carry none on the wire.
        if details and member in history_details_members():
            out[member] = details
    return out


#: Members of event details that carry execution data (hidden by includeExecutionData=false).
_PAYLOAD_MEMBERS = {"input", "output"}


# ----------------------------------------------------------------------------- tags


def tag_resource(engine: Engine, request: Request) -> Output:
    engine.tag_resource(request["resourceArn"], _tags(request["tags"]))
    return {}


def untag_resource(engine: Engine, request: Request) -> Output:
    engine.untag_resource(request["resourceArn"], list(request["tagKeys"]))
    return {}


def list_tags_for_resource(engine: Engine, request: Request) -> Output:
    tags = engine.list_tags(request["resourceArn"])
    return {"tags": [{"key": key, "value": value} for key, value in tags.items()]}


def _tags(tags: list[dict[str, str]]) -> dict[str, str]:
    """``[{"key": k, "value": v}]`` as a dict (a key without a value gets ``""``)."""
    out: dict[str, str] = {}
    for index, tag in enumerate(tags, start=1):
        if "key" not in tag:  # the model leaves Tag.key optional; a tag needs one all the same
            raise errors.ValidationException(
                f"1 validation error detected: Value null at 'tags.{index}.member.key' failed "
                "to satisfy constraint: Member must not be null")
        out[tag["key"]] = tag.get("value", "")
    return out


# ----------------------------------------------------------------------------- activities


def create_activity(engine: Engine, request: Request) -> Output:
    config = None
    if "encryptionConfiguration" in request:
        config = {"encryptionConfiguration": request["encryptionConfiguration"]}
    record = engine.create_activity(request["name"], _tags(request.get("tags", [])), config)
    return {"activityArn": record.arn, "creationDate": epoch(record.created_at)}


def describe_activity(engine: Engine, request: Request) -> Output:
    record = engine.describe_activity(request["activityArn"])
    out: Output = {"activityArn": record.arn, "name": record.name,
                   "creationDate": epoch(record.created_at)}
    config = json.loads(record.config or "{}")
    if "encryptionConfiguration" in config:
        out["encryptionConfiguration"] = config["encryptionConfiguration"]
    return out


def delete_activity(engine: Engine, request: Request) -> Output:
    engine.delete_activity(request["activityArn"])
    return {}


def list_activities(engine: Engine, request: Request) -> Output:
    page = engine.list_activities(_page_size(request), request.get("nextToken"))
    activities = [
        {"activityArn": a.arn, "name": a.name, "creationDate": epoch(a.created_at)}
        for a in page.items
    ]
    return _without_none({"activities": activities, "nextToken": page.next_token})


def get_activity_task(engine: Engine, request: Request) -> Output:
    task = engine.get_activity_task(request["activityArn"], request.get("workerName"))
    if task is None:
        # botocore: "the poll returns a taskToken with a null string": no token member, which
        # SDKs read as null (the model's taskToken is at least 1 character long).
        return {}
    token, data = task
    return {"taskToken": token, "input": data}


# ----------------------------------------------------------------------------- callbacks


def send_task_success(engine: Engine, request: Request) -> Output:
    engine.send_task_success(request["taskToken"], request["output"])
    return {}


def send_task_failure(engine: Engine, request: Request) -> Output:
    engine.send_task_failure(request["taskToken"], request.get("error"), request.get("cause"))
    return {}


def send_task_heartbeat(engine: Engine, request: Request) -> Output:
    engine.send_task_heartbeat(request["taskToken"])
    return {}


# ----------------------------------------------------------------------------- helpers


def _page_size(request: Request) -> int:
    size: int = request.get("maxResults") or _DEFAULT_PAGE
    return size


def _without_none(out: Output) -> Output:
    return {key: value for key, value in out.items() if value is not None}


#: AWS's operation names and what serves them; the rest of the model answers "not supported".
OPERATIONS: dict[str, Operation] = {
    "CreateStateMachine": create_state_machine,
    "DescribeStateMachine": describe_state_machine,
    "UpdateStateMachine": update_state_machine,
    "DeleteStateMachine": delete_state_machine,
    "ListStateMachines": list_state_machines,
    "DescribeStateMachineForExecution": describe_state_machine_for_execution,
    "ValidateStateMachineDefinition": validate_state_machine_definition,
    "StartExecution": start_execution,
    "StartSyncExecution": start_sync_execution,
    "TestState": test_state,
    "DescribeExecution": describe_execution,
    "StopExecution": stop_execution,
    "ListExecutions": list_executions,
    "GetExecutionHistory": get_execution_history,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsForResource": list_tags_for_resource,
    "SendTaskSuccess": send_task_success,
    "SendTaskFailure": send_task_failure,
    "SendTaskHeartbeat": send_task_heartbeat,
    "CreateActivity": create_activity,
    "DescribeActivity": describe_activity,
    "DeleteActivity": delete_activity,
    "ListActivities": list_activities,
    "GetActivityTask": get_activity_task,
}
