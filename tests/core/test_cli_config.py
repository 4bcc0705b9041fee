"""CLI dispatch and typed configs with presets."""

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from rlsuite import cli, config
from rlsuite.cli import parsing, train


@dataclass(kw_only=True)
class _Args:
    env: str = "CartPole-v1"
    """Gymnasium id."""
    lr: float = 1e-3
    """Learning rate."""
    layers: tuple[int, ...] = (64, 64)
    """Hidden sizes."""


def test_parse_applies_preset_then_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    presets = tmp_path / "presets.toml"
    presets.write_text('[toy."Pong"]\nlr = 0.5\nlayers = [8]\n')
    monkeypatch.setattr(config, "PRESETS_FILE", presets)
    toy = config.load_presets("toy")
    assert parsing.parse(_Args, [], presets=toy) == _Args()
    assert parsing.parse(_Args, ["--env", "Pong"], presets=toy) == _Args(
        env="Pong", lr=0.5, layers=(8,)
    )
    assert parsing.parse(_Args, ["--env=Pong", "--lr", "0.25"], presets=toy).lr == 0.25
    assert parsing.parse(_Args, ["--env", "Pong"]) == _Args(env="Pong")  # no presets given


def test_train_presets_per_env_and_per_board_size() -> None:
    """`rlsuite train` parses every algorithm's flags over its presets; agents parse nothing."""
    assert train.parse_config("ppo", ["--env", "CartPole-v1"]).vectorization == "native"
    assert train.parse_config("a2c", []).algo == "a2c"
    seven = train.parse_config("alphazero", ["--board-size", "7", "--blocks", "2"])
    assert (seven.komi, seven.simulations, seven.blocks) == (8.5, 48, 2)  # preset, then flag
    assert train.parse_config("alphazero", ["--board-size", "6"]).simulations == 32  # no preset


def test_bad_preset_field_is_named() -> None:
    with pytest.raises(ValueError, match=r"_Args has no field\(s\) \['gamma'\]"):
        config.apply_overrides(_Args(), {"gamma": 0.9})


def test_load_config_round_trip_and_errors(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"env": "X", "lr": 2.0, "layers": [3]}))
    assert config.load_config(_Args, tmp_path) == _Args(env="X", lr=2.0, layers=(3,))
    (tmp_path / "config.json").write_text(json.dumps({"env": "X", "momentum": 1}))
    with pytest.raises(ValueError, match="momentum"):
        config.load_config(_Args, tmp_path)
    with pytest.raises(FileNotFoundError, match="cannot resume"):
        config.load_config(_Args, tmp_path / "nope")


def test_new_run_dirs_never_collide(tmp_path: Path) -> None:
    a = config.new_run_dir(tmp_path, "dqn")
    b = config.new_run_dir(tmp_path, "dqn")
    assert a != b and a.is_dir() and b.is_dir()


def test_cli_usage_and_unknown_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 2
    assert "train ALGO" in capsys.readouterr().out
    assert cli.main(["fly"]) == 2
    assert "unknown command 'fly'" in capsys.readouterr().err
    assert cli.main(["train", "sarsa"]) == 2
    assert "ALGO is one of" in capsys.readouterr().err
    assert cli.main(["bench", "nope"]) == 2
    assert "NAME is one of" in capsys.readouterr().err


def test_cli_reports_missing_features_and_dispatches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(cli.COMMANDS, "arena", "rlsuite.no_such_module:main")
    assert cli.main(["arena"]) == 2
    calls = []
    monkeypatch.setitem(cli.COMMANDS, "arena", "json:dumps")
    monkeypatch.setattr(json, "dumps", lambda argv: calls.append(argv) or 0)
    assert cli.main(["arena", "--games", "3"]) == 0
    assert calls == [["--games", "3"]]
