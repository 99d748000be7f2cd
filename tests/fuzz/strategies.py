"""Hypothesis strategies that build requests from botocore's own service models.

For any input shape: the members it declares, each usually of its declared type (within its
bounds, from its enum, or a name of a resource that exists so the request reaches deep into
the server) and sometimes hostile: missing, of the wrong JSON type, huge, unicode that does not
encode, nested deep. Lambda's REST operations place members in the URI, query string, headers
and body as the model says.
"""

from __future__ import annotations

import base64
import json
import urllib.parse
from dataclasses import dataclass
from typing import Any

from botocore.model import OperationModel, Shape
from hypothesis import strategies as st

#: Values of the wrong type or size for any member.
HOSTILE: list[Any] = [
    None, True, False, 0, -1, 2**63, -(2**63) - 1, 1.5, 1e308, -0.0, "", " ", "null",
    "x" * 70_000, "\u0000", "\ud800", "😀" * 300, "../../etc/passwd", "$.a", "{% 1 %}",
    "arn:aws:states:us-east-1:123456789012:stateMachine:", [], [None], {}, {"a": {"b": [1]}},
    [[[[[[[[[[[]]]]]]]]]]], "States.Format(", "%s%n", "<script>",
]


@dataclass
class Pool:
    """Names of resources that exist on the server, so requests reach past "not found"."""

    strings: list[str]
    """ARNs, names, tokens, definitions and inputs the server knows."""


def _string(shape: Shape, name: str, pool: Pool) -> st.SearchStrategy[Any]:
    choices: list[st.SearchStrategy[Any]] = [
        st.sampled_from(pool.strings),
        st.text(max_size=40),
        st.text(alphabet=st.characters(codec="ascii"), max_size=300),
    ]
    if shape.enum:
        choices.insert(0, st.sampled_from(list(shape.enum)))
    if name.lower() in ("input", "output", "definition", "payload", "cause", "error"):
        choices.insert(0, st.sampled_from(pool.strings[-6:]))
    return st.one_of(*choices)


def value(shape: Shape, pool: Pool, name: str = "", depth: int = 0) -> st.SearchStrategy[Any]:
    """Any JSON value for a member of ``shape`` (usually of its type, sometimes hostile)."""
    hostile = st.sampled_from(HOSTILE)
    if depth > 4:
        return hostile
    kind = shape.type_name
    typed: st.SearchStrategy[Any]
    if kind == "structure":
        typed = structure(shape, pool, depth + 1)
    elif kind == "list":
        typed = st.lists(value(shape.member, pool, name, depth + 1), max_size=4)  # type: ignore[attr-defined]
    elif kind == "map":
        typed = st.dictionaries(
            st.one_of(st.text(max_size=20), st.sampled_from(["", "a" * 200, "aws:x"])),
            value(shape.value, pool, name, depth + 1), max_size=4)  # type: ignore[attr-defined]
    elif kind == "string":
        typed = _string(shape, name, pool)
    elif kind in ("integer", "long"):
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        typed = st.one_of(st.integers(low, high), st.integers())
    elif kind in ("float", "double"):
        typed = st.floats(allow_nan=False, allow_infinity=False)
    elif kind == "boolean":
        typed = st.booleans()
    elif kind == "blob":
        typed = st.binary(max_size=200).map(lambda b: base64.b64encode(b).decode())
    elif kind == "timestamp":
        typed = st.one_of(st.integers(-(2**40), 2**40), st.floats(allow_nan=False))
    else:
        typed = st.none()
    return st.one_of(typed, typed, typed, hostile)


def structure(shape: Shape, pool: Pool, depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    """A JSON object for ``shape``: required members usually present, optional ones maybe,
    sometimes a member the model does not have."""
    members = shape.members  # type: ignore[attr-defined]
    required = set(shape.metadata.get("required", []))
    strategies = {n: value(s, pool, n, depth) for n, s in members.items()}
    base = st.fixed_dictionaries(
        {n: strategies[n] for n in members if n in required},
        optional={n: strategies[n] for n in members if n not in required},
    )
    extra = st.dictionaries(st.text(max_size=12), st.sampled_from(HOSTILE), max_size=2)
    dropped = st.fixed_dictionaries({}, optional=strategies)  # required ones may go missing
    return st.one_of(base, base, base, dropped, st.tuples(base, extra).map(
        lambda pair: {**pair[1], **pair[0]}))


@dataclass
class RawRequest:
    """An HTTP request ready to send."""

    method: str
    path: str
    body: bytes
    headers: dict[str, str]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _url_part(value: Any) -> str:
    """A URI or query value, cut to 2,000 characters: a request line past the HTTP server's
    limit (h11: 16 KiB) is refused with 400 before any statewright code sees it, and the
    client, still sending, sees a reset."""
    return _text(value)[:2000]


def _header(value: Any) -> str:
    """Header values must stay one line of Latin-1 for the client to send them at all."""
    text = _text(value)
    return "".join(c for c in text if " " <= c <= "~")[:2000]


def rest_request(operation: OperationModel, members: dict[str, Any]) -> RawRequest:
    """A restJson request (Lambda) with ``members`` placed where the model puts them."""
    uri = operation.http["requestUri"]
    path, _, fixed_query = uri.partition("?")
    query: list[tuple[str, str]] = []
    if fixed_query:
        query += urllib.parse.parse_qsl(fixed_query, keep_blank_values=True)
    headers: dict[str, str] = {}
    body: dict[str, Any] = {}
    raw_body: bytes | None = None
    shape = operation.input_shape
    for name, member in (shape.members.items() if shape is not None else ()):
        if name not in members:
            if member.serialization.get("location") == "uri":
                path = path.replace("{" + member.serialization["name"] + "}", "")
                path = path.replace("{" + member.serialization["name"] + "+}", "")
            continue
        given = members[name]
        location = member.serialization.get("location")
        if location == "uri":
            quoted = urllib.parse.quote(_url_part(given), safe="", errors="surrogatepass")
            key = member.serialization["name"]
            path = path.replace("{" + key + "}", quoted).replace("{" + key + "+}", quoted)
        elif location == "querystring":
            query.append((member.serialization["name"], _url_part(given)))
        elif location == "header":
            headers[member.serialization["name"]] = _header(given)
        elif member.serialization.get("eventpayload") or name == shape.serialization.get(
                "payload"):
            raw_body = given.encode("utf-8", "surrogatepass") if isinstance(given, str) else (
                json.dumps(given).encode())
        else:
            body[name] = given
    if query:
        path += "?" + urllib.parse.urlencode(query, errors="surrogatepass")
    data = raw_body if raw_body is not None else (json.dumps(body).encode() if body else b"")
    headers.setdefault("Content-Type", "application/json")
    return RawRequest(operation.http["method"], path, data, headers)
