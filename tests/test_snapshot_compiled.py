"""The generated decoders (vpce_audit.snapshot.compiled) accept exactly what the generic ones
(vpce_audit.snapshot.codec) accept, and build the same objects: checked on a real snapshot and
on thousands of single mutations of it, each at a random place of the document."""

from __future__ import annotations

import copy
import dataclasses
import json
import random
import sys
from pathlib import Path
from typing import Any

import pytest

from vpce_audit.model import Vpc
from vpce_audit.snapshot import codec, compiled
from vpce_audit.snapshot import document as snapshot_document
from vpce_audit.snapshot.document import SnapshotFile

ESTATE = Path(__file__).resolve().parent.parent / "fixtures" / "snapshots" / "golden-estate.json"
REPLACEMENTS: tuple[Any, ...] = (None, 0, -1, 7, True, False, "", "x", "10.0.0.0/8", [], {}, 1.5)


def _body() -> dict[str, Any]:
    body = snapshot_document._parse(ESTATE.read_text(), "golden")
    snapshot_document._take_catalogue_references(body)
    return body


def _places(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _places(inner, (*path, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += _places(inner, (*path, index))
    return found


def _mutated(body: dict[str, Any], place: tuple[Any, ...], rng: random.Random) -> Any:
    changed = copy.deepcopy(body)
    if not place:
        return rng.choice(REPLACEMENTS)
    *parents, last = place
    holder = changed
    for step in parents:
        holder = holder[step]
    action = rng.randrange(3)
    if action == 0 and isinstance(holder, dict):
        del holder[last]
    elif action == 1 and isinstance(holder, dict):
        holder[f"unknown_{rng.randrange(3)}"] = holder[last]
    else:
        holder[last] = rng.choice(REPLACEMENTS)
    return changed


def _generic(body: Any) -> tuple[bool, Any]:
    try:
        return True, codec._decoder(SnapshotFile)(body)
    except codec._Invalid:
        return False, None


def _fast(body: Any) -> tuple[bool, Any]:
    try:
        return True, compiled.decoder(SnapshotFile)(body)
    except compiled.Refused:
        return False, None


def test_a_real_snapshot_decodes_to_equal_objects_on_both_paths() -> None:
    body = _body()
    assert _fast(body) == _generic(body) == (True, _generic(body)[1])


@pytest.mark.parametrize("seed", range(8))
def test_single_mutations_are_accepted_or_refused_alike(seed: int) -> None:
    body = _body()
    rng = random.Random(seed)
    places = _places(body)
    refused = 0
    for _ in range(250):
        changed = _mutated(body, rng.choice(places), rng)
        fast, generic = _fast(changed), _generic(changed)
        assert fast == generic, json.dumps(changed)[:200]
        refused += not fast[0]
    assert refused > 50  # the mutations do reach what the model refuses


def test_a_refusal_is_reported_by_the_generic_decoder_with_its_path() -> None:
    body = _body()
    body["regions"][0]["vpcs"][0]["cidr_blocks"] = ["not a cidr"]
    with pytest.raises(codec.DecodeError, match=r"\$\.regions\[0\]\.vpcs\[0\]\.cidr_blocks\[0\]"):
        codec.decode(SnapshotFile, body)


@dataclasses.dataclass(frozen=True)
class _Checked:
    name: str

    def __post_init__(self) -> None:
        if self.name == "refused":
            raise ValueError("refused by __post_init__")


def test_a_dataclass_with_post_init_is_built_by_its_init() -> None:
    assert compiled.decoder(_Checked)({"name": "kept"}) == _Checked("kept")
    with pytest.raises(ValueError, match="refused by __post_init__"):
        compiled.decoder(_Checked)({"name": "refused"})


@dataclasses.dataclass(frozen=True)
class _OwnInit:
    name: str

    def __init__(self, name: str) -> None:  # written here, not by dataclasses
        object.__setattr__(self, "name", name.lower())


@dataclasses.dataclass(frozen=True)
class _OwnNew:
    name: str

    def __new__(cls, *args: Any, **kwargs: Any) -> _OwnNew:
        raise ValueError("refused by __new__")


def test_a_dataclass_with_its_own_init_or_new_is_built_by_them() -> None:
    assert compiled.decoder(_OwnInit)({"name": "ABC"}) == _OwnInit("abc")
    assert compiled.decoder(_OwnInit)({"name": "ABC"}).name == "abc"
    with pytest.raises(ValueError, match="refused by __new__"):
        compiled.decoder(_OwnNew)({"name": "x"})


def test_objects_built_on_the_fast_path_are_as_small_as_built_by_init() -> None:
    """Filling an instance's __dict__ wholesale would cost each of them its shared keys (and,
    in CPython, every later instance of the class too): 161 -> 337 bytes a VPC."""
    data = {"vpc_id": "vpc-1", "owner_id": "111111111111", "cidr_blocks": ["10.0.0.0/16"]}
    fast = compiled.decoder(Vpc)(data)
    made = Vpc("vpc-1", "111111111111", ("10.0.0.0/16",))
    assert fast == made
    assert sys.getsizeof(fast.__dict__) == sys.getsizeof(made.__dict__)
    assert list(fast.__dict__) == list(made.__dict__)


def test_only_short_values_are_remembered_as_passing_their_checks() -> None:
    assert codec.worth_remembering(set(), "eu-west-1") and codec.worth_remembering(set(), 443)
    assert not codec.worth_remembering(set(), "a-" * 100 + "x1")
