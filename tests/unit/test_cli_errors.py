"""The CLI's last line of defence: whatever escapes a command becomes one message and an
exit code, never a traceback (a bug, Ctrl-C at a prompt, typer's own abort)."""

from __future__ import annotations

import pytest
import typer

from stackplan.cli import main as cli_main


@pytest.mark.parametrize(
    ("raised", "code", "words"),
    [
        (RuntimeError("boom"), 1, "internal error (RuntimeError: boom)"),
        (KeyboardInterrupt(), 130, "Interrupted."),
        (typer.Abort(), 130, "Interrupted."),
    ],
)
def test_what_escapes_a_command_is_one_line_and_an_exit_code(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], raised, code, words
) -> None:
    def app(**_: object) -> None:
        raise raised

    monkeypatch.setattr(cli_main, "app", app)
    with pytest.raises(SystemExit) as exited:
        cli_main.main()
    assert exited.value.code == code
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
