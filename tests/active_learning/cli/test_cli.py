"""The CLI skeleton: version, help, and the no-traceback error path."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from active_learning.cli import COMMANDS, main


def test_version_and_help():
    runner = CliRunner()
    res = runner.invoke(main, ["--version"])
    assert res.exit_code == 0 and "scout, version" in res.output
    res = runner.invoke(main, ["--help"])
    assert res.exit_code == 0
    for name in COMMANDS:  # every listed command is real and has help
        assert name in res.output
        sub = runner.invoke(main, [name, "--help"])
        assert sub.exit_code == 0, sub.output


def test_unknown_command_exit_code_2():
    res = subprocess.run([sys.executable, "-m", "active_learning", "nope"],
                         capture_output=True, text=True)
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
