"""A cheaper ``__init__`` for the frozen dataclasses made on every step.

A frozen dataclass sets each field in ``__init__`` through ``object.__setattr__`` (its own
``__setattr__`` refuses), which makes it several times dearer to build than a plain one; the
engine builds several per state (events, history events, decisions). ``fast_init`` gives such
a class an ``__init__`` that writes each slot through the slot's own descriptor instead: the
same signature, defaults and ``__post_init__``, and the instances stay frozen.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

T = TypeVar("T")


def fast_init(cls: type[T]) -> type[T]:
    """Replaces the ``__init__`` of ``cls`` (a frozen dataclass with ``slots=True``)."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__name__}: fast_init wants a frozen dataclass with slots")
    namespace: dict[str, Any] = {"_MISSING": dataclasses.MISSING}
    positional: list[str] = []
    keyword: list[str] = []
    body: list[str] = []
    for index, field in enumerate(dataclasses.fields(cls)):  # type: ignore[arg-type]
        setter = f"_set{index}"
        namespace[setter] = getattr(cls, field.name).__set__
        value = field.name
        if not field.init:
            if field.default_factory is not dataclasses.MISSING:
                namespace[f"_factory{index}"] = field.default_factory
                body.append(f"    {setter}(self, _factory{index}())")
            elif field.default is not dataclasses.MISSING:
                namespace[f"_default{index}"] = field.default
                body.append(f"    {setter}(self, _default{index})")
            continue
        if field.default_factory is not dataclasses.MISSING:
            namespace[f"_factory{index}"] = field.default_factory
            parameter = f"{field.name}=_MISSING"
            value = f"_factory{index}() if {field.name} is _MISSING else {field.name}"
        elif field.default is not dataclasses.MISSING:
            namespace[f"_default{index}"] = field.default
            parameter = f"{field.name}=_default{index}"
        else:
            parameter = field.name
        (keyword if field.kw_only else positional).append(parameter)
        body.append(f"    {setter}(self, {value})")
    if hasattr(cls, "__post_init__"):
        body.append("    self.__post_init__()")
    signature = ", ".join(["self", *positional, *(["*", *keyword] if keyword else [])])
    source = f"def __init__({signature}):\n" + ("\n".join(body) or "    pass") + "\n"
    exec(source, namespace)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    setattr(cls, "__init__", init)  # noqa: B010 - mypy refuses assigning to a method
    return cls
