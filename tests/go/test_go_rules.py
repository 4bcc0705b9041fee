"""Rules of Go: captures, suicide, ko, superko, seki, passes, move cap, scoring, symmetries."""

from __future__ import annotations

import numpy as np
import pytest
from go_reference import RefGo, parse_board, tromp_taylor_area

from rlsuite.envs.go import GoBatch, GoGame, GoState, gtp_to_action


def position(game: GoGame, text: str, to_play: int = 0) -> GoState:
    return game.state_from_board(np.array(parse_board(text)), to_play=to_play)


def play(game: GoGame, state: GoState, *vertices: str) -> GoState:
    for v in vertices:
        state = game.next_state(state, gtp_to_action(v, game.board_size))
    return state


def stones(game: GoGame, state: GoState) -> str:
    chars = {1: "X", -1: "O", 0: "."}
    return "\n".join("".join(chars[int(v)] for v in row) for row in game.board(state))


# ----- captures -----------------------------------------------------------------------------


def test_single_stone_capture_in_the_corner():
    g = GoGame(5, komi=0)
    s = play(g, g.initial_state(), "B5", "A5")  # black B5, white A5 (top-left corner)
    s = play(g, s, "A4")  # black takes the corner stone
    assert stones(g, s).splitlines()[0] == ".X..."
    assert s.captures == (1, 0)
    assert g.board(s)[0, 0] == 0


def test_group_capture_gives_its_points_back():
    g = GoGame(5, komi=0)
    s = position(
        g,
        """
        .XXX.
        .OOOX
        .XXX.
        .....
        .....
        """,
    )
    assert g.legal_mask(s)[gtp_to_action("A4", 5)]
    s = play(g, s, "A4")
    assert stones(g, s).splitlines()[1] == "X...X"
    assert s.captures == (3, 0)
    # the freed points are empty and playable again (by white, now to move)
    mask = g.legal_mask(s)
    assert mask[[gtp_to_action(v, 5) for v in ("B4", "C4", "D4")]].all()


def test_one_move_captures_two_groups_at_once():
    g = GoGame(5, komi=0)
    s = position(
        g,
        """
        OX.XO
        .OXO.
        ..O..
        .....
        .....
        """,
    )
    # black B5, D5 and C4 are three chains whose last liberty is C5
    s = g.next_state(s, g.pass_action)
    s = play(g, s, "C5")
    assert stones(g, s).splitlines()[:2] == ["O.O.O", ".O.O."]
    assert s.captures == (0, 3)  # B5, D5 and C4: three chains in atari on one point
    assert s.ko_point is None


# ----- suicide ------------------------------------------------------------------------------

SUICIDE_TEXT = """
.XO..
XXO..
OOO..
.....
.....
"""


def test_suicide_is_forbidden_by_default_with_a_clear_reason():
    g = GoGame(5)
    s = position(g, ".X...\nX....\n.....\n.....\n.....", to_play=1)
    a = gtp_to_action("A5", 5)
    assert not g.legal_mask(s)[a]
    assert "suicide" in g.move_error(s, a)
    with pytest.raises(ValueError, match=r"illegal move A5 \(action 0\): suicide"):
        g.next_state(s, a)


def test_multi_stone_suicide_forbidden_then_allowed():
    s_text = SUICIDE_TEXT
    a = gtp_to_action("A5", 5)
    strict = GoGame(5)
    s = position(strict, s_text)
    assert not strict.legal_mask(s)[a]  # black A5 would leave X group with no liberty
    loose = GoGame(5, allow_suicide=True)
    s = position(loose, s_text)
    assert loose.legal_mask(s)[a]
    after = loose.next_state(s, a)
    assert stones(loose, after).splitlines()[:2] == ["..O..", "..O.."]
    assert after.captures == (0, 4)  # black's own 4 stones count as taken by white


def test_capturing_move_is_not_suicide():
    g = GoGame(5)
    s = position(
        g,
        """
        .OX..
        OX...
        X....
        .....
        .....
        """,
    )
    # black A5 has no empty neighbour, but both white stones next to it are in atari there
    a = gtp_to_action("A5", 5)
    assert g.legal_mask(s)[a]
    s = g.next_state(s, a)
    assert s.captures == (2, 0)


def test_single_stone_suicide_repeats_the_position_under_superko():
    text = ".X...\nX....\n.....\n.....\n....."
    a = 0
    positional = GoGame(5, allow_suicide=True)
    s = position(positional, text, to_play=1)
    assert "superko" in positional.move_error(s, a)
    simple = GoGame(5, allow_suicide=True, superko="simple")
    s = position(simple, text, to_play=1)
    after = simple.next_state(s, a)
    assert np.array_equal(simple.board(after), simple.board(s))
    assert after.captures == (1, 0) and after.to_play == 0


# ----- ko and superko -----------------------------------------------------------------------

KO_TEXT = """
.XO..
XO.O.
.XO..
.....
.....
"""


@pytest.mark.parametrize("superko", ["simple", "positional"])
def test_simple_ko_forbids_the_immediate_retake_only(superko):
    g = GoGame(5, superko=superko)
    s = position(g, KO_TEXT)
    s = play(g, s, "C4")  # black takes B4
    assert s.ko_point == gtp_to_action("B4", 5)
    retake = gtp_to_action("B4", 5)
    assert not g.legal_mask(s)[retake]
    reason = g.move_error(s, retake)
    assert "ko" in reason and "B4" in reason
    s = play(g, s, "E1", "E2")  # white threat elsewhere, black answers
    assert g.legal_mask(s)[retake]
    s = play(g, s, "B4")
    assert s.captures == (1, 1)


TRIPLE_KO = """
.XO...OX.
XO.O.OX.X
.XO...OX.
.........
.XO......
XO.O.....
.XO......
.........
.........
"""
# Black can take at C8 (ko 1) and C4 (ko 3), white at H8 (ko 2). Taking them in turn,
# B C8, W H8, B C4, W B8, B G8, W B4 returns to the start after six plies without any
# immediate ko retake.
TRIPLE_KO_MOVES = ["C8", "H8", "C4", "B8", "G8", "B4"]


def test_triple_ko_cycle_is_legal_under_simple_ko():
    g = GoGame(9, superko="simple")
    start = position(g, TRIPLE_KO)
    s = play(g, start, *TRIPLE_KO_MOVES)
    assert np.array_equal(g.board(s), g.board(start))
    assert s.position_hash == start.position_hash
    assert s.captures == (3, 3)


def test_triple_ko_cycle_is_cut_by_positional_superko():
    g = GoGame(9, superko="positional")
    s = play(g, position(g, TRIPLE_KO), *TRIPLE_KO_MOVES[:5])
    last = gtp_to_action(TRIPLE_KO_MOVES[5], 9)
    assert not g.legal_mask(s)[last]
    with pytest.raises(ValueError, match=r"illegal move B4 .*positional superko"):
        g.next_state(s, last)
    # the simple-ko view of the same move is fine: it is not an immediate retake
    assert s.ko_point != last


# ----- seki, passes, move cap, scoring --------------------------------------------------------

SEKI = """
.X.O.O
XXXOOO
OOOXXX
.OOX.X
O.OX.X
OOOX.X
"""
# Inner black (A6 eye, C6 shared) and inner white (E6 eye, C6 shared) live in seki; the outer
# walls have two eyes each. Tromp-Taylor: black 14 stones + A6, E3, E1 = 17; white 15 stones +
# E6, A3, B2 = 18; C6 reaches both colours and counts for nobody.


def test_seki_is_scored_by_area_with_the_shared_liberty_neutral():
    g = GoGame(6, komi=0.5)
    s = position(g, SEKI)
    assert g.area(s) == (17, 18)
    shared = gtp_to_action("C6", 6)
    # entering the shared liberty is legal but self-atari: the opponent then captures
    after = play(g, s, "C6", "A6")
    assert after.captures == (0, 5)
    s = g.next_state(g.next_state(s, g.pass_action), g.pass_action)
    assert g.is_terminal(s)
    assert g.score(s) == pytest.approx(17 - 18 - 0.5)
    assert g.returns(s).tolist() == [-1.0, 1.0]
    assert g.legal_mask(position(g, SEKI, to_play=1))[shared]


def test_two_passes_end_the_game_but_one_pass_does_not():
    g = GoGame(5)
    s = g.next_state(g.initial_state(), g.pass_action)
    assert not g.is_terminal(s)
    s = play(g, s, "C3")
    s = g.next_state(s, g.pass_action)
    assert not g.is_terminal(s)  # passes are consecutive only
    s = g.next_state(s, g.pass_action)
    assert g.is_terminal(s)
    assert not g.legal_mask(s).any()
    with pytest.raises(ValueError, match="game is over"):
        g.next_state(s, g.pass_action)
    assert g.score(s) == -25 - 7.5  # white C3 alone owns the board


def test_move_cap_ends_and_scores_the_game_as_it_stands():
    g = GoGame(5, komi=0.5, max_moves=3)
    s = play(g, g.initial_state(), "A1", "E5")
    assert not g.is_terminal(s)
    s = play(g, s, "pass")
    assert g.is_terminal(s)
    assert g.score(s) == pytest.approx(1 + 0 - 1 - 0.5)  # each owns its stone only
    assert g.returns(s).tolist() == [-1.0, 1.0]
    assert GoGame(5).max_moves == 50


def test_returns_need_a_finished_game_and_draw_with_zero_komi():
    g = GoGame(3, komi=0)
    s = g.initial_state()
    with pytest.raises(ValueError, match="still running"):
        g.returns(s)
    s = g.next_state(g.next_state(s, 9), 9)
    assert g.score(s) == 0.0
    assert g.returns(s).tolist() == [0.0, 0.0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (".....\n.....\n.....\n.....\n.....", (0, 0)),
        ("X....\n.....\n.....\n.....\n.....", (25, 0)),
        ("..XO.\n..XO.\n..XO.\n..XO.\n..XO.", (15, 10)),  # two walls split the board
        ("XO...\n.....\n.....\n.....\n.....", (1, 1)),  # the open board reaches both
        (".X.O.\nXX.OO\n.....\n.....\n.....", (4, 4)),  # A5 black, E5 white, rest shared
    ],
)
def test_area_of_small_positions(text, expected):
    g = GoGame(5, komi=7.5)
    s = position(g, text)
    assert g.area(s) == expected == tromp_taylor_area(parse_board(text))
    assert g.score(s) == expected[0] - expected[1] - 7.5


# ----- capture Go ---------------------------------------------------------------------------


def test_capture_go_first_capture_wins():
    g = GoGame(5, rules="capture")
    s = play(g, g.initial_state(), "B5", "A5")
    assert not g.is_terminal(s)
    s = play(g, s, "A4")
    assert g.is_terminal(s)
    assert g.returns(s).tolist() == [1.0, -1.0]


def test_capture_go_without_capture_is_a_draw():
    g = GoGame(4, rules="capture", max_moves=4)
    s = play(g, g.initial_state(), "A1", "D4", "A4", "D1")
    assert g.is_terminal(s)
    assert g.returns(s).tolist() == [0.0, 0.0]


def test_capture_go_greedy_takes_the_win():
    g = GoGame(5, rules="capture")
    s = play(g, g.initial_state(), "B5", "A5")
    rng = np.random.default_rng(0)
    assert g.greedy_action(s, rng) == gtp_to_action("A4", 5)


# ----- cross-check with the naive referee -------------------------------------------------------


def _random_game_agrees(game: GoGame, ref: RefGo, rng: np.random.Generator, pass_p: float) -> int:
    s = game.initial_state()
    plies = 0
    while not game.is_terminal(s):
        mask = game.legal_mask(s)
        assert mask.tolist() == ref.legal(), f"mask differs after {plies} plies"
        moves = np.flatnonzero(mask[:-1])
        a = game.pass_action if moves.size == 0 or rng.random() < pass_p else int(rng.choice(moves))
        s = game.next_state(s, a)
        ref.play(a)
        plies += 1
        assert game.board(s).tolist() == ref.board
        assert s.captures == (ref.captures[1], ref.captures[-1])
    assert ref.over
    assert game.score(s) == ref.score(game.komi)
    return plies


@pytest.mark.parametrize(
    ("n", "games", "superko", "suicide"),
    [
        (2, 40, "positional", False),
        (3, 30, "positional", True),
        (4, 15, "simple", False),
        (5, 8, "positional", False),
        (5, 6, "positional", True),
        (7, 3, "simple", False),
        (9, 1, "positional", False),
    ],
)
def test_random_games_match_the_naive_referee(n, games, superko, suicide):
    rng = np.random.default_rng(n * 10 + suicide)
    g = GoGame(n, komi=0.5, superko=superko, allow_suicide=suicide)
    plies = 0
    for _ in range(games):
        ref = RefGo(n, superko=superko, allow_suicide=suicide, max_moves=g.max_moves)
        plies += _random_game_agrees(g, ref, rng, pass_p=0.02)
    assert plies > games * n  # the games were real, not two passes


# ----- symmetries and planes ----------------------------------------------------------------


def test_symmetries_are_permutations_that_keep_pass():
    g = GoGame(7)
    perms = g.symmetries
    assert perms.shape == (8, 50)
    assert (np.sort(perms, axis=1) == np.arange(50)).all()
    assert (perms[:, 49] == 49).all()
    assert len({tuple(p) for p in perms}) == 8  # all distinct


def test_symmetries_map_legal_moves_to_legal_moves_along_a_game():
    g = GoGame(7, superko="positional")
    rng = np.random.default_rng(3)
    games = [g.initial_state() for _ in range(8)]  # games[k]: the game seen through symmetry k
    while not g.is_terminal(games[0]) and games[0].move_count < 70:
        mask = g.legal_mask(games[0])
        planes = g.encode(games[0])
        for k in range(8):
            assert np.array_equal(g.legal_mask(games[k]), g.transform_policy(mask, k)), k
            assert np.array_equal(g.encode(games[k]), g.transform_planes(planes, k)), k
        a = int(rng.choice(np.flatnonzero(mask[:-1]))) if mask[:-1].any() else g.pass_action
        games = [g.next_state(games[k], int(g.symmetries[k, a])) for k in range(8)]
    assert games[0].move_count >= 40


def test_encode_planes_follow_the_player_to_move():
    g = GoGame(5, history=2)
    s = play(g, g.initial_state(), "A5", "E1")  # black at point 0, white at point 24
    planes = g.encode(s)
    assert planes.shape == (5, 5, 5) and planes.dtype == np.uint8
    assert planes[0, 0, 0] == 1 and planes[1, 4, 4] == 1  # black to move: own, then opponent
    assert planes[0].sum() == 1 and planes[1].sum() == 1
    assert planes[2].sum() == 1 and planes[3].sum() == 0  # one ply ago: only A5
    assert (planes[4] == 1).all()  # black to play
    white_view = g.encode(s, perspective=1)
    assert white_view[0, 4, 4] == 1 and white_view[1, 0, 0] == 1


# ----- batches ------------------------------------------------------------------------------


def test_batched_steps_equal_single_steps_and_keep_inputs():
    g = GoGame(9)
    rng = np.random.default_rng(0)
    batch = g.initial_batch(6)
    singles = [batch.state(i) for i in range(6)]
    for _ in range(60):
        masks = g.legal_masks(batch)
        acts = g.random_actions(batch, rng)
        assert masks[np.arange(6)[acts >= 0], acts[acts >= 0]].all()
        before = batch.copy()
        nxt = g.next_states(batch, acts)
        assert np.array_equal(batch.hist, before.hist) and np.array_equal(batch.meta, before.meta)
        for i in range(6):
            assert np.array_equal(masks[i], g.legal_mask(singles[i]))
            if acts[i] >= 0:
                singles[i] = g.next_state(singles[i], int(acts[i]))
            assert np.array_equal(nxt.hist[i], singles[i].hist[0])
            assert np.array_equal(nxt.chains[i], singles[i].chains[0])
        assert np.array_equal(g.encode_batch(nxt)[2], g.encode(singles[2]))
        batch = nxt
    assert np.array_equal(g.scores_batch(batch), [g.score(s) for s in singles])
    stacked = GoBatch.stack(singles)
    assert np.array_equal(stacked.hashes, batch.hashes)


def test_negative_actions_skip_boards_and_finished_games_return():
    g = GoGame(3, komi=0.5)
    batch = g.initial_batch(2)
    batch = g.next_states(batch, [9, -1])
    batch = g.next_states(batch, [9, 4])
    assert g.is_terminal_batch(batch).tolist() == [True, False]
    assert g.returns_batch(batch).tolist() == [[-1.0, 1.0], [0.0, 0.0]]
    assert g.random_actions(batch, np.random.default_rng(0))[0] == -1
    with pytest.raises(ValueError, match=r"board 1: illegal move B2 .*occupied"):
        g.next_states(batch, [-1, 4])
    g.next_states(batch, [-1, 0], inplace=True)
    assert batch.move_count.tolist() == [2, 2]


@pytest.mark.parametrize("tries", [0, 2, 64])  # full-mask fallback, mixed, rejection only
def test_random_actions_are_uniform_over_legal_moves(tries):
    g = GoGame(3)
    s = position(g, "X.X\n.X.\nX.X")  # black may fill any of 4 points, or pass
    legal = np.flatnonzero(g.legal_mask(s))
    batch = g.stack([s] * 3000)
    acts = g.random_actions(batch, np.random.default_rng(1), tries=tries)
    assert set(acts.tolist()) == set(legal.tolist())
    counts = np.bincount(acts, minlength=10)[legal]
    expected = 3000 / legal.size
    assert ((counts - expected) ** 2 / expected).sum() < 20  # chi-square, few dof


def test_take_and_put_move_boards_between_batches():
    g = GoGame(5)
    batch = g.initial_batch(3)
    batch = g.next_states(batch, [0, 1, 2])
    picked = batch.take([2, 2, 0])
    assert picked.meta[:, 4].tolist() == [2, 2, 0]
    batch.put([1], picked.take([0]))
    assert batch.state(1).last_move == 2
    assert batch.to_play.tolist() == [1, 1, 1]


# ----- greedy -------------------------------------------------------------------------------


def test_greedy_captures_the_biggest_group():
    g = GoGame(5)
    s = position(
        g,
        """
        .XXX.
        .OOOX
        .XXX.
        .X...
        XO...
        """,
    )
    rng = np.random.default_rng(0)
    assert g.greedy_action(s, rng) == gtp_to_action("A4", 5)  # 3 stones beat 1


def test_greedy_does_not_fill_its_eyes_and_then_passes():
    g = GoGame(5, komi=0)
    s = position(
        g,
        """
        .X.X.
        XXXXX
        XXXXX
        .X.X.
        XXXXX
        """,
    )
    rng = np.random.default_rng(0)
    assert g.greedy_action(s, rng) == g.pass_action  # only own eyes are left
    s2 = position(g, ".X...\nXX...\n.....\n.....\n.....")
    assert g.greedy_action(s2, rng) != gtp_to_action("A5", 5)
    assert g.greedy_action(s2, rng) != g.pass_action


# ----- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 20, 25, "9", 9.0, True])
def test_bad_board_sizes_are_refused(size):
    with pytest.raises(ValueError, match="board size"):
        GoGame(size)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"komi": float("nan")}, "komi"),
        ({"superko": "situational"}, "superko"),
        ({"rules": "japanese"}, "rules"),
        ({"max_moves": 0}, "max_moves"),
        ({"history": 0}, "history"),
    ],
)
def test_bad_options_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GoGame(5, **kwargs)


@pytest.mark.parametrize("action", [-1, 26, 1000, 2.5, "C3", None, True])
def test_out_of_range_actions_are_refused_before_the_compiled_code(action):
    g = GoGame(5)
    with pytest.raises(ValueError, match="action"):
        g.next_state(g.initial_state(), action)


def test_states_of_another_board_size_are_refused():
    with pytest.raises(ValueError, match="does not belong"):
        GoGame(5).legal_mask(GoGame(9).initial_state())
    g = GoGame(5)
    s = g.initial_state()
    with pytest.raises(ValueError, match="must be"):
        g.next_state(GoState(s.data[:, :-8], s.meta, s.layout), 0)
    with pytest.raises(ValueError, match="must be"):
        g.legal_masks(GoBatch(s.data, np.zeros((2, 9), np.int32), s.layout))


def test_bad_batches_are_refused():
    g = GoGame(5)
    with pytest.raises(ValueError, match="shape"):
        g.next_states(g.initial_batch(2), [0])
    with pytest.raises(ValueError, match="integers"):
        g.next_states(g.initial_batch(2), np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match="out of range"):
        g.next_states(g.initial_batch(2), [0, 99])
    with pytest.raises(ValueError, match="empty"):
        GoBatch.stack([])


@pytest.mark.parametrize(
    ("board", "match"),
    [
        (np.zeros((4, 4)), "shape"),
        (np.full((5, 5), 2), "values"),
        (np.array(parse_board("OX...\nX....\n.....\n.....\n.....")), "A5 has no liberty"),
    ],
)
def test_bad_positions_are_refused(board, match):
    with pytest.raises(ValueError, match=match):
        GoGame(5).state_from_board(board)


def test_next_state_leaves_its_input_unchanged():
    g = GoGame(5)
    s = play(g, g.initial_state(), "C3", "D3")
    copy = s.copy()
    g.next_state(s, gtp_to_action("B3", 5))
    for name in ("hist", "chains", "hashes", "meta"):
        assert np.array_equal(getattr(s, name), getattr(copy, name))
