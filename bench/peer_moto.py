"""The peer: moto's Step Functions interpreter (``moto.stepfunctions.parser``), driven in-process.

moto 5.x carries an ASL interpreter derived from LocalStack's: an ANTLR grammar turns the
definition into a tree of evaluation components (``AmazonStateLanguageParser.parse``), and a
``Program`` evaluates them against a mutable ``Environment`` (an operand stack plus the current
input). This module only *calls* that code, the way moto's own ``SyncExecutionWorker`` does, so
the benchmark can time it beside ours. Nothing here is copied from moto.

Task states: moto invokes Lambda through boto3 (which, under moto, needs Docker to run the
function). Instead we use its mock-configuration feature (``MockTestCase``, the Step Functions
Local "mocked responses"): a Task whose state has a mocked response returns that payload without
any call. So a peer execution does all the interpreter work of a real one, minus the handler.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

from moto.stepfunctions.parser.api import (
    ExecutionStartedEventDetails,
    HistoryEventExecutionDataDetails,
    HistoryEventType,
    StateMachineType,
)
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.evaluation_details import AWSExecutionDetails
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventHistoryContext
from moto.stepfunctions.parser.asl.eval.program_state import ProgramEnded
from moto.stepfunctions.parser.asl.eval.states import (
    ContextObjectData,
    ExecutionData,
    StateMachineData,
)
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str
from moto.stepfunctions.parser.mocking.mock_config import (
    MockedResponseReturn,
    MockTestCase,
    StateMockedResponses,
)

NAME = f"moto {version('moto')}"
"""How the peer is named in the report."""

_ACCOUNT = "123456789012"
_REGION = "us-east-1"
_ROLE_ARN = f"arn:aws:iam::{_ACCOUNT}:role/statewright-bench"
_MACHINE_ARN = f"arn:aws:states:{_REGION}:{_ACCOUNT}:stateMachine:bench"
_EXECUTION_ARN = f"arn:aws:states:{_REGION}:{_ACCOUNT}:execution:bench:1"

#: A fresh Environment every this many single-state evaluations, so the peer's event list
#: (one per Environment) does not grow without bound during a timing loop.
_STATE_CALLS_PER_ENVIRONMENT = 1000


@dataclass(frozen=True, slots=True)
class PeerOutcome:
    """How a peer execution ended, for the sanity check against ours."""

    succeeded: bool
    """True when the program ended without error."""
    output: Any
    """The execution output (the last state's output)."""
    event_types: tuple[str, ...]
    """The history's event types, in order."""


def parse(text: str) -> Any:
    """The peer's parse: ANTLR lexing/parsing plus the preprocessor building the program."""
    program, _tree = AmazonStateLanguageParser.parse(text)
    return program


def mock_lambda(results: Mapping[str, Any]) -> MockTestCase:
    """Mocked Lambda responses: state name -> the function's return value, for every attempt."""
    responses = [
        StateMockedResponses(
            state_name=state,
            mocked_response_name=state,
            mocked_responses=[MockedResponseReturn(0, 0, {"StatusCode": 200, "Payload": payload})],
        )
        for state, payload in results.items()
    ]
    return MockTestCase("bench", "bench", responses)


def run_execution(program: Any, data: Any, mocks: MockTestCase | None) -> Environment:
    """One whole execution, as moto's ``SyncExecutionWorker`` runs it (minus the re-parse).

    ``Program.eval`` runs the states on a worker thread of its own and joins it, as in moto.
    """
    env = _environment(data, mocks)
    env.event_manager.add_event(
        context=env.event_history_context,
        event_type=HistoryEventType.ExecutionStarted,
        # moto declares its TypedDicts total and fills them partially itself; so do we.
        event_details=EventDetails(  # type: ignore[typeddict-item]
            executionStartedEventDetails=ExecutionStartedEventDetails(
                input=to_json_str(data),
                inputDetails=HistoryEventExecutionDataDetails(truncated=False),
                roleArn=_ROLE_ARN,
            )
        ),
        update_source_event_id=False,
    )
    program.eval(env)
    return env


def outcome(env: Environment) -> PeerOutcome:
    """What an execution produced (copies the history: keep it out of timing loops)."""
    history = env.event_manager.get_event_history()
    return PeerOutcome(
        succeeded=isinstance(env.program_state(), ProgramEnded),
        output=env.states.get_input(),
        event_types=tuple(str(event["type"].value) for event in history),
    )


def state_evaluator(
    program: Any, state_name: str, data: Any, mocks: MockTestCase | None = None
) -> Callable[[], str | None]:
    """A callable evaluating one state on ``data`` and returning the next state's name.

    This is the peer's unit of work per state: StateEntered event, InputPath, the state's own
    work (a mocked Lambda call for a Task), OutputPath, StateExited event, choosing Next.
    """
    state = program.states.states[state_name]
    env = _environment(data, mocks)
    calls = 0

    def evaluate() -> str | None:
        nonlocal env, calls
        calls += 1
        if calls % _STATE_CALLS_PER_ENVIRONMENT == 0:
            env = _environment(data, mocks)
        env.states.reset(input_value=data)
        env.next_state_name = state_name
        state.eval(env)
        env.stack.clear()
        env.heap.clear()
        next_state: str | None = env.next_state_name
        return next_state

    return evaluate


def _environment(data: Any, mocks: MockTestCase | None) -> Environment:
    return Environment(
        aws_execution_details=AWSExecutionDetails(
            account=_ACCOUNT, region=_REGION, role_arn=_ROLE_ARN
        ),
        execution_type=StateMachineType.STANDARD,
        context=ContextObjectData(  # type: ignore[typeddict-item]
            Execution=ExecutionData(
                Id=_EXECUTION_ARN,
                Input=data,
                Name="1",
                RoleArn=_ROLE_ARN,
                StartTime="2026-11-25T00:00:00.000Z",
            ),
            StateMachine=StateMachineData(Id=_MACHINE_ARN, Name="bench"),
        ),
        event_history_context=EventHistoryContext.of_program_start(),
        cloud_watch_logging_session=None,
        activity_store={},
        mock_test_case=mocks,
    )
