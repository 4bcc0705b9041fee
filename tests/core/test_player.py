"""Random and greedy players on a real Go board."""

import numpy as np
import pytest

from rlsuite.envs.go import GoGame
from rlsuite.player import GreedyPlayer, Player, RandomPlayer


def test_random_player_plays_every_legal_move_and_only_those() -> None:
    game = GoGame(board_size=3)
    state = game.next_state(game.initial_state(), 4)  # black takes the centre
    legal = set(np.flatnonzero(game.legal_mask(state)).tolist())
    player = RandomPlayer(seed=0)
    assert isinstance(player, Player)
    player.reset(game)
    picks = {player.act(state) for _ in range(400)}
    assert picks == legal and 4 not in picks


def test_players_are_seeded_and_need_a_game() -> None:
    game = GoGame(board_size=5)
    state = game.initial_state()
    for cls in (RandomPlayer, GreedyPlayer):
        with pytest.raises(RuntimeError, match="call reset"):
            cls(seed=1).act(state)
        a, b = cls(seed=7), cls(seed=7)
        a.reset(game)
        b.reset(game)
        assert [a.act(state) for _ in range(20)] == [b.act(state) for _ in range(20)]


def test_greedy_player_takes_the_capture() -> None:
    game = GoGame(board_size=5)
    board = np.zeros((5, 5), np.int8)
    board[2, 2] = -1  # a white stone at C3 ...
    board[1, 2] = board[2, 1] = board[3, 2] = 1  # ... in atari: only D3 (row 2, col 3) is left
    state = game.state_from_board(board, to_play=0)
    player = GreedyPlayer(seed=0)
    player.reset(game)
    assert player.act(state) == 2 * 5 + 3
