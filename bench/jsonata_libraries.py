"""Fidelity and speed of the Python JSONata libraries: how asl/jsonata.py's library was chosen.

Each library needs its own scratch virtualenv (jsonata-python and jsonata-rs both install a
module named ``jsonata``)::

    python3 -m venv /tmp/jv-jsonatapy && /tmp/jv-jsonatapy/bin/pip install jsonatapy
    /tmp/jv-jsonatapy/bin/python bench/jsonata_libraries.py jsonatapy
    # likewise jsonata-rs and jsonata-python

Fidelity: the expressions of the JSONata conformance cases (``$states.input...``, ``$partition``
/``$range`` arguments, comparisons, ``$not``, ``$number``, regex) and a spread of the JSONata
2.0 built-ins, each with the value jsonata-js gives; an ``undefined`` result must stay apart from
``null`` (AWS fails the state on undefined). Speed: evaluation of a compiled expression and
compilation, µs per call. bench/README.md has the results.
"""

from __future__ import annotations

import json
import sys
import time

U = object()  # expected undefined
ERR = object()  # expected an error

DATA = {
    "states": {
        "input": {
            "a": 1,
            "b": [1, 2, 3],
            "s": "Hello",
            "o": {"x": 1.5, "y": None},
            "items": [{"p": 10, "n": "x"}, {"p": 200, "n": "y"}],
            "FunctionInput": {"fst": 1, "snd": 10, "trd": 3},
            "value": 25,
            "type": "Private",
            "result": {"done": False},
            "q": '"',
        }
    }
}
CASES = [
    ("$states.input.a", 1),
    ("$states.input.b", [1, 2, 3]),
    ("$states.input.missing", U),
    ("$states.input.o.y", None),
    ("$states.input.b[1]", 2),
    ("$states.input.b[-1]", 3),
    ("$sum($states.input.b)", 6),
    ("$count($states.input.b)", 3),
    ("$max($states.input.b)", 3),
    ("$average([1,2])", 1.5),
    ("6/2", 3),
    ("7/2", 3.5),
    ("$round(2.5)", 2),
    ("$round(3.5)", 4),
    ("$floor(-1.5)", -2),
    ("$string(1.0)", "1"),
    ("$string(0.1+0.2)", "0.3"),
    ("$string({'a':1})", '{"a":1}'),
    ("$string([1,'x'])", '[1,"x"]'),
    ("$number('2')", 2),
    ("$number('0x10')", 16),
    ("$uppercase($states.input.s)", "HELLO"),
    ("$length('héllo')", 5),
    ("$substring('hello', 1, 3)", "ell"),
    ("$substringAfter('a-b-c','-')", "b-c"),
    ("$split('a,b,c', ',')", ["a", "b", "c"]),
    ("$join(['a','b'], '-')", "a-b"),
    ("$contains('hello$world', /^hello\\$/)", True),
    ("$match('ab12', /\\d+/).match", "12"),
    ("$replace('aaa', 'a', 'b', 2)", "bba"),
    ("$states.input.items[p > 100].n", "y"),
    ("$states.input.items.p", [10, 200]),
    ("$map([1,2,3], function($v){$v*2})", [2, 4, 6]),
    ("$filter([1,2,3,4], function($v){$v%2=0})", [2, 4]),
    ("$reduce([1,2,3], function($a,$b){$a+$b})", 6),
    ("$sort([3,1,2])", [1, 2, 3]),
    ("$states.input.items^(>p).n", ["y", "x"]),
    ("$keys({'a':1,'b':2})", ["a", "b"]),
    ("$merge([{'a':1},{'b':2}])", {"a": 1, "b": 2}),
    ("$lookup({'a':1}, 'a')", 1),
    ("$exists($states.input.nope)", False),
    ("$type(null)", "null"),
    ("$type([])", "array"),
    ("$not($states.input.result.done)", True),
    ("$not($states.input.type = 'Private')", False),
    ("$states.input.value >= 20 and $states.input.value < 30", True),
    ("$states.input.q = '\"'", True),
    ("$append([1],[2])", [1, 2]),
    ("$distinct([1,1,2])", [1, 2]),
    ("$reverse([1,2])", [2, 1]),
    ("$zip([1,2],[3,4])", [[1, 3], [2, 4]]),
    ("$each({'a':1}, function($v,$k){$k})", "a"),
    ("$spread({'a':1,'b':2})", [{"a": 1}, {"b": 2}]),
    ("{'k': $states.input.a}", {"k": 1}),
    ("[1..4]", [1, 2, 3, 4]),
    ("($x := 5; $x * 2)", 10),
    ("'a' & 1", "a1"),
    ("'a' & null", "anull"),
    ("1 + 'a'", ERR),
    ("$boolean('')", False),
    ("$boolean([0])", False),
    ("$abs(-2)", 2),
    ("$power(2, 10)", 1024),
    ("$sqrt(16)", 4),
    ("$formatNumber(1234.5, '#,##0.00')", "1,234.50"),
    ("$formatBase(255, 16)", "ff"),
    ("$pad('x', 3, '-')", "x--"),
    ("$trim('  a  b ')", "a b"),
    ("$base64encode('hi')", "aGk="),
    ("$base64decode('aGk=')", "hi"),
    ("$encodeUrlComponent('a b')", "a%20b"),
    ("$toMillis('2020-01-01T00:00:00.000Z')", 1577836800000),
    ("$fromMillis(0)", "1970-01-01T00:00:00.000Z"),
    ("$single([1,2], function($v){$v>1})", 2),
    ("$shuffle([1]) ", [1]),
    ("$states.input.b[$ > 1]", [2, 3]),
    ("$states.input.o.*", [1.5, None]),
    ("$states.input.**.p", [10, 200]),
    ("$states.input.b.($ * 10)", [10, 20, 30]),
    ("$string(100000000000000000000)", "100000000000000000000"),
    ("$string(1e21)", "1e+21"),
    ("1/0", ERR),
    ("$notafunction()", ERR),
    ("$states.input.b[0] ? 'y' : 'n'", "y"),
    ("$states.input.a in [1,2]", True),
    ("$sum([])", 0),
    ("$states.input ~> $keys() ~> $count()", 10),
    ("$assert(true, 'x')", U),
    ("$error('boom')", ERR),
    ("[]", []),
    ("null", None),
    ("true", True),
    ("$states.input.b[[0..1]]", [1, 2]),
    ("{'a': undefined}", {}),
    ("[1, $states.input.nope, 2]", [1, 2]),
    ("$string(5.0/2)", "2.5"),
    ("0.1 + 0.2", 0.30000000000000004),
    ("$states.input.o.x * 2", 3),
]
SPEED = [
    ("lookup", "$states.input.a"),
    (
        "object",
        "{'total': $sum($states.input.items.p), 'names': $states.input.items.n,"
        " 'big': $count($states.input.items[p > 100])}",
    ),
    ("string", "$uppercase($states.input.s) & '-' & $string($states.input.a)"),
]


def adapter(name):
    if name == "jsonatapy":
        import jsonatapy

        def comp(e):
            c = jsonatapy.compile(e)

            def ev(data, b):
                t = c.evaluate_json_or_none(json.dumps(data), b)
                return U if t is None else json.loads(t)

            def fast(data, b):
                return c.evaluate(data, b)

            return ev, fast

        return comp
    if name == "jsonata-rs":
        import jsonata

        def comp(e):
            c = jsonata.Jsonata(e)
            c.set_output_convert_nulls(False)

            def ev(data, b):
                r = c.evaluate(data, b)
                return U if r is jsonata.UNDEFINED else r

            return ev, ev

        return comp
    import jsonata

    def comp(e):
        c = jsonata.Jsonata(e)

        def ev(data, b):
            return c.evaluate(data, b)  # None for both null and undefined

        return ev, ev

    return comp


def main():
    name = sys.argv[1]
    comp = adapter(name)
    ok, fails = 0, []
    for expr, want in CASES:
        try:
            ev, _ = comp(expr)
            got = ev({}, DATA)
            good = (
                want is not ERR
                and (got == want if want is not U else got is U)
                and (type(got) is type(want) or isinstance(got, type(want)))
            ) or (want is U and got is U)
            if isinstance(want, float) or isinstance(got, float):
                good = want is not ERR and want is not U and got == want
        except Exception as ex:
            got, good = f"error {ex}"[:80], want is ERR
        if good:
            ok += 1
        else:
            shown = "ERR" if want is ERR else "undefined" if want is U else repr(want)
            fails.append(f"  {expr!r}: got {got!r:.80} want {shown}")
    print(f"{name}: fidelity {ok}/{len(CASES)}")
    print("\n".join(fails))
    for label, expr in SPEED:
        _, fast = comp(expr)
        n = 20000
        t = time.perf_counter()
        for _ in range(n):
            fast({}, DATA)
        dt = (time.perf_counter() - t) / n * 1e6
        t = time.perf_counter()
        for _ in range(200):
            comp(expr)
        ct = (time.perf_counter() - t) / 200 * 1e6
        print(f"  speed {label}: evaluate {dt:.1f} us, compile {ct:.1f} us")


main()
