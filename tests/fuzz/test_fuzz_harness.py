"""scripts/fuzz.py itself: a segfaulting or hanging input is counted and the run goes on."""

from __future__ import annotations

import json

from fuzz_settings import fuzz


def test_crashes_and_hangs_are_counted_and_survived(tmp_path, capsys):
    status = fuzz.main(["--inputs", "3", "--timeout", "1", "--targets", "_selfcheck",
                        "--save", str(tmp_path)])
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert status == 1
    assert report == {"_selfcheck": {"inputs": 3, "crashes": 1, "hangs": 1,
                                     "wrong_error_type": 0, "silently_accepted": 0}}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["_selfcheck-1.txt", "_selfcheck-2.txt"]
