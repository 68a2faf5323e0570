"""`value`: ``@dataclass(frozen=True, slots=True)`` with an ``__init__`` that costs half as much.

A frozen dataclass's generated ``__init__`` stores each field through
``object.__setattr__(self, name, value)``: an attribute lookup, a call through the type's
setattr slot, then a second lookup of the field's slot descriptor. A verification builds ~17
such values with ~114 fields (the request, the signature's parts, matches, the outcome, the
verdict, the log's facts), so that path took ~4% of the service's CPU. `value` keeps every
dataclass behaviour (frozen: assigning raises `FrozenInstanceError`; eq, hash, repr, order,
`dataclasses.replace`, `fields`, defaults, default factories, ``__post_init__``) and replaces
only ``__init__`` by one that stores through each field's slot descriptor directly (~570 ns
instead of ~1,040 ns for nine fields; docs/performance.md has the measurement).

Only what dataclasses itself would accept as positional-or-keyword fields is supported: a class
with keyword-only fields, ``init=False`` fields or ``InitVar`` pseudo-fields is refused when it
is decorated (TypeError), so nothing silently behaves differently.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from typing import Any, TypeVar, dataclass_transform

T = TypeVar("T")
_FACTORY = object()  # the default of a parameter whose field has a default factory


@dataclass_transform(frozen_default=True)
def value(cls: type[T]) -> type[T]:
    """``@dataclass(frozen=True, slots=True)``, with the faster ``__init__`` (module docstring)."""
    made: type[T] = dataclasses.dataclass(frozen=True, slots=True)(cls)
    made.__init__ = _fast_init(made)  # type: ignore[method-assign]
    return made


def _fast_init(cls: type[Any]) -> Callable[..., None]:
    fields = dataclasses.fields(cls)
    names = [field.name for field in fields]
    if list(inspect.signature(cls.__init__).parameters)[1:] != names or any(
            field.kw_only or not field.init for field in fields):
        raise TypeError(f"@value supports positional fields only: {cls.__qualname__}")
    namespace: dict[str, Any] = {"_FACTORY": _FACTORY}
    parameters, body = [], []
    for field in fields:
        namespace[f"_set_{field.name}"] = _slot(cls, field.name).__set__
        stored = field.name
        if field.default is not dataclasses.MISSING:
            namespace[f"_default_{field.name}"] = field.default
            parameters.append(f"{field.name}=_default_{field.name}")
        elif field.default_factory is not dataclasses.MISSING:
            namespace[f"_factory_{field.name}"] = field.default_factory
            parameters.append(f"{field.name}=_FACTORY")
            stored = f"_factory_{field.name}() if {field.name} is _FACTORY else {field.name}"
        else:
            parameters.append(field.name)
        body.append(f"    _set_{field.name}(self, {stored})\n")
    if hasattr(cls, "__post_init__"):
        body.append("    self.__post_init__()\n")
    source = (f"def __init__(self, {', '.join(parameters)}):\n" + "".join(body or ["    pass\n"]))
    exec(source, namespace)  # noqa: S102 (our own source, built from the class's field names)
    init: Callable[..., None] = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    return init


def _slot(cls: type[Any], name: str) -> Any:
    """The slot descriptor of field `name` (a base class's, for an inherited field)."""
    return next(klass.__dict__[name] for klass in cls.__mro__ if name in klass.__dict__)
