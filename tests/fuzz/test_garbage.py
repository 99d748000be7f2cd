"""Raw garbage at the server: random bytes, bodies nested thousands deep, broken UTF-8,
random targets, methods, paths and headers. Each answer is an AWS-shaped error (or a plain
404/405 for a path no API has), never a 5xx but 503. (A body over the size limit is refused in
tests/api/test_protocol.py.)"""

from __future__ import annotations

import json

from hypothesis import given, seed
from hypothesis import strategies as st

from tests.fuzz.conftest import ROLE, SEED, FuzzServer, fuzz_settings

TARGETS = st.one_of(
    st.sampled_from(["AWSStepFunctions.StartExecution", "AWSStepFunctions.", "AWSStepFunctions",
                     "AWSStepFunctions.CreateStateMachine", "AWSStepFunctions.Nope", "",
                     "Lambda.Invoke", "AWSStepFunctions.StartExecution\u00e9"]),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60),
)
HEADERS = st.dictionaries(
    st.sampled_from(["Content-Type", "Content-Encoding", "X-Amz-Date", "Authorization",
                     "X-Amz-Invocation-Type", "X-Amz-Log-Type", "X-Amz-Client-Context",
                     "Host", "Transfer-Encoding-Nope", "X-Amz-Security-Token"]),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80),
    max_size=4,
)


def _nested(depth: int, opening: str = '{"a":', closing: str = "}") -> bytes:
    return (opening * depth + "1" + closing * depth).encode()


HOSTILE_BODIES = [
    b"", b"{", b"[]", b"null", b"1", b'"x"', b"\xff\xfe\x00", b"{\"a\": NaN}",
    b'{"stateMachineArn": "\\ud800"}', b'{"input": "\\u0000"}',
    _nested(5000), _nested(5000, "[", "]"), _nested(200),
    b'{"definition": "' + b"[" * 100_000 + b'"}',
]


@seed(SEED)
@fuzz_settings(30)
@given(target=TARGETS, body=st.one_of(st.sampled_from(HOSTILE_BODIES), st.binary(max_size=300)),
       headers=HEADERS)
def test_garbage_step_functions_requests(fuzz_server: FuzzServer, target: str, body: bytes,
                                         headers: dict[str, str]) -> None:
    answer = fuzz_server.send("POST", "/", body, {
        "Content-Type": "application/x-amz-json-1.0", **headers, "X-Amz-Target": target})
    assert answer.status < 500 or answer.status == 503, (answer.status, answer.body[:300])
    error = json.loads(answer.body)
    if answer.status != 200:
        assert set(error) == {"__type", "message"}, error


@seed(SEED)
@fuzz_settings(30)
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]),
    path=st.one_of(
        st.sampled_from(["/2015-03-31/functions", "/2015-03-31/functions/",
                         "/2015-03-31/functions/fuzzfn", "/2015-03-31/functions/fuzzfn/code",
                         "/2015-03-31/functions/fuzzfn/invocations",
                         "/2015-03-31/functions/%00/invocations",
                         "/2015-03-31/functions/fuzzfn/configuration", "/health", "/",
                         "/2015-03-31/functions/" + "a" * 5000, "/console", "/metrics"]),
        st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=80).map(
            lambda p: "/" + p.replace("?", "").replace("#", "")),
    ),
    body=st.one_of(st.sampled_from(HOSTILE_BODIES[:-1]), st.binary(max_size=300)),
    headers=HEADERS,
)
def test_garbage_http_requests(fuzz_server: FuzzServer, method: str, path: str, body: bytes,
                               headers: dict[str, str]) -> None:
    answer = fuzz_server.send(method, path, body if method not in ("GET", "HEAD") else b"",
                              headers)
    assert answer.status < 500 or answer.status == 503, (answer.status, answer.body[:300])


def test_nested_bodies_are_serialization_errors(fuzz_server: FuzzServer) -> None:
    """A JSON nesting limit before decoding: 5,000 levels is AWS's SerializationException,
    not a RecursionError (the 500 issue 10 found)."""
    for body in (_nested(5000), _nested(5000, "[", "]")):
        answer = fuzz_server.sfn("ListStateMachines", body)
        assert answer.status == 400
        assert json.loads(answer.body)["__type"] == "SerializationException"
    machine = fuzz_server.client().create_state_machine(
        name="nested-input", roleArn=ROLE,
        definition='{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}')
    answer = fuzz_server.sfn("StartExecution", json.dumps({
        "stateMachineArn": machine["stateMachineArn"], "input": _nested(5000).decode()}).encode())
    assert answer.status == 400
    assert json.loads(answer.body)["__type"] == "InvalidExecutionInput"
