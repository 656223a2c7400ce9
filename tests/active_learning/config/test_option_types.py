"""Option values are checked against the option types the classes declare (their annotated
constructor signatures): ``relax = "false"`` would have turned relaxation *on*."""

from __future__ import annotations

import typing
from collections.abc import Sequence

import pytest

from active_learning import CampaignConfig
from active_learning._config._option_types import check_option_types, describe, fits

BASE = {
    "campaign": {"name": "t", "objective": "gap", "direction": "minimize", "budget": 4,
                 "batch_size": 2},
    "pool": {"kind": "molecules", "path": "pool.smi"},
    "simulator": {"kind": "xtb"},
    "surrogate": {"kind": "gnn"},
}


def _config(tmp_path, section: str, key: str, value):
    (tmp_path / "pool.smi").write_text("CCO a\nCC b\n")
    data = {k: dict(v) for k, v in BASE.items()}
    data[section][key] = value
    return CampaignConfig.from_dict(data, tmp_path)


@pytest.mark.parametrize("section,key,value,message", [
    ("simulator", "relax", "false",
     "simulator.relax must be true or false, got 'false' (a string: write it without quotes)"),
    ("surrogate", "channels", "16",
     "surrogate.channels must be an integer, got '16' (a string: write it without quotes)"),
    ("simulator", "multiplicity", 2.0, "simulator.multiplicity must be an integer, got 2.0"),
    ("surrogate", "cutoff", True, "surrogate.cutoff must be a number, got True"),
    ("simulator", "method", 2, "simulator.method must be a string, got 2"),
])
def test_wrong_types_are_refused_naming_the_key(tmp_path, section, key, value, message):
    with pytest.raises(ValueError) as err:
        _config(tmp_path, section, key, value)
    assert str(err.value) == message


def test_right_types_pass(tmp_path):
    cfg = _config(tmp_path, "simulator", "relax", True)
    assert cfg.simulator.options["relax"] is True
    assert _config(tmp_path, "surrogate", "cutoff", 4).surrogate.options["cutoff"] == 4  # int ok
    assert _config(tmp_path, "simulator", "n_threads", 1).simulator.options["n_threads"] == 1


def test_type_rules_by_hand():
    assert fits([64, 32], Sequence[int]) and not fits("64", Sequence[int])
    assert fits((1.0, 2), tuple[float, float]) and not fits([1.0], tuple[float, float])
    assert fits("a", typing.Literal["a", "b"]) and not fits("c", typing.Literal["a", "b"])
    assert fits(None, int | None) and fits(3, int | None) and not fits(True, int | None)
    assert fits(lambda x: x, typing.Callable[..., typing.Any])  # cannot judge: accepted
    assert describe(Sequence[int]) == "a list of integers"
    assert describe(int | None) == "an integer"
    with pytest.raises(ValueError, match=r"^x\.k must be a list of integers, got 3$"):
        check_option_types("x", {"k": 3}, {"k": Sequence[int]})
