"""Fixtures shared by the arena and GTP tests: the real GnuGo, and tiny misbehaving engines."""

import sys
import textwrap

import pytest

from rlsuite.gtp import GnuGoNotFound, find_gnugo

# A GTP engine that follows the protocol until its Nth genmove, then misbehaves as told:
# "crash" writes to stderr and exits 3, "hang" stops answering, "garble" answers nonsense,
# "occupied" plays on the first stone it was told about.
FAKE_ENGINE = textwrap.dedent(
    """
    import sys, time
    mode, after = sys.argv[1], int(sys.argv[2])
    genmoves, stones = 0, []
    for line in sys.stdin:
        words = line.split()
        cid = words.pop(0) if words[0].isdigit() else ""
        name, args = words[0], words[1:]
        reply = ""
        if name == "play" and args[1].lower() != "pass":
            stones.append(args[1])
        if name == "genmove":
            genmoves += 1
            if genmoves > after:
                if mode == "crash":
                    sys.stderr.write("fatal: engine ran out of cheese\\n")
                    sys.stderr.flush()
                    sys.exit(3)
                if mode == "hang":
                    time.sleep(60)
                if mode == "garble":
                    print("hello there", flush=True)
                    continue
                if mode == "occupied" and stones:
                    reply = stones[0]
            reply = reply or "pass"
        if name == "quit":
            print(f"={cid} \\n", flush=True)
            break
        print(f"={cid} {reply}\\n", flush=True)
    """
)


@pytest.fixture
def gnugo() -> str:
    try:
        return find_gnugo()
    except GnuGoNotFound:
        pytest.skip("gnugo not installed: apt-get install gnugo")


@pytest.fixture
def fake_engine(tmp_path):
    """argv of a fake engine: fake_engine("crash", after=2)."""
    script = tmp_path / "fake_engine.py"
    script.write_text(FAKE_ENGINE)

    def argv(mode: str, after: int = 0) -> list[str]:
        return [sys.executable, str(script), mode, str(after)]

    return argv
