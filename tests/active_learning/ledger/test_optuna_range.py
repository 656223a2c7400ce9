"""The Optuna range the ledger declares is the one the package requires (and CI tests both
ends of: ``make test`` the newest, ``make test-optuna-min`` the lowest)."""

from __future__ import annotations

import re
from pathlib import Path

import optuna

from active_learning._ledger import _optuna

ROOT = Path(__file__).resolve().parents[3]


def test_declared_range_matches_the_requirement_and_the_installed_version():
    text = (ROOT / "pyproject.toml").read_text()
    spec = re.search(r'"optuna>=([\d.]+),<([\d.]+)"', text)
    assert spec, "pyproject.toml must bound optuna from both sides"
    low, high = (_optuna._version_tuple(v) for v in spec.groups())
    assert (low, high) == _optuna.SUPPORTED
    assert _optuna.supported(optuna.__version__)


def test_version_arithmetic():
    assert _optuna._version_tuple("4.3.0") == (4, 3)
    assert _optuna._version_tuple("5.0.0rc1") == (5, 0)
    assert _optuna.supported("4.3.0") and _optuna.supported("5.9.1")
    assert not _optuna.supported("4.2.1") and not _optuna.supported("6.0.0")
