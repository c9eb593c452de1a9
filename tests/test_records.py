"""imglint.records behaves like dataclasses for everything imglint uses."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from imglint import records
from imglint.records import dataclass, field


@dataclass(frozen=True)
class Point:
    x: int
    y: int = 0
    label: str = field(default="", compare=False)
    secret: str = field(default="", repr=False)


@dataclass
class Bag:
    items: list[int] = field(default_factory=list)
    name: str | None = None


@dataclass
class Custom:
    value: int

    def __repr__(self) -> str:
        return "Custom(<hidden>)"


def test_init_defaults_and_factories() -> None:
    assert (Point(1).x, Point(1).y) == (1, 0)
    first, second = Bag(), Bag()
    first.items.append(1)
    assert second.items == [] and first.items == [1]
    assert Bag([3], name="n").items == [3]
    with pytest.raises(TypeError):
        Point()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Point(1, z=2)  # type: ignore[call-arg]


def test_the_first_instance_is_made_as_every_later_one() -> None:
    # The generated __init__ is compiled on the first instance: that first call checks its
    # arguments as the generated one does, and later calls use the generated one.
    @dataclass(frozen=True)
    class Fresh:
        a: int
        b: str = "b"

    with pytest.raises(TypeError, match="missing 1 required positional argument: 'a'"):
        Fresh()  # type: ignore[call-arg]
    assert Fresh(1) == Fresh(a=1, b="b")
    assert repr(Fresh(2, b="c")).endswith("Fresh(a=2, b='c')")
    with pytest.raises(TypeError, match="unexpected keyword argument 'c'"):
        Fresh(1, c=2)  # type: ignore[call-arg]
    assert Fresh.__init__.__qualname__.endswith("Fresh.__init__")


def test_instances_are_alike_before_and_after_the_class_compiles_its_init() -> None:
    # The first instances come from a generic __init__, later ones from the generated one.
    @dataclass(frozen=True)
    class Frozen:
        a: int
        b: str = "b"
        items: list[int] = field(default_factory=list)

    @dataclass
    class Mutable:
        a: int
        items: list[int] = field(default_factory=list)

    for round_ in range(40):
        made = (Frozen(round_), Frozen(round_, "x"), Frozen(b="y", a=round_), Frozen(1, items=[2]))
        assert [(f.a, f.b, f.items) for f in made] == [
            (round_, "b", []),
            (round_, "x", []),
            (round_, "y", []),
            (1, "b", [2]),
        ]
        assert made[0].items is not Frozen(0).items
        with pytest.raises(records.FrozenInstanceError):
            made[0].a = 2  # type: ignore[misc]
        mutable = Mutable(round_)
        mutable.items.append(round_)
        assert (mutable.a, mutable.items, Mutable(0).items) == (round_, [round_], [])
    assert Frozen(1) == Frozen(1, "b", []) != Frozen(1, "c")


def test_wrong_calls_fail_as_python_says_before_the_class_compiles_its_init() -> None:
    @dataclass
    class Fresh:
        a: int
        b: str = "b"

    Fresh(1)  # the generic __init__ made this one
    failures: dict[str, Callable[[], object]] = {
        "missing 1 required positional argument: 'a'": lambda: Fresh(),  # type: ignore[call-arg]
        "got an unexpected keyword argument 'c'": lambda: Fresh(1, c=2),  # type: ignore[call-arg]
        "got multiple values for argument 'a'": lambda: Fresh(1, a=2),  # type: ignore[misc]
        "takes from 2 to 3 positional arguments but 4 were given": lambda: Fresh(1, "b", 3),  # type: ignore[call-arg]
    }
    for message, call in failures.items():
        with pytest.raises(TypeError, match=message):
            call()


def test_repr_respects_repr_false_and_own_methods() -> None:
    assert repr(Point(1, 2, "a", "hunter2")) == "Point(x=1, y=2, label='a')"
    assert repr(Custom(5)) == "Custom(<hidden>)"


def test_eq_and_hash() -> None:
    assert Point(1, 2, "a") == Point(1, 2, "b")  # label is not compared
    assert Point(1, 2) != Point(2, 1)
    assert Point(1) != (1, 0)  # type: ignore[comparison-overlap]
    assert hash(Point(1, 2, "a")) == hash(Point(1, 2, "b"))
    assert len({Point(1), Point(1), Point(2)}) == 2
    with pytest.raises(TypeError):
        hash(Bag())  # mutable records are unhashable, as with dataclasses


def test_frozen() -> None:
    point = Point(1)
    with pytest.raises(records.FrozenInstanceError):
        point.x = 3  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del point.x


def test_replace_and_fields() -> None:
    moved = records.replace(Point(1, 2, "a"), y=5)
    assert (moved.x, moved.y, moved.label) == (1, 5, "a")
    assert [f.name for f in records.fields(Point)] == ["x", "y", "label", "secret"]
    with pytest.raises(TypeError):
        records.replace(Point(1), nope=1)  # type: ignore[call-arg]


def test_field_order_rule() -> None:
    with pytest.raises(TypeError, match="non-default argument"):

        @dataclass
        class Broken:
            a: int = 1
            b: int  # type: ignore[misc]


def test_pattern_matching() -> None:
    match Point(1, 2):
        case Point(x, y):
            assert (x, y) == (1, 2)


@dataclass(frozen=True, slots=True)
class SlimPoint:
    x: int
    y: int = 0
    tags: tuple[str, ...] = field(default=(), compare=False)

    @property
    def total(self) -> int:
        return self.x + self.y


@dataclass(slots=True)
class SlimBag:
    items: list[int] = field(default_factory=list)
    name: str | None = None


def test_slots_records_have_no_instance_dictionary() -> None:
    import sys

    point, bag = SlimPoint(1, 2), SlimBag()
    assert not hasattr(point, "__dict__") and not hasattr(bag, "__dict__")
    assert SlimPoint.__slots__ == ("x", "y", "tags")
    assert sys.getsizeof(bag) < sys.getsizeof(Bag()) + sys.getsizeof(Bag().__dict__)
    with pytest.raises(AttributeError):
        bag.other = 1  # type: ignore[attr-defined]


def test_slots_records_behave_as_the_others() -> None:
    for _ in range(12):  # before and after the class compiles its init (after 8 instances)
        point = SlimPoint(1)
        assert (point.x, point.y, point.tags, point.total) == (1, 0, (), 1)
        assert point == SlimPoint(1, 0, ("other",)) and hash(point) == hash(SlimPoint(1))
        assert repr(point) == "SlimPoint(x=1, y=0, tags=())"
        with pytest.raises(records.FrozenInstanceError):
            point.x = 2  # type: ignore[misc]
        first, second = SlimBag(), SlimBag(name="n")
        first.items.append(1)
        assert (first.items, second.items, second.name) == ([1], [], "n")
        first.name = "renamed"
        assert records.replace(first, items=[2]) == SlimBag([2], "renamed")
    match SlimPoint(3, 4):
        case SlimPoint(x, y):
            assert (x, y) == (3, 4)


def test_slots_records_pickle_as_their_fields() -> None:
    import pickle

    point = SlimPoint(1, 2, ("a",))
    copy = pickle.loads(pickle.dumps(point))  # frozen: restored without assignment
    assert (copy, copy.tags) == (point, ("a",))
    bag = pickle.loads(pickle.dumps(SlimBag([1], "n")))
    assert bag == SlimBag([1], "n")


@records.dataclass(slots=True)
class SlimEmpty:
    pass


@records.dataclass(frozen=True, slots=True)
class SlimOne:
    value: int


def test_slots_records_pickle_with_any_number_of_fields_many_times() -> None:
    import pickle

    # The state is the tuple of the fields (the same bytes as before the setter was compiled
    # for the class), and restoring it sets the slots of frozen records too, again and again.
    for _ in range(3):
        assert pickle.loads(pickle.dumps(SlimEmpty())) == SlimEmpty()
        assert pickle.loads(pickle.dumps(SlimOne(7))) == SlimOne(7)
        points = [SlimPoint(x, -x, (str(x),)) for x in range(50)]
        assert pickle.loads(pickle.dumps(points)) == points
    assert SlimOne(7).__getstate__() == (7,)  # type: ignore[attr-defined]
    assert SlimPoint(1, 2, ("a",)).__getstate__() == (1, 2, ("a",))  # type: ignore[attr-defined]
    with pytest.raises(ValueError):
        SlimOne(1).__setstate__((1, 2))  # type: ignore[attr-defined]


@records.dataclass(slots=True)
class Sparse:
    name: str
    note: str | None = None
    tags: tuple[str, ...] = ()
    count: int = 0
    __seldom__ = ("note", "tags")


@records.dataclass(frozen=True, slots=True)
class FrozenSparse:
    name: str
    note: str | None = None
    __seldom__ = ("note",)


def test_seldom_fields_share_one_slot_and_one_instance_of_their_defaults() -> None:
    for _ in range(12):  # before and after the class compiles its init (after 8 instances)
        plain, noted = Sparse("a"), Sparse("b", note="n")
        slots: object = vars(Sparse)["__slots__"]  # (mypy takes it for one slot a field)
        assert slots == ("name", "count", "_seldom")
        assert (plain.note, plain.tags, noted.note, noted.tags) == (None, (), "n", ())
        assert plain._seldom is Sparse("c")._seldom  # type: ignore[attr-defined]
        assert noted._seldom is not plain._seldom  # type: ignore[attr-defined]
        # Set, they change this record alone; set back to their defaults, it shares them again.
        plain.tags = ("x",)
        assert (plain.tags, Sparse("c").tags) == (("x",), ())
        plain.tags = ()
        assert plain._seldom is Sparse("c")._seldom  # type: ignore[attr-defined]
        # Fields in every other way: equality, hash of frozen ones, repr, replace, match.
        assert noted == Sparse("b", "n") and noted != Sparse("b")
        assert repr(noted) == "Sparse(name='b', note='n', tags=(), count=0)"
        assert records.replace(noted, tags=("t",)) == Sparse("b", "n", ("t",))
        assert [f.name for f in records.fields(Sparse)] == ["name", "note", "tags", "count"]
        frozen = FrozenSparse("f", note="n")
        assert frozen == FrozenSparse("f", "n") and hash(frozen) == hash(FrozenSparse("f", "n"))
        with pytest.raises(records.FrozenInstanceError):
            frozen.note = "other"  # type: ignore[misc]


def test_seldom_fields_pickle_and_the_shared_defaults_stay_shared() -> None:
    import pickle

    records_ = [Sparse("a"), Sparse("b", note="n"), FrozenSparse("c"), FrozenSparse("d", "n")]
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        copies = pickle.loads(pickle.dumps(records_, protocol=protocol))
        assert copies == records_
        assert copies[0]._seldom is Sparse("x")._seldom  # type: ignore[attr-defined]
        assert copies[2]._seldom is FrozenSparse("x")._seldom  # type: ignore[attr-defined]
        assert copies[1].note == "n" and copies[3].note == "n"


def test_seldom_fields_need_a_plain_default_in_a_slots_record() -> None:
    with pytest.raises(TypeError, match="'items'"):

        @records.dataclass(slots=True)
        class Factory:
            items: list[int] = field(default_factory=list)
            __seldom__ = ("items",)

    with pytest.raises(TypeError, match="'name'"):

        @records.dataclass
        class NotSlots:
            name: str | None = None
            __seldom__ = ("name",)
