"""Records: classes that are their fields, built without generating code.

Python 3.11's dataclasses compile a handful of methods for every class they create (`__init__`, `__repr__`,
`__eq__` and, when frozen, `__hash__`, `__setattr__`, `__delattr__`): about 3M instructions per frozen class,
which made creating the 42 classes of `bruin run`'s path, 120M before its first asset starts, a larger cost than
importing PyYAML (91M) or click (48M). A record's fields are read from its annotations once, when the class is
created; every record shares the methods below, which walk those fields.

    class Seed(Record):                      # frozen, like @dataclass(frozen=True)
        path: str
        columns: tuple[str, ...] = ()
        rows: list[str] = field(default_factory=list, repr=False)

    class Progress(Record, frozen=False):    # like @dataclass

Fields are the class's own annotations, in order (records do not inherit from one another); `ClassVar`
annotations are not fields. What a dataclass gives that pybruin uses is here: positional and keyword
arguments, defaults and factories, `field(init=False, repr=False, compare=False)`, `__post_init__`, equality
and hashing by field, `replace()`. A frozen record refuses assignment; `__post_init__` sets derived fields
with `object.__setattr__`, as with dataclasses.
"""

from __future__ import annotations

import itertools
from typing import Any, ClassVar, TypeVar, dataclass_transform

_MISSING: Any = object()

R = TypeVar("R", bound="Record")


class FrozenRecordError(AttributeError):
    """Assignment to a field of a frozen record."""


class Field:
    """One field of a record: its name, its default or factory, and which methods see it."""

    __slots__ = ("compare", "default", "factory", "init", "name", "repr")

    def __init__(self, default: Any, factory: Any, init: bool, repr: bool, compare: bool) -> None:
        if default is not _MISSING and factory is not _MISSING:
            raise ValueError("a field takes a default or a default_factory, not both")
        self.name = ""
        self.default = default
        self.factory = factory
        self.init = init
        self.repr = repr
        self.compare = compare

    @property
    def required(self) -> bool:
        return self.default is _MISSING and self.factory is _MISSING


def field(
    *,
    default: Any = _MISSING,
    default_factory: Any = _MISSING,
    init: bool = True,
    repr: bool = True,
    compare: bool = True,
) -> Any:
    """A field's options where its default alone does not say them (as `dataclasses.field`)."""
    return Field(default, default_factory, init, repr, compare)


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
class Record:
    """The base of pybruin's records (see the module's docstring)."""

    __slots__ = ()
    __record_fields__: ClassVar[tuple[Field, ...]] = ()
    __record_init__: ClassVar[tuple[Field, ...]] = ()
    __record_frozen__: ClassVar[bool] = True

    def __init_subclass__(cls, *, frozen: bool = True, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields = []
        for name, annotation in vars(cls).get("__annotations__", {}).items():
            if _is_class_var(annotation):
                continue
            declared = cls.__dict__.get(name, _MISSING)
            spec = declared if isinstance(declared, Field) else Field(declared, _MISSING, True, True, True)
            spec.name = name
            if spec.default is _MISSING and name in cls.__dict__:
                delattr(cls, name)  # a factory's field, or one that must be given: no class attribute
            elif isinstance(declared, Field):
                setattr(cls, name, spec.default)
            fields.append(spec)
        init = tuple(spec for spec in fields if spec.init)
        for before, after in itertools.pairwise(init):
            if after.required and not before.required:
                raise TypeError(f"{cls.__name__}: field '{after.name}' without a default follows one with a default")
        cls.__record_fields__ = tuple(fields)
        cls.__record_init__ = init
        cls.__record_frozen__ = frozen
        if not frozen and "__hash__" not in cls.__dict__:
            cls.__hash__ = None  # type: ignore[assignment]  # as a mutable dataclass: equal by value, so unhashable

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        cls = type(self)
        init = cls.__record_init__
        if len(args) > len(init):
            raise TypeError(f"{cls.__name__}() takes {len(init)} positional arguments but {len(args)} were given")
        values = self.__dict__  # written directly: a frozen record's `__setattr__` refuses
        for spec, value in zip(init[: len(args)], args, strict=True):
            if spec.name in kwargs:
                raise TypeError(f"{cls.__name__}() got multiple values for argument '{spec.name}'")
            values[spec.name] = value
        for spec in init[len(args) :]:
            if spec.name in kwargs:
                values[spec.name] = kwargs.pop(spec.name)
            elif spec.default is not _MISSING:
                values[spec.name] = spec.default
            elif spec.factory is not _MISSING:
                values[spec.name] = spec.factory()
            else:
                raise TypeError(f"{cls.__name__}() missing required argument: '{spec.name}'")
        if kwargs:  # what is left named no field
            raise TypeError(f"{cls.__name__}() got an unexpected keyword argument '{next(iter(kwargs))}'")
        if len(init) != len(cls.__record_fields__):
            for spec in cls.__record_fields__:
                if spec.init:
                    continue
                if spec.factory is not _MISSING:
                    values[spec.name] = spec.factory()
                elif spec.default is not _MISSING:
                    values[spec.name] = spec.default  # as dataclasses do: a function default stays unbound
        post_init = getattr(self, "__post_init__", None)
        if post_init is not None:
            post_init()

    def __setattr__(self, name: str, value: Any) -> None:
        if type(self).__record_frozen__:
            raise FrozenRecordError(f"cannot assign to field '{name}'")
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        if type(self).__record_frozen__:
            raise FrozenRecordError(f"cannot delete field '{name}'")
        object.__delattr__(self, name)

    def _compared(self) -> tuple[Any, ...]:
        return tuple(getattr(self, spec.name) for spec in type(self).__record_fields__ if spec.compare)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._compared() == other._compared()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._compared())

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{spec.name}={getattr(self, spec.name)!r}" for spec in type(self).__record_fields__ if spec.repr
        )
        return f"{type(self).__qualname__}({shown})"


def replace(record: R, /, **changes: Any) -> R:
    """A copy of `record` with `changes` (as `dataclasses.replace`: fields with `init=False` are made anew)."""
    cls = type(record)
    for name in changes:
        if not any(spec.name == name for spec in cls.__record_init__):
            raise TypeError(f"{cls.__name__} has no field '{name}' to replace")
    return cls(**{spec.name: changes.get(spec.name, getattr(record, spec.name)) for spec in cls.__record_init__})


def as_dict(record: Record) -> dict[str, Any]:
    """The record's fields by name, nested records, lists, tuples and dicts converted all the way down."""
    return {spec.name: _plain(getattr(record, spec.name)) for spec in type(record).__record_fields__}


def _plain(value: Any) -> Any:
    if isinstance(value, Record):
        return as_dict(value)
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a named tuple takes its items one by one
        return type(value)(*(_plain(item) for item in value))
    if isinstance(value, list | tuple):
        return type(value)(_plain(item) for item in value)
    if isinstance(value, dict):
        return {_plain(key): _plain(item) for key, item in value.items()}
    return value


def _is_class_var(annotation: object) -> bool:
    if isinstance(annotation, str):  # `from __future__ import annotations`: the annotation as written
        return annotation.startswith(("ClassVar", "typing.ClassVar"))
    return annotation is ClassVar or getattr(annotation, "__origin__", None) is ClassVar


def field_names(cls: type[Record]) -> tuple[str, ...]:
    """The names of a record class's fields, in order."""
    return tuple(spec.name for spec in cls.__record_fields__)
