"""Our GTP engine (a subprocess speaking GTP) plays GnuGo through the GTP-to-GTP driver."""

import sys

import pytest

from rlsuite.arena.match import twogtp
from rlsuite.envs.go import GoGame
from rlsuite.gtp import gnugo_argv
from rlsuite.gtp.player import GtpPlayer


@pytest.mark.parametrize(
    ("player", "size", "komi", "ours_is_black"),
    [
        ("greedy", 5, 0.5, True),  # GnuGo captures everything: a whole-board count
        ("gnugo:1", 7, 5.5, False),  # GnuGo relayed through our engine: both sides own area
    ],
)
def test_our_engine_plays_gnugo_to_an_agreed_score(gnugo, player, size, komi, ours_is_black):
    game = GoGame(size, komi)
    ours = GtpPlayer(
        lambda g: [sys.executable, "-m", "rlsuite.cli", "gtp", "--player", player, "--board-size",
                   str(size), "--komi", str(komi), "--seed", "3"],
        name="rlsuite",
    )
    theirs = GtpPlayer(lambda g: gnugo_argv(1, board_size=size, komi=komi), name="gnugo")
    black, white = (ours, theirs) if ours_is_black else (theirs, ours)
    try:
        result = twogtp(game, black, white)
    finally:
        ours.close()
        theirs.close()
    outcome = result.outcome
    # Played out to two passes: the referee accepted every move of both engines as legal.
    assert outcome.error is None and outcome.reason == "score", outcome.error
    assert outcome.actions[-2:] == [game.pass_action, game.pass_action]
    replayed = game.initial_state()
    for action in outcome.actions:
        replayed = game.next_state(replayed, action)
    assert game.score(replayed) == outcome.score
    # Both engines count the final position exactly as our Tromp-Taylor referee does.
    assert result.black_says == result.white_says == outcome.result
    assert result.agreed
    if player == "gnugo:1":
        board = game.board(replayed)
        assert (board == 1).any() and (board == -1).any()  # a real count, not a wipe-out
