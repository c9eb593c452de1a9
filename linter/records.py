"""`@dataclass` as imglint uses it, at a fraction of the standard decorator's start-up cost.

Why not dataclasses: imglint defines about thirty record classes on its start-up path, and the
standard decorator spent about 0.5 ms on each (one `exec` per generated method, plus importing
`inspect`), some 20 ms of a 70 ms one-file run. This module builds a class's `__init__` with a
single `exec` and shares generic `__repr__`, `__eq__` and `__hash__` functions, which brings
that cost to a few milliseconds in all. That one `exec` (compiling a small function, about
0.2 ms) waits until the class has made `COMPILE_AFTER` instances with a generic `__init__`
(binding arguments in a loop: slower per instance, but nothing to compile): a one-file run
defines some sixty record classes and makes a few instances of about twenty, a folder's run
makes thousands of spans and sites, which the generated `__init__` then makes.

For type checkers the names are the standard ones (`dataclasses.dataclass`, `field`, `replace`,
`fields`), so mypy checks every record as a dataclass. The behaviour kept: fields from the
class's own annotations in order, defaults and `field(default_factory=...)`, `repr=False` and
`compare=False` / `hash=False` per field, `frozen=True` (assignment raises
`FrozenInstanceError`, instances hash by their compared fields), eq by class and fields, and
unhashable mutable records. No inheritance between records, no ordering, no `__post_init__`.
`slots=True` (the records a run makes by the thousand: sites, spans, findings) gives instances
no `__dict__`: a field takes 8 bytes instead of a dictionary entry; they pickle as the tuple of
their fields' values (workers send them back). Such a class may not use zero-argument `super()`
(the class is built again with its slots, as `dataclasses` does without fixing that either).

A slots record may name fields that are seldom set, `__seldom__ = ("error", "label")`: those
share one slot, which holds a small record of them, one instance shared by every record that
leaves them all at their defaults (a run's 10,000 image sites had eleven such fields: 88 bytes
a site for nothing). They read as fields (in C, through the shared slot) and are fields in
every other way; each needs a plain default, which is shared, so it must be immutable.
"""

from __future__ import annotations

# typing itself is not imported at run time: it is a large module the start-up path can skip.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from dataclasses import FrozenInstanceError, dataclass, field, fields, replace
    from typing import Any
else:
    _MISSING = object()
    COMPILE_AFTER = 8  # instances made by a class's generic __init__ before it compiles its own

    class FrozenInstanceError(AttributeError):
        """Assignment to a field of a frozen record."""

    class Field:
        __slots__ = ("compare", "default", "default_factory", "hash", "name", "repr")

        def __init__(
            self,
            default: Any = _MISSING,
            default_factory: Any = _MISSING,
            repr: bool = True,
            compare: bool = True,
            hash: bool | None = None,
        ) -> None:
            self.name = ""
            self.default = default
            self.default_factory = default_factory
            self.repr = repr
            self.compare = compare
            self.hash = compare if hash is None else hash

    def field(
        *,
        default: Any = _MISSING,
        default_factory: Any = _MISSING,
        repr: bool = True,
        compare: bool = True,
        hash: bool | None = None,
    ) -> Any:
        return Field(default, default_factory, repr, compare, hash)

    def fields(class_or_instance: Any) -> tuple[Field, ...]:
        return class_or_instance.__record_fields__  # type: ignore[no-any-return]

    def replace(obj: Any, **changes: Any) -> Any:
        values = {f.name: getattr(obj, f.name) for f in obj.__record_fields__}
        unknown = set(changes) - set(values)
        if unknown:
            raise TypeError(f"{type(obj).__name__} has no field {sorted(unknown)[0]!r}")
        values.update(changes)
        return type(obj)(**values)

    def dataclass(cls: Any = None, /, *, frozen: bool = False, slots: bool = False) -> Any:
        def wrap(cls: Any) -> Any:
            return _build(cls, frozen, slots)

        return wrap if cls is None else wrap(cls)

    def _build(cls: Any, frozen: bool, slots: bool) -> Any:
        specs: list[Field] = []
        # (not inspect.get_annotations: importing inspect is part of what this module avoids)
        for name, annotation in cls.__dict__.get("__annotations__", {}).items():  # noqa: RUF063
            if "ClassVar" in str(annotation):
                continue
            value = cls.__dict__.get(name, _MISSING)
            spec = value if isinstance(value, Field) else Field(default=value)
            spec.name = name
            if isinstance(value, Field):
                if spec.default is _MISSING:
                    delattr(cls, name)
                else:
                    setattr(cls, name, spec.default)
            specs.append(spec)
        seldom = tuple(cls.__dict__.get("__seldom__", ()))
        if seldom:
            _check_seldom(cls, specs, seldom, slots)
        if slots:
            cls = _with_slots(cls, specs, seldom)
        own = cls.__dict__
        # A hash the class wrote itself stays (defining __eq__ alone sets __hash__ to None).
        class_hash = own.get("__hash__", _MISSING)
        explicit_hash = not (class_hash is _MISSING or (class_hash is None and "__eq__" in own))
        cls.__record_fields__ = tuple(specs)
        cls.__match_args__ = tuple(s.name for s in specs)
        _check_order(specs)
        # Like dataclasses: methods the class defines itself are kept.
        for name, method in (
            ("__init__", _deferred_init(cls, specs, frozen, seldom)),
            ("__repr__", _repr),
            ("__eq__", _eq),
        ):
            if name not in own:
                setattr(cls, name, method)
        if frozen:
            cls.__setattr__ = _frozen_setattr
            cls.__delattr__ = _frozen_delattr
        if not explicit_hash:
            cls.__hash__ = _hash if frozen else None
        return cls

    def _with_slots(cls: Any, specs: list[Field], seldom: tuple[str, ...] = ()) -> Any:
        """The class made again with a slot per field (slots exist only from a class's creation
        on), the seldom set ones sharing one. Defaults live in `__init__`: a class attribute
        may not share a slot's name."""
        names = tuple(spec.name for spec in specs if spec.name not in seldom)
        every = {spec.name for spec in specs}
        namespace = {k: v for k, v in cls.__dict__.items() if k not in every}
        namespace.pop("__dict__", None)
        namespace.pop("__weakref__", None)
        if seldom:
            names += (_SELDOM,)
            namespace.update(_seldom_fields(cls, specs, seldom))
        namespace["__slots__"] = names
        namespace["__getstate__"] = _state_getter(names)
        slotted = type(cls)(cls.__name__, cls.__bases__, namespace)
        slotted.__setstate__ = _deferred_setstate(slotted, names)
        return slotted

    _SELDOM = "_seldom"  # the slot the seldom set fields share

    def _check_seldom(cls: Any, specs: list[Field], seldom: tuple[str, ...], slots: bool) -> None:
        by_name = {spec.name: spec for spec in specs}
        for name in seldom:
            spec = by_name.get(name)
            if not slots or spec is None or spec.default is _MISSING:
                raise TypeError(
                    f"{cls.__name__}.__seldom__: {name!r} is no field with a plain default "
                    "of a slots record"
                )

    def _seldom_fields(cls: Any, specs: list[Field], seldom: tuple[str, ...]) -> dict[str, Any]:
        """The record the seldom set fields live in (`Class._Seldom`, its one instance with
        every default `Class._Seldom.DEFAULTS`), and a property for each: read by attrgetter
        (in C), written by making a new record of them (instances are shared)."""
        import operator

        defaults = tuple(spec.default for spec in specs if spec.name in seldom)
        order = tuple(spec.name for spec in specs if spec.name in seldom)
        holder = type(
            "_Seldom",
            (),
            {
                "__slots__": order,
                "__module__": cls.__module__,
                "__qualname__": f"{cls.__qualname__}._Seldom",
                "__getstate__": _state_getter(order),
                "__repr__": lambda self: f"_Seldom{operator.attrgetter(*order)(self)!r}",
            },
        )
        holder.__setstate__ = _deferred_setstate(holder, order)
        holder.DEFAULTS = _seldom_record(holder, order, defaults)
        shared_name = f"{holder.__qualname__}.DEFAULTS"

        def __reduce_ex__(self: Any, protocol: Any) -> Any:
            # The shared defaults unpickle as the shared defaults (not one copy per message).
            return shared_name if self is holder.DEFAULTS else object.__reduce_ex__(self, protocol)

        holder.__reduce_ex__ = __reduce_ex__
        namespace: dict[str, Any] = {"_Seldom": holder}
        for index, name in enumerate(order):
            namespace[name] = property(
                operator.attrgetter(f"{_SELDOM}.{name}"),
                _seldom_setter(holder, order, defaults, index),
            )
        return namespace

    def _seldom_record(holder: Any, order: tuple[str, ...], values: tuple[Any, ...]) -> Any:
        record = holder.__new__(holder)
        for name, value in zip(order, values, strict=True):
            object.__setattr__(record, name, value)
        return record

    def _seldom_setter(
        holder: Any, order: tuple[str, ...], defaults: tuple[Any, ...], index: int
    ) -> Any:
        name = order[index]

        def set_seldom(self: Any, value: Any) -> None:
            current = getattr(self, _SELDOM)
            if getattr(current, name) is value:
                return
            values = list(current.__getstate__())  # every field of it, in order
            values[index] = value
            fresh = (
                holder.DEFAULTS
                if all(v is d for v, d in zip(values, defaults, strict=True))
                else _seldom_record(holder, order, tuple(values))
            )
            object.__setattr__(self, _SELDOM, fresh)

        return set_seldom

    # Workers send their results pickled, thousands of records a run: the state is read by
    # one C call (attrgetter) and written by a function compiled per class that calls each
    # slot's own setter (a loop of object.__setattr__ by name was most of the parent's
    # unpickling: 2-3x slower both ways).
    def _state_getter(names: tuple[str, ...]) -> Any:
        import operator

        if len(names) == 1:
            single = operator.attrgetter(names[0])

            def __getstate__(self: Any) -> tuple[Any, ...]:
                return (single(self),)

        elif names:
            several = operator.attrgetter(*names)

            def __getstate__(self: Any) -> tuple[Any, ...]:
                return several(self)  # type: ignore[no-any-return]

        else:

            def __getstate__(self: Any) -> tuple[Any, ...]:
                return ()

        return __getstate__

    def _deferred_setstate(cls: Any, names: tuple[str, ...]) -> Any:
        """`__setstate__`, compiled when the class is first unpickled (most runs never are)."""

        def __setstate__(self: Any, state: tuple[Any, ...]) -> None:
            setstate = _make_setstate(cls, names)
            cls.__setstate__ = setstate
            setstate(self, state)

        return __setstate__

    def _make_setstate(cls: Any, names: tuple[str, ...]) -> Any:
        # Each slot's descriptor sets it directly: frozen records too (their __setattr__ is
        # not called), and a state of the wrong length fails as unpacking it does.
        setters = {f"_set{index}": cls.__dict__[name].__set__ for index, name in enumerate(names)}
        values = "".join(f"_v{index}, " for index in range(len(names)))
        lines = [f"({values}) = state", *(f"_set{i}(self, _v{i})" for i in range(len(names)))]
        exec("def __setstate__(self, state):\n    " + "\n    ".join(lines), setters)
        setstate = setters["__setstate__"]
        setstate.__qualname__ = f"{cls.__qualname__}.__setstate__"
        return setstate

    def _check_order(specs: list[Field]) -> None:
        seen_default = False
        for spec in specs:
            if spec.default is not _MISSING or spec.default_factory is not _MISSING:
                seen_default = True
            elif seen_default:
                raise TypeError(f"non-default argument {spec.name!r} follows default argument")

    def _deferred_init(
        cls: Any, specs: list[Field], frozen: bool, seldom: tuple[str, ...] = ()
    ) -> Any:
        """The generic `__init__`, which puts the generated one in its place after
        COMPILE_AFTER instances. It binds only calls the generated one accepts; any other call
        (a missing, unknown or repeated argument) goes to the generated one, whose TypeError is
        then exactly Python's."""
        positions = {spec.name: index for index, spec in enumerate(specs)}
        assign = object.__setattr__ if frozen else setattr
        made = 0

        def generated() -> Any:
            init = _make_init(cls, specs, frozen, seldom)
            cls.__init__ = init
            return init

        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            nonlocal made
            made += 1
            if made >= COMPILE_AFTER or len(args) > len(specs) or not _binds(args, kwargs):
                generated()(self, *args, **kwargs)
                return
            if seldom:  # the shared defaults first: each seldom field's setter starts from them
                object.__setattr__(self, _SELDOM, cls._Seldom.DEFAULTS)
            for index, value in enumerate(args):
                assign(self, specs[index].name, value)
            for spec in specs[len(args) :]:
                if spec.name in kwargs:
                    value = kwargs[spec.name]
                elif spec.default is not _MISSING:
                    value = spec.default
                else:
                    value = spec.default_factory()
                assign(self, spec.name, value)

        def _binds(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
            for name in kwargs:
                position = positions.get(name)
                if position is None or position < len(args):
                    return False
            return all(
                spec.name in kwargs
                or spec.default is not _MISSING
                or spec.default_factory is not _MISSING
                for spec in specs[len(args) :]
            )

        __init__.__qualname__ = f"{cls.__qualname__}.__init__"
        return __init__

    def _make_init(cls: Any, specs: list[Field], frozen: bool, seldom: tuple[str, ...] = ()) -> Any:
        params, body, scope = [], [], {"__setattr": object.__setattr__}
        for spec in specs:
            name = spec.name
            if spec.default is not _MISSING:
                scope[f"__default_{name}"] = spec.default
                params.append(f"{name}=__default_{name}")
            elif spec.default_factory is not _MISSING:
                scope[f"__factory_{name}"] = spec.default_factory
                params.append(f"{name}=__missing")
                body.append(f" if {name} is __missing: {name} = __factory_{name}()")
            else:
                params.append(name)
            if name in seldom:
                continue
            assign = f"__setattr(self, {name!r}, {name})" if frozen else f"self.{name} = {name}"
            body.append(f" {assign}")
        if seldom:
            order = [spec.name for spec in specs if spec.name in seldom]
            scope["__seldom"] = cls._Seldom
            scope["__seldom_record"] = _seldom_record
            scope["__seldom_order"] = tuple(order)
            all_default = " and ".join(f"{name} is __default_{name}" for name in order)
            values = "".join(f"{name}, " for name in order)
            body.append(
                f" __setattr(self, {_SELDOM!r}, __seldom.DEFAULTS if {all_default} else "
                f"__seldom_record(__seldom, __seldom_order, ({values})))"
            )
        scope["__missing"] = _MISSING
        source = f"def __init__(self, {', '.join(params)}):\n" + "\n".join(body or [" pass"])
        namespace: dict[str, Any] = {}
        exec(source, scope, namespace)
        init = namespace["__init__"]
        init.__qualname__ = f"{cls.__qualname__}.__init__"
        return init

    def _repr(self: Any) -> str:
        shown = ", ".join(
            f"{f.name}={getattr(self, f.name)!r}" for f in self.__record_fields__ if f.repr
        )
        return f"{type(self).__qualname__}({shown})"

    def _compared(self: Any) -> tuple[Any, ...]:
        return tuple(getattr(self, f.name) for f in self.__record_fields__ if f.compare)

    def _eq(self: Any, other: Any) -> Any:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return _compared(self) == _compared(other)

    def _hash(self: Any) -> int:
        return hash(tuple(getattr(self, f.name) for f in self.__record_fields__ if f.hash))

    def _frozen_setattr(self: Any, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def _frozen_delattr(self: Any, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")


__all__ = ["FrozenInstanceError", "dataclass", "field", "fields", "replace"]
