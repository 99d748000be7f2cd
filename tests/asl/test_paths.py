"""JSONPath evaluation as Step Functions does it (Jayway JsonPath semantics).

Where the expectations come from:

- ``[case: <file>]``: an execution recorded against real AWS, in
  ``../shared/conformance/cases/<file>``.
- ``[Jayway: <file>]``: a fact read in Jayway JsonPath's source (json-path/JsonPath on GitHub,
  ``json-path/src/main/java/com/jayway/jsonpath/internal/...``): e.g. ``PathCompiler`` reads a
  dot-notation name up to the next ``.``, ``[`` or ``(``; ``ArraySliceToken`` has no step and does
  not normalize the stop of ``[a:b]``; ``PathToken.handleObjectProperty`` throws "Missing property
  in path" for an absent inner name and the read then reports "No results for path" for a leaf.
- ``[README]``: Jayway's README examples over the Goessner bookstore document.
- ``[SFN Local]``: Step Functions Local 2.0.0 runs quoted in floci-io/floci#3260 and #3480
  (``$.list[?(@.keep)]`` keeps ``false``; ``!@.session`` keeps ``null``; ``$.d..a[*]``).
- ``[AWS docs]``: "Using JSONPath paths" / Reference Paths in the Step Functions developer guide.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from statewright.asl import _pathsyntax
from statewright.asl import paths as paths_module
from statewright.asl.context import Ctx
from statewright.asl.errors import ExpressionSyntaxError
from statewright.asl.paths import PathNotFound, compile_path, compile_reference_path
from tests.shared_data import CASES, SKIP_REASON

BOOKS: dict[str, Any] = {
    "store": {
        "book": [
            {"category": "reference", "author": "Nigel Rees", "title": "Sayings", "price": 8.95},
            {"category": "fiction", "author": "Evelyn Waugh", "title": "Sword", "price": 12.99},
            {
                "category": "fiction",
                "author": "Herman Melville",
                "title": "Moby Dick",
                "isbn": "0-553-21311-3",
                "price": 8.99,
            },
            {
                "category": "fiction",
                "author": "J. R. R. Tolkien",
                "title": "The Lord of the Rings",
                "isbn": "0-395-19395-8",
                "price": 22.99,
            },
        ],
        "bicycle": {"color": "red", "price": 19.95},
    },
    "expensive": 10,
}
B0, B1, B2, B3 = BOOKS["store"]["book"]


def get(path: str, data: Any, ctx: Ctx | None = None) -> Any:
    return compile_path(path).get(data, ctx)


# --- AWS recordings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "data", "expected"),
    [
        # [case: base_test_base__TestSnfBase_test_json_path_array_wildcard_or_slice_with_no_
        #  input_*.json] indefinite paths over missing input give [] (no failure).
        ("$.item.items[1:5]", {}, []),
        ("$.item.items[1:]", {}, []),
        ("$.item.items[:1]", {}, []),
        ("$.items[*].itemValue", {}, []),
        ("$.items[:1].itemValue", {}, []),
        ("$.items[1:].itemValue", {}, []),
        ("$.items[1:]", {}, []),
        # [case: base_test_base__TestSnfBase_test_state_pass_regex_json_path_base__fb54d4dd65]
        (
            "$.users[?(@.status == 0)]",
            {"users": [{"year": 1997, "status": 0}, {"year": 1998, "status": 1}]},
            [{"year": 1997, "status": 0}],
        ),
        # [case: assign_test_assign_reference_variables__..._OUTER_SCOPE___7b5dd799d5] $[0]
        # on an array input is the element itself, not a one-element list.
        ("$[0]", [9, 44, 6], 9),
        ("$[2]", [9, 44, 6], 6),
        # [case: context_object_test_context_object__TestSnfBase_test_variable__a1b9e3c8df]
        # a dash in a dot-notation name.
        ("$.input-value", {"input-value": 0}, 0),
    ],
)
def test_recorded_results(path: str, data: Any, expected: Any) -> None:
    assert get(path, data) == expected


@pytest.mark.parametrize(
    ("path", "normalized", "message"),
    [
        # [case: scenarios_..._INVALID_JSONPATH_IN_INPUTPATH___694cb31672 / _OUTPUTPATH_]:
        # "Invalid path '$.NoSuchInputPath' : No results for path: $['NoSuchInputPath']"
        ("$.NoSuchInputPath", "$['NoSuchInputPath']", "No results for path: $['NoSuchInputPath']"),
        (
            "$.NoSuchOutputPath",
            "$['NoSuchOutputPath']",
            "No results for path: $['NoSuchOutputPath']",
        ),
        # [Jayway: PathToken] an absent inner name is a "Missing property" up to that name.
        ("$.a.b", "$['a']['b']", "Missing property in path $['a']"),
        ("$['a'][0]", "$['a'][0]", "Missing property in path $['a']"),
        ("$.int-literal.x", "$['int-literal']['x']", "No results for path: $['int-literal']['x']"),
        # [Jayway: ArrayPathToken] an index past the end has no result.
        ("$.list[5]", "$['list'][5]", "No results for path: $['list'][5]"),
        ("$.list[-4]", "$['list'][-4]", "No results for path: $['list'][-4]"),
        ("$.none[0]", "$['none'][0]", "The path $['none'] is null"),
        ("$.missing.length()", "$['missing'].length()", "Missing property in path $['missing']"),
    ],
)
def test_definite_path_not_found(path: str, normalized: str, message: str) -> None:
    data = {"int-literal": 0, "list": [1, 2, 3], "none": None}
    with pytest.raises(PathNotFound) as caught:
        get(path, data)
    assert caught.value.path == path
    assert caught.value.normalized == normalized
    assert str(caught.value) == caught.value.detail == message


@pytest.mark.skipif(not CASES.is_dir(), reason=SKIP_REASON)
@pytest.mark.parametrize(
    "pattern", ["*test_json_path_array_*", "*test_state_pass_regex_json_path*"]
)
def test_recorded_pass_parameters_paths(pattern: str) -> None:
    """Every recorded one-state Pass whose Parameters is ``{"key.$": "<path>"}``."""
    files = sorted(CASES.glob(pattern + ".json"))
    assert files
    for file in files:
        case = json.loads(file.read_text())
        (state,) = case["definition"]["States"].values()
        ((key, path),) = state["Parameters"].items()
        got = {key[:-2]: get(path, json.loads(case["input"]))}
        assert got == case["expected"]["output"], file.name


# --- syntax and result shapes -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        # [README] the Goessner examples.
        ("$.store.book[*].author", [b["author"] for b in (B0, B1, B2, B3)]),
        ("$..author", [b["author"] for b in (B0, B1, B2, B3)]),
        ("$.store.*", [BOOKS["store"]["book"], BOOKS["store"]["bicycle"]]),
        ("$.store..price", [8.95, 12.99, 8.99, 22.99, 19.95]),
        ("$..book[2]", [B2]),
        ("$..book[-2]", [B2]),
        ("$..book[0,1]", [B0, B1]),
        ("$..book[:2]", [B0, B1]),
        ("$..book[1:2]", [B1]),
        ("$..book[-2:]", [B2, B3]),
        ("$..book[2:]", [B2, B3]),
        ("$..book[?(@.isbn)]", [B2, B3]),
        ("$.store.book[?(@.price < 10)]", [B0, B2]),
        ("$..book[?(@.price <= $['expensive'])]", [B0, B2]),
        ("$..book[?(@.author =~ /.*REES/i)]", [B0]),
        ("$..book.length()", 4),
        # Definite paths: the value itself.
        ("$", BOOKS),
        ("$.store.bicycle.color", "red"),
        ("$['store']['bicycle']['color']", "red"),
        ('$["store"]["bicycle"]["color"]', "red"),
        ("$.store.book[0].title", "Sayings"),
        ("$.store.book[-1].title", "The Lord of the Rings"),
        ("$.store.book.[1].title", "Sword"),
        ("$.store.['bicycle'].color", "red"),
        ("  $.expensive  ", 10),
        ("$[ 'store' ][ \"bicycle\" ][ 'color' ]", "red"),
        # [Jayway: PropertyPathToken] a trailing ['a','b'] merges the members found: definite.
        ("$.store.bicycle['color','price','nope']", {"color": "red", "price": 19.95}),
        # ...but not last, it iterates: indefinite.
        ("$.store['bicycle','nope'].color", ["red"]),
        ("$.store.book[ 0 , 3 ].price", [8.95, 22.99]),
        ("$.store.book[ * ].price", [8.95, 12.99, 8.99, 22.99]),
        ("$.store.bicycle.*", ["red", 19.95]),
        ("$.store.bicycle[*]", ["red", 19.95]),
        ("$.expensive[*]", []),
        ("$.store.book[0][*]", ["reference", "Nigel Rees", "Sayings", 8.95]),
    ],
)
def test_bookstore(path: str, expected: Any) -> None:
    assert get(path, BOOKS) == expected


@pytest.mark.parametrize(
    ("path", "data", "expected"),
    [
        # [Jayway: PathCompiler] a dot-notation name runs to the next '.', '[' or '(':
        # digits, dashes, '$' and non-ASCII letters are all part of it.
        ("$.1abc", {"1abc": 1}, 1),
        ("$.0", {"0": "zero"}, "zero"),
        ("$.a-b.c-d", {"a-b": {"c-d": 2}}, 2),
        ("$.déjà.vu", {"déjà": {"vu": 3}}, 3),
        ("$.a$b", {"a$b": 4}, 4),
        ("$.日本", {"日本": 5}, 5),
        # [AWS docs] special characters need brackets: $.abc.['def ghi'].
        ("$.abc.['def ghi']", {"abc": {"def ghi": 6}}, 6),
        ("$['a.b']", {"a.b": 7}, 7),
        ("$['it\\'s']", {"it's": 8}, 8),
        ('$["say \\"hi\\""]', {'say "hi"': 9}, 9),
        ("$['back\\\\slash']", {"back\\slash": 10}, 10),
        ("$['tab\\tx']", {"tab\tx": 11}, 11),
        ("$['\\u00e9']", {"é": 12}, 12),
        ("$['']", {"": 13}, 13),
        ("$['a']b", {"a": {"b": 14}}, 14),
        # [Jayway: PathToken] negative indexes count from the end.
        ("$[-1]", [1, 2, 3], 3),
        ("$[-3]", [1, 2, 3], 1),
        ("$.a[0][1]", {"a": [[1, 2]]}, 2),
    ],
)
def test_names_and_indexes(path: str, data: Any, expected: Any) -> None:
    assert get(path, data) == expected


ITEMS = [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$[1:3]", [1, 2]),
        ("$[:2]", [0, 1]),
        ("$[3:]", [3, 4]),
        ("$[-2:]", [3, 4]),
        ("$[:-2]", [0, 1, 2]),
        ("$[7:]", []),
        ("$[:9]", ITEMS),
        ("$[-9:]", ITEMS),
        ("$[2:2]", []),
        ("$[3:1]", []),
        # [Jayway: ArraySliceToken] with both bounds the stop is not counted from the end...
        ("$[1:-1]", []),
        # ...and each index of a negative start is read like [i], wrapping around.
        ("$[-2:2]", [3, 4, 0, 1]),
        # [Jayway: ArraySliceOperation] only two bounds are read: no step.
        ("$[0:4:2]", [0, 1, 2, 3]),
        ("$[0,2,9,-1]", [0, 2, 4]),
        ("$[*]", ITEMS),
    ],
)
def test_slices_and_index_lists(path: str, expected: Any) -> None:
    assert get(path, ITEMS) == expected


@pytest.mark.parametrize(
    ("path", "data", "expected"),
    [
        # [SFN Local] recursive descent.
        ("$.d..a", {"d": {"x": {"a": [1, 2]}}}, [[1, 2]]),
        ("$.d..a[*]", {"d": {"x": {"a": [1, 2]}}}, [1, 2]),
        # [Jayway: ScanPathToken] pre-order: a node's match before its descendants'.
        ("$..a", {"a": {"a": 1}, "b": {"a": 2}}, [{"a": 1}, 1, 2]),
        ("$..[0]", {"x": [[1, 2], [3]]}, [[1, 2], 1, 3]),
        ("$..*", {"a": {"b": 1}, "c": [2]}, [{"b": 1}, [2], 1, 2]),
        (
            "$..[?(@.k == 1)]",
            {"k": 1, "l": [{"k": 1}, {"k": 2}]},
            [{"k": 1, "l": [{"k": 1}, {"k": 2}]}, {"k": 1}],
        ),
        ("$..missing", {"a": {"b": 1}}, []),
        ("$..a", 5, []),
        ("$.mapLst..num", {"mapLst": [{"str": "s1", "num": 1}, {"str": "s2", "num": 2}]}, [1, 2]),
    ],
)
def test_deep_scan(path: str, data: Any, expected: Any) -> None:
    assert get(path, data) == expected


@pytest.mark.parametrize(
    ("path", "data", "expected"),
    [
        # Indefinite paths never fail: missing members, wrong types and out-of-range
        # indexes just match nothing.
        ("$.a[*]", {"a": 5}, []),
        ("$.a[1:]", {"a": {"x": 1}}, []),
        ("$[1:]", {}, []),
        ("$.a[0,1]", {"a": []}, []),
        ("$.a[*].b", {"a": [{"b": 1}, {"c": 2}, 3, None]}, [1]),
        ("$.a[?(@.b)]", {"a": "text"}, []),
        ("$.a..b", {}, []),
    ],
)
def test_indefinite_paths_never_fail(path: str, data: Any, expected: Any) -> None:
    assert get(path, data) == expected


# --- filters -----------------------------------------------------------------------------------

ROWS: list[Any] = [
    {"id": 1, "n": 1, "s": "a", "b": True, "z": None, "tags": ["x", "y"]},
    {"id": 2, "n": 2.5, "s": "b", "b": False, "tags": []},
    {"id": 3, "n": "2", "s": "10", "tags": ["y"]},
    {"id": 4},
    "plain",
    7,
]


def ids(path: str, data: Any = None) -> list[Any]:
    found = get(path, {"rows": ROWS, "limit": 2} if data is None else data)
    return [row["id"] if isinstance(row, dict) else row for row in found]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        # Existence: present and not null [SFN Local]; false is present.
        ("$.rows[?(@.b)]", [1, 2]),
        ("$.rows[?(!@.b)]", [3, 4, "plain", 7]),
        ("$.rows[?(@.z)]", []),
        ("$.rows[?(!@.z)]", [1, 2, 3, 4, "plain", 7]),
        ("$.rows[?(@.b exists true)]", [1, 2]),
        # Equality [Jayway: ValueNodes]: numbers by value, numeric strings equal numbers,
        # booleans and null only themselves (JSON true is not 1).
        ("$.rows[?(@.n == 1)]", [1]),
        ("$.rows[?(@.n == 1.0)]", [1]),
        ("$.rows[?(@.n == 2)]", [3]),
        ("$.rows[?(@.n == '2')]", [3]),
        ("$.rows[?(@.n === '2')]", [3]),
        ("$.rows[?(@.n === 2)]", []),
        ("$.rows[?(@.b == true)]", [1]),
        ("$.rows[?(@.b == 1)]", []),
        ("$.rows[?(@.z == null)]", [1]),
        ('$.rows[?(@.s == "a")]', [1]),
        # A missing member equals nothing, so != holds for it.
        ("$.rows[?(@.s != 'a')]", [2, 3, 4, "plain", 7]),
        ("$.rows[?(@.n !== 1)]", [2, 3, 4, "plain", 7]),
        # Order: numbers by value (true is not a number), strings in Java order, a string
        # against a number as text [Jayway: EvaluatorFactory]: "2" > 1, "10" < 2, "2" < 2 no.
        ("$.rows[?(@.n > 1)]", [2, 3]),
        ("$.rows[?(@.n >= 1)]", [1, 2, 3]),
        ("$.rows[?(@.b > 0)]", []),
        ("$.rows[?(@.s < 'b')]", [1, 3]),
        ("$.rows[?(@.s <= 'b')]", [1, 2, 3]),
        ("$.rows[?(@.s < 2)]", [3]),
        ("$.rows[?(@.n < $.limit)]", [1]),
        ("$.rows[?(@ == 7)]", [7]),
        ("$.rows[?(@ == 'plain')]", ["plain"]),
        # Regex: the whole text must match; flags after the closing slash.
        ("$.rows[?(@.s =~ /[a-b]/)]", [1, 2]),
        ("$.rows[?(@.s =~ /A/i)]", [1]),
        ("$.rows[?(@.s =~ /1/)]", []),
        ("$.rows[?(@.n =~ /2\\.5/)]", [2]),
        ("$.rows[?(@.tags =~ /y/)]", [1, 3]),
        # Membership and sets; JSON literals take single quotes too.
        ("$.rows[?(@.s in ['a', 'b'])]", [1, 2]),
        ('$.rows[?(@.s in ["a"])]', [1]),
        ("$.rows[?(@.s nin ['a', 'b'])]", [3, 4, "plain", 7]),
        ("$.rows[?(@.n in [2.5, 1])]", [1, 2]),
        ("$.rows[?(@.tags contains 'y')]", [1, 3]),
        ("$.rows[?(@.s contains '0')]", [3]),
        ("$.rows[?(@.tags subsetof ['y', 'z'])]", [2, 3]),
        ("$.rows[?(@.tags anyof ['x', 'q'])]", [1]),
        ("$.rows[?(@.tags noneof ['x'])]", [2, 3]),
        ("$.rows[?(@.tags all ['x', 'y'])]", [1]),
        ("$.rows[?(@.tags size 1)]", [3]),
        ("$.rows[?(@.s size 2)]", [3]),
        ("$.rows[?(@.tags empty true)]", [2]),
        ("$.rows[?(@.tags empty false)]", [1, 3]),
        ("$.rows[?(@.tags.length() > 1)]", [1]),
        # Logic: && || ! and grouping; [Jayway: FilterCompiler] no precedence, the chain
        # folds from the right: a && b || c is a && (b || c).
        ("$.rows[?(@.id > 1 && @.id < 4)]", [2, 3]),
        ("$.rows[?(@.id == 1 || @.id == 4)]", [1, 4]),
        ("$.rows[?(@.id == 2 && @.s == 'x' || @.n == 2.5)]", [2]),
        ("$.rows[?((@.id == 2 && @.s == 'x') || @.id == 3)]", [3]),
        ("$.rows[?(@.id == 3 || @.id == 1 && @.b)]", [1, 3]),
        ("$.rows[?(!(@.id > 1))]", [1, "plain", 7]),
        ("$.rows[?(  @.id   ==   4  )]", [4]),
        ("$.rows[?(@['id'] == 2)]", [2]),
        ("$.rows[?(@.tags[0] == 'y')]", [3]),
        # An indefinite path exists when it matches something.
        ("$.rows[?(@.tags[?(@ == 'x')])]", [1]),
        ("$.rows[?(@.tags[*])]", [1, 3]),
    ],
)
def test_filters(path: str, expected: list[Any]) -> None:
    assert ids(path) == expected


@pytest.mark.parametrize(
    ("path", "data", "expected"),
    [
        # [SFN Local] existence keeps false values.
        (
            "$.list[?(@.keep)]",
            {"list": [{"keep": True}, {"keep": False}, {"other": 1}]},
            [{"keep": True}, {"keep": False}],
        ),
        (
            "$.list[?(@.keep == true)]",
            {"list": [{"keep": True}, {"keep": False}]},
            [{"keep": True}],
        ),
        # [SFN Local] !@.key keeps an explicit null as well as an absent key.
        (
            "$.items[?(!@.session)]",
            {"items": [{"id": 1, "session": None}, {"id": 2, "session": {"x": 1}}, {"id": 3}]},
            [{"id": 1, "session": None}, {"id": 3}],
        ),
        # [Jayway: PredicatePathToken] a filter on an object tests the object itself.
        ("$.o[?(@.a == 1)]", {"o": {"a": 1}}, [{"a": 1}]),
        ("$.o[?(@.a == 2)]", {"o": {"a": 1}}, []),
        ("$.o[?(@.a == 1)].a", {"o": {"a": 1}}, [1]),
        ("$[?(@.v > 1)].v", [{"v": 1}, {"v": 2}, {"v": 3}], [2, 3]),
        ("$[?(@ > 1)]", [1, 2, 3], [2, 3]),
        # Java orders strings by UTF-16 unit: an astral character sorts below U+E000.
        ("$[?(@.s > '\ue000')]", [{"s": "\U0001f600"}, {"s": "\uffff"}], [{"s": "\uffff"}]),
    ],
)
def test_filter_results(path: str, data: Any, expected: Any) -> None:
    assert get(path, data) == expected


# --- functions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "data", "expected"),
    [
        # [AWS repost: InputPath/Parameters accept Jayway functions]; [Jayway: Length].
        ("$.items.length()", {"items": [1, 2, 3]}, 3),
        ("$.obj.length()", {"obj": {"a": 1, "b": 2}}, 2),
        ("$.text.length()", {"text": "abc"}, None),
        ("$.items.size()", {"items": [1, 2]}, 2),
        ("$.length()", [1, 2], 2),
        # [Jayway: AbstractAggregation] numbers only, as doubles.
        ("$.n.min()", {"n": [3, 1, 2]}, 1.0),
        ("$.n.max()", {"n": [3, 1, "9", True, 2]}, 3.0),
        ("$.n.sum()", {"n": [1, 2, 3]}, 6.0),
        ("$.n.avg()", {"n": [1, 2, 3, 4]}, 2.5),
        ("$.n.stddev()", {"n": [2, 4, 4, 4, 5, 5, 7, 9]}, 2.0),
        ("$.o.keys()", {"o": {"a": 1, "b": 2}}, ["a", "b"]),
        ("$.o.keys().length()", {"o": {"a": 1, "b": 2}}, 2),
        ("$.n.first()", {"n": [5, 6]}, 5),
        ("$.n.last()", {"n": [5, 6]}, 6),
        # [Jayway: CompiledPath] $..x.fn() is rewritten to $.fn($..x); length counts
        # the children of the matches.
        ("$..price.max()", BOOKS, 22.99),
        ("$..book.length()", BOOKS, 4),
        ("$..title.length()", BOOKS, 0),
        # Elsewhere a function after an indefinite step applies to each match.
        ("$.a[*].length()", {"a": [[1], [1, 2], "x"]}, [1, 2, None]),
        ("$.a[*].max()", {"a": [[1, 5], [], "x", [2]]}, [5.0, 2.0]),
    ],
)
def test_functions(path: str, data: Any, expected: Any) -> None:
    assert get(path, data) == expected


def test_aggregation_over_nothing_is_not_found() -> None:
    with pytest.raises(PathNotFound) as caught:
        get("$.n.max()", {"n": []})
    assert str(caught.value) == (
        "Aggregation function attempted to calculate value using empty array"
    )


# --- roots: context object and variables -------------------------------------------------------

CTX = Ctx(
    context={
        "Execution": {"Id": "arn:x", "Input": {"input-value": 0}},
        "Map": {"Item": {"Index": 2}},
    },
    variables={"x": 3, "answer": {"a": [10, 20]}, "items": [{"k": 1}, {"k": 2}]},
)


@pytest.mark.parametrize(
    ("path", "root", "expected"),
    [
        ("$$", "context", CTX.context),
        ("$$.Execution.Id", "context", "arn:x"),
        ("$$.Execution.Input.input-value", "context", 0),
        ("$$['Map']['Item']['Index']", "context", 2),
        ("$x", "variable", 3),
        ("$answer.a[1]", "variable", 20),
        ("$answer['a'][-1]", "variable", 20),
        ("$items[*].k", "variable", [1, 2]),
        ("$items[?(@.k > 1)]", "variable", [{"k": 2}]),
        ("$.own", "input", "input"),
    ],
)
def test_roots(path: str, root: str, expected: Any) -> None:
    compiled = compile_path(path)
    assert compiled.root == root
    assert compiled.get({"own": "input"}, CTX) == expected


@pytest.mark.parametrize(
    ("path", "ctx"), [("$undefined", CTX), ("$x", None), ("$$.Execution", None), ("$$.Nope", CTX)]
)
def test_missing_roots_are_not_found(path: str, ctx: Ctx | None) -> None:
    with pytest.raises(PathNotFound):
        get(path, {}, ctx)


def test_variable_and_context_names() -> None:
    assert compile_path("$answer.a").variable == "answer"
    assert compile_path("$_x9").variable == "_x9"
    assert compile_path("$$.Execution").variable is None


# --- compile errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "",
        "a.b",
        "$.",
        "$..",
        "$.a.",
        "$.a..",
        "$...a",
        "$.a b",
        "$a-b",
        "$1",
        "$$x",
        "$ .a",
        "$[",
        "$[]",
        "$['a'",
        "$['a' 'b']",
        "$['a',]",
        "$[a]",
        "$[0",
        "$[0 1]",
        "$[1.5]",
        "$[::2]",
        "$[:]",
        "$[99999999999]",
        "$[*",
        "$[?(@.a)",
        "$[?(@.a]",
        "$[?@.a]",
        "$[?()]",
        "$[?(@.a ==)]",
        "$[?(@.a <> 1)]",
        "$[?(@.a == 'x)]",
        "$[?(@.a =~ /[/)]",
        "$[?(@.a in [1,)]",
        "$[?(1)]",
        "$[?(@.a && )]",
        "$[?(@.a & @.b)]",
        "$[?(@x)]",
        "$[?(@.a)] x",
        "$[?]",
        "$.a.nofunction()",
        "$.a.length(1)",
        "$.a.length().b",
        "$..length()",
        7,
        None,
    ],
)
def test_invalid_paths(path: Any) -> None:
    with pytest.raises(ExpressionSyntaxError) as caught:
        compile_path(path)
    assert caught.value.message == "The value for the field must be a valid JSONPath"


def test_syntax_error_names_the_field() -> None:
    with pytest.raises(ExpressionSyntaxError) as caught:
        compile_path("$.a.", field="InputPath")
    assert caught.value.message == "The value for the field 'InputPath' must be a valid JSONPath"


@pytest.mark.parametrize(
    ("path", "options", "ok"),
    [
        ("$", {}, True),
        ("$.a.b[0]['c d']", {}, True),
        ("$[-1]", {}, True),
        ("$items", {}, True),
        ("$items", {"allow_variables": False}, False),
        ("$$.Execution.Input", {}, False),
        ("$$.Execution.Input", {"allow_context": True}, True),
        # [AWS docs] Reference Paths: no '@', ',', ':', '?', '*', functions or filters.
        ("$.a[*]", {}, False),
        ("$.a[0,1]", {}, False),
        ("$.a[1:]", {}, False),
        ("$..a", {}, False),
        ("$.a[?(@.b)]", {}, False),
        ("$['a','b']", {}, False),
        ("$.a.length()", {}, False),
    ],
)
def test_reference_paths(path: str, options: dict[str, bool], ok: bool) -> None:
    context, variables = options.get("allow_context", False), options.get("allow_variables", True)
    if ok:
        compiled = compile_reference_path(path, allow_context=context, allow_variables=variables)
        assert compiled.text == path
    else:
        with pytest.raises(ExpressionSyntaxError) as caught:
            compile_reference_path(
                path, field="ResultPath", allow_context=context, allow_variables=variables
            )
        assert caught.value.message == (
            "The value for the field 'ResultPath' must be a valid Reference Path"
        )


# --- definite vs indefinite, fast path ----------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "definite", "keys"),
    [
        ("$", True, ()),
        ("$.a.b", True, ("a", "b")),
        ("$.a[0]['b c'][-1]", True, ("a", 0, "b c", -1)),
        ("$$.Execution.Id", True, ("Execution", "Id")),
        ("$var.a", True, ("a",)),
        ("$['a','b']", True, None),
        ("$.a.length()", True, None),
        ("$..a.length()", True, None),
        ("$.a[*]", False, None),
        ("$.a[0,1]", False, None),
        ("$.a[0:1]", False, None),
        ("$..a", False, None),
        ("$.a[?(@.b)]", False, None),
        ("$['a','b'].c", False, None),
        ("$.a[*].length()", False, None),
    ],
)
def test_definiteness_and_fast_path(
    path: str, definite: bool, keys: tuple[str | int, ...] | None
) -> None:
    compiled = compile_path(path)
    assert compiled.definite is definite
    assert compiled.keys == keys


@pytest.mark.parametrize(
    ("path", "data"),
    [
        # A str key on a list or a string, an int key on a string or an object: no match.
        ("$.a.b", {"a": [1]}),
        ("$.a.b", {"a": "text"}),
        ("$.a.b", {"a": None}),
        ("$.a[0]", {"a": "text"}),
        ("$.a[0]", {"a": {"0": 1}}),
        ("$.a[0]", {"a": {0: 1}}),
        ("$.a[1]", {"a": [1]}),
        ("$[0]", True),
    ],
)
def test_fast_path_type_mismatches_are_not_found(path: str, data: Any) -> None:
    compiled = compile_path(path)
    assert compiled.keys is not None
    with pytest.raises(PathNotFound):
        compiled.get(data)
    assert not compiled.exists(data)


def test_evaluation_never_parses(monkeypatch: pytest.MonkeyPatch) -> None:
    compiled = [
        compile_path(p)
        for p in (
            "$.store.book[0].title",
            "$..price",
            "$.store.book[?(@.price < 10)].title",
            "$..book.length()",
            "$.store['bicycle','x']",
        )
    ]

    def refuse(*args: Any) -> Any:
        raise AssertionError("parsed at evaluation time")

    for name in ("_compile", "_filter_path"):
        monkeypatch.setattr(paths_module, name, refuse)
    for name in ("parse_path", "parse_filter_path", "_tokens", "_bracket", "parse_filter"):
        monkeypatch.setattr(_pathsyntax, name, refuse)
    assert [p.get(BOOKS) for p in compiled] == [
        "Sayings",
        [8.95, 12.99, 8.99, 22.99, 19.95],
        ["Sayings", "Moby Dick"],
        4,
        {"bicycle": BOOKS["store"]["bicycle"]},
    ]


# --- exists ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "data", "present"),
    [
        ("$.a", {"a": None}, True),
        ("$.a", {"a": False}, True),
        ("$.a", {}, False),
        ("$.a.b", {"a": 1}, False),
        ("$.a[2]", {"a": [1, 2]}, False),
        ("$.a[-2]", {"a": [1, 2]}, True),
        # An indefinite path always "succeeds" (with a possibly empty list).
        ("$.a[*]", {}, True),
        ("$x", {}, True),
        ("$nope", {}, False),
    ],
)
def test_exists(path: str, data: Any, present: bool) -> None:
    assert compile_path(path).exists(data, Ctx(variables={"x": 1})) is present


# --- set (ResultPath) --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "data", "expected"),
    [
        ("$", {"a": 1}, "R"),
        ("$.r", {"a": 1}, {"a": 1, "r": "R"}),
        ("$.a", {"a": 1}, {"a": "R"}),
        ("$.x.y.z", {"a": 1}, {"a": 1, "x": {"y": {"z": "R"}}}),
        ("$.x.y", {"x": {"k": 2}}, {"x": {"k": 2, "y": "R"}}),
        ("$.l[1]", {"l": [1, 2, 3]}, {"l": [1, "R", 3]}),
        ("$.l[-1].v", {"l": [{}, {"v": 0}]}, {"l": [{}, {"v": "R"}]}),
        ("$['a b'].c", {}, {"a b": {"c": "R"}}),
    ],
)
def test_set(path: str, data: Any, expected: Any) -> None:
    before = copy.deepcopy(data)
    assert compile_reference_path(path).set(data, "R") == expected
    assert data == before


def test_set_copies_only_along_the_path() -> None:
    data = {"keep": {"big": [1, 2]}, "path": {"x": 1}}
    placed = compile_reference_path("$.path.y").set(data, 2)
    assert placed["keep"] is data["keep"]
    assert placed["path"] is not data["path"]
    assert data == {"keep": {"big": [1, 2]}, "path": {"x": 1}}


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("$.x", "a string"),
        ("$.x", [1, 2]),
        ("$.x", None),
        ("$.a.x", {"a": 5}),
        ("$.a.x", {"a": None}),
        ("$.l[3]", {"l": [1]}),
        ("$.l[0]", {"l": {"0": 1}}),
        ("$.l[0]", {}),
        ("$var.a", {}),
    ],
)
def test_set_through_a_non_object_is_not_found(path: str, data: Any) -> None:
    with pytest.raises(PathNotFound):
        compile_reference_path(path).set(data, "R")
