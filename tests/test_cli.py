"""`rlsuite bench` finds the benchmark scripts of a checkout, or says where it looked; the
`rlsuite` command runs as `python -m rlsuite.cli` too."""

import subprocess
import sys

from rlsuite.cli import bench


def test_bench_runs_a_script_from_the_environment_variable(tmp_path, monkeypatch, capsys):
    (tmp_path / "hello.py").write_text("import sys\nprint('hello', sys.argv[1:])\n")
    monkeypatch.setenv(bench.ENV_VAR, str(tmp_path))
    monkeypatch.setattr(sys, "argv", list(sys.argv))  # bench replaces it for the script
    assert bench.main(["hello", "--fast"]) == 0
    assert capsys.readouterr().out == "hello ['--fast']\n"
    assert bench.main(["nope"]) == 2
    assert "NAME is one of ['hello']" in capsys.readouterr().err


def test_bench_without_scripts_says_where_it_looked(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(bench.ENV_VAR, str(tmp_path / "empty"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(bench, "__file__", str(tmp_path / "site" / "rlsuite" / "cli" / "b.py"))
    assert bench.main(["go_rules"]) == 2
    err = capsys.readouterr().err
    assert "no benchmark scripts found" in err and str(tmp_path / "empty") in err
    assert "ship with the source tree" in err


def test_bench_finds_the_checkout_it_runs_from(tmp_path, monkeypatch):
    monkeypatch.delenv(bench.ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)  # not a checkout: falls back to the one the package lives in
    found = bench.find_bench_dir()
    assert found is not None and (found / "go_rules.py").is_file()


def test_python_dash_m_runs_the_command():
    result = subprocess.run([sys.executable, "-m", "rlsuite.cli", "--help"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0 and "train ALGO" in result.stdout
