"""`authsvc.model.values.value`: a frozen slotted dataclass in every behaviour, but its
``__init__`` (which stores through the slot descriptors instead of ``object.__setattr__``)."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import pytest

from authsvc.model.attempts import AttemptOutcome, LoadedUser, Match
from authsvc.model.values import value


@value
class Sample:
    number: int
    name: str = "x"
    items: list[int] = dataclasses.field(default_factory=list)

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", self.name.upper())


@dataclasses.dataclass(frozen=True, slots=True)
class Reference:
    number: int
    name: str = "x"
    items: list[int] = dataclasses.field(default_factory=list)

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", self.name.upper())


@value
class Derived(Sample):
    extra: int = 7


def _fields(instance: Any) -> tuple[Any, ...]:
    return tuple(getattr(instance, field.name) for field in dataclasses.fields(instance))


@pytest.mark.parametrize(("args", "kwargs"), [
    ((1,), {}), ((1, "y"), {}), ((1, "y", [2]), {}), ((), {"number": 3, "items": [4]}),
    ((5,), {"name": "z"})])
def test_a_value_is_built_as_the_dataclass_would_build_it(args: tuple[Any, ...],
                                                          kwargs: dict[str, Any]) -> None:
    assert _fields(Sample(*args, **kwargs)) == _fields(Reference(*args, **kwargs))


def test_its_signature_is_the_dataclass_signature() -> None:
    ours = [(p.name, p.kind, p.default is inspect.Parameter.empty)
            for p in inspect.signature(Sample).parameters.values()]
    theirs = [(p.name, p.kind, p.default is inspect.Parameter.empty)
              for p in inspect.signature(Reference).parameters.values()]
    assert ours == theirs


def test_it_stays_frozen_hashable_comparable_and_replaceable() -> None:
    sample = Sample(1, "y")
    with pytest.raises(dataclasses.FrozenInstanceError):
        sample.number = 2  # type: ignore[misc]
    assert Sample(1, "y") == sample and Sample(2, "y") != sample
    assert hash(Sample(1, "y", ())) == hash(Sample(1, "y", ()))  # type: ignore[arg-type]
    assert repr(sample) == "Sample(number=1, name='Y', items=[])"
    assert dataclasses.replace(sample, number=9) == Sample(9, "Y")
    assert not hasattr(sample, "__dict__")


def test_each_instance_gets_its_own_default_from_a_factory() -> None:
    first, second = Sample(1), Sample(1)
    first.items.append(1)
    assert second.items == []


def test_a_subclass_sets_inherited_fields_too() -> None:
    derived = Derived(1, "q", [2], 3)
    assert _fields(derived) == (1, "Q", [2], 3) and Derived(1).extra == 7


def test_a_missing_or_unknown_argument_fails_as_a_dataclass_fails() -> None:
    with pytest.raises(TypeError):
        Sample()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Sample(1, unknown=2)  # type: ignore[call-arg]


@pytest.mark.parametrize("shape", ["keyword-only", "init=False", "InitVar"])
def test_fields_it_cannot_build_faithfully_are_refused_at_decoration(shape: str) -> None:
    with pytest.raises(TypeError, match="positional fields only"):
        if shape == "keyword-only":
            @value
            class KeywordOnly:
                number: int = dataclasses.field(kw_only=True)
        elif shape == "init=False":
            @value
            class NotInInit:
                number: int = dataclasses.field(default=0, init=False)
        else:
            @value
            class WithInitVar:
                number: int
                seed: dataclasses.InitVar[int]


def test_the_verification_values_use_it() -> None:
    for cls in (Match, LoadedUser, AttemptOutcome):
        assert any(name.startswith("_set_") for name in cls.__init__.__code__.co_names)
