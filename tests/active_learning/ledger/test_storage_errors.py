"""A storage that cannot be used is one line naming it (password hidden), exit code 2; no
server needed: an unreachable port, a driver that is not installed, MySQL refused."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from active_learning import CampaignConfig
from active_learning._ledger._storage import make_storage
from active_learning.cli import main
from tests.active_learning import _fakes

SECRET = "pw-9f3k2"
UNREACHABLE = f"postgresql://scout:{SECRET}@127.0.0.1:1/scout"  # port 1: nothing listens


def test_unreachable_postgres_is_one_line_without_the_password():
    with pytest.raises(ValueError) as err:
        make_storage(UNREACHABLE, connect_attempts=1)
    text = str(err.value)
    assert "\n" not in text and SECRET not in text
    assert text.startswith("storage postgresql://scout:***@127.0.0.1:1/scout cannot be reached")


def test_a_missing_driver_says_what_to_install():
    with pytest.raises(ValueError, match=r"driver is not installed.*scoutlab\[hpc\]"):
        make_storage(f"postgresql+pg8000://scout:{SECRET}@127.0.0.1:1/scout")


def test_mysql_is_refused_clearly(tmp_path):
    with pytest.raises(ValueError, match=r"MySQL/MariaDB is not supported.*postgresql://"):
        make_storage(f"mysql://u:{SECRET}@host/db")
    cfg = _fakes.write_config(tmp_path, storage=f"mysql+pymysql://u:{SECRET}@host/db")
    with pytest.raises(ValueError, match="not supported") as err:
        CampaignConfig.from_toml(cfg)
    assert SECRET not in str(err.value)


@pytest.mark.parametrize("command", ["check", "run"])
def test_cli_on_an_unreachable_storage_exits_2_with_one_line(tmp_path, command):
    cfg = _fakes.write_config(tmp_path, storage=UNREACHABLE)
    res = CliRunner().invoke(main, [command, str(cfg)])
    assert res.exit_code == 2, res.output
    errors = [ln for ln in res.output.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "cannot be reached" in errors[0]
    assert SECRET not in res.output and "Traceback" not in res.output
