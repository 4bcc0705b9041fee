"""Batched search on positions with known answers, and batching that changes nothing."""

from __future__ import annotations

import numpy as np
import pytest

from rlsuite.agents.alphazero import tree as T
from rlsuite.agents.alphazero.search import BatchedSearch, SearchConfig
from rlsuite.envs.go import GoBatch, GoGame


def uniform(num_actions: int):
    def evaluate(planes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = planes.shape[0]
        return np.zeros((n, num_actions), np.float32), np.zeros(n, np.float32)

    return evaluate


def row_by_row(num_actions: int, features: int, seed: int = 0):
    """A fixed random evaluator computed one row at a time, so its output for a position does
    not depend on which other positions share the batch."""
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(features, num_actions + 1)) * 0.3

    def evaluate(planes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        out = np.stack([p.reshape(-1).astype(np.float64) @ w for p in planes])
        return out[:, :-1].astype(np.float32), np.tanh(out[:, -1]).astype(np.float32)

    return evaluate


def capture_position() -> tuple[GoGame, GoBatch]:
    """Capture Go on 5x5: the white stone at C3 has one liberty left, at C2 (action 17)."""
    game = GoGame(5, 0.5, rules="capture")
    board = np.zeros((5, 5), np.int8)
    board[2, 2] = -1
    board[1, 2] = board[2, 1] = board[2, 3] = 1
    board[4, 0] = -1
    state = game.state_from_board(board, to_play=0)
    return game, GoBatch(state.data, state.meta, state.layout)


@pytest.mark.parametrize("algorithm", ["puct", "gumbel"])
def test_finds_the_winning_capture_with_few_simulations(algorithm: str) -> None:
    game, batch = capture_position()
    # a uniform prior gives no hint: the search must try the 26 moves to find the capture
    config = SearchConfig(simulations=32, algorithm=algorithm, fpu_reduction=0.0,
                          max_considered=26)
    search = BatchedSearch(game, uniform(game.num_actions), config, 1)
    result = search.search(batch, np.array([3]))
    assert result.action[0] == 17
    assert result.policy[0].argmax() == 17
    if algorithm == "puct":  # visits concentrate on the only winning move
        assert result.visits[0, 17] >= 0.5 * result.visits[0].sum()
        assert result.value[0] > 0.3


def random_positions(game: GoGame, count: int, seed: int) -> GoBatch:
    rng = np.random.default_rng(seed)
    batch = game.initial_batch(count)
    for moves in range(6):
        acts = game.random_actions(batch, rng)
        acts[moves >= np.arange(count) + 2] = -1  # positions of different lengths
        game.next_states(batch, acts, inplace=True)
    return batch


@pytest.mark.parametrize("algorithm", ["puct", "gumbel"])
def test_batched_equals_one_game_at_a_time(algorithm: str) -> None:
    game = GoGame(5, 7.5)
    batch = random_positions(game, 5, seed=1)
    evaluate = row_by_row(game.num_actions, int(np.prod(game.observation_shape)))
    config = SearchConfig(simulations=20, algorithm=algorithm)
    seeds = np.arange(100, 105)
    together = BatchedSearch(game, evaluate, config, 5, score_weight=0.2)
    first = together.search(batch, seeds)
    together.advance(first.action)
    played = game.next_states(batch, first.action)
    second = together.search(played, seeds + 7)
    for b in range(5):
        alone = BatchedSearch(game, evaluate, config, 1, score_weight=0.2)
        one = alone.search(batch.take([b]), seeds[b : b + 1])
        np.testing.assert_array_equal(one.visits[0], first.visits[b])
        np.testing.assert_allclose(one.policy[0], first.policy[b], rtol=1e-6)
        assert one.action[0] == first.action[b]
        alone.advance(one.action)
        two = alone.search(played.take([b]), seeds[b : b + 1] + 7)
        np.testing.assert_array_equal(two.visits[0], second.visits[b])
        assert two.action[0] == second.action[b]


@pytest.mark.parametrize("algorithm", ["puct", "gumbel"])
def test_threads_split_the_games_and_change_nothing(algorithm: str) -> None:
    """Shards of uneven size (7 games on 3 threads), two moves with subtree reuse between
    them: every figure equals the one-thread search's."""
    game = GoGame(5, 7.5)
    batch = random_positions(game, 7, seed=3)
    evaluate = row_by_row(game.num_actions, int(np.prod(game.observation_shape)))
    config = SearchConfig(simulations=24, algorithm=algorithm)
    seeds = np.arange(7) * 11
    runs = []
    for threads in (1, 3):
        search = BatchedSearch(game, evaluate, config, 7, score_weight=0.1, threads=threads)
        first = search.search(batch, seeds)
        search.advance(first.action)
        second = search.search(game.next_states(batch, first.action), seeds + 1)
        runs.append((first, second, search.evaluations, search.tree.num_nodes.copy()))
    (a1, a2, evals_a, nodes_a), (b1, b2, evals_b, nodes_b) = runs
    assert evals_a == evals_b > 7 * 24
    np.testing.assert_array_equal(nodes_a, nodes_b)
    for one, three in ((a1, b1), (a2, b2)):
        np.testing.assert_array_equal(one.visits, three.visits)
        np.testing.assert_array_equal(one.action, three.action)
        np.testing.assert_array_equal(one.policy, three.policy)
        np.testing.assert_array_equal(one.value, three.value)


def test_threads_on_python_states_keep_each_games_nodes() -> None:
    """One-player Python states (`GameStates`) on two threads, with subtree reuse: each shard
    writes its own games' node lists, and reuse keeps them in place."""
    game = Pick()
    config = SearchConfig(simulations=12, algorithm="puct", dirichlet_fraction=0.0)
    results = []
    for threads in (1, 2):
        search = BatchedSearch(game, uniform(3), config, 4, threads=threads)
        result = search.search([game.initial_state()] * 4, np.arange(4))
        search.advance(result.action)
        nodes = [list(n) for n in search.states.nodes]  # type: ignore[union-attr]
        again = search.search([int(a) for a in result.action], np.arange(4))
        results.append((result, nodes, again))
    (one, nodes_one, again_one), (two, nodes_two, again_two) = results
    np.testing.assert_array_equal(one.visits, two.visits)
    assert (two.action == 1).all()
    assert nodes_one == nodes_two
    assert all(nodes[0] == 1 for nodes in nodes_two)  # the kept child is the new root
    assert (again_two.visits == 0).all() and (again_two.value == 0).all()  # terminal roots
    np.testing.assert_array_equal(again_one.value, again_two.value)


def test_subtree_reuse_keeps_the_searched_child() -> None:
    game = GoGame(5, 7.5)
    batch = random_positions(game, 3, seed=2)
    evaluate = row_by_row(game.num_actions, int(np.prod(game.observation_shape)))
    search = BatchedSearch(game, evaluate, SearchConfig(simulations=30, algorithm="puct"), 3)
    result = search.search(batch, np.arange(3))
    child_visits = result.visits[np.arange(3), result.action]
    search.advance(result.action)
    assert (search.tree.visits[:, 0] == child_visits).all()
    played = game.next_states(batch, result.action)
    rows = search.states.batch.take(np.arange(3) * search.capacity)  # type: ignore[union-attr]
    np.testing.assert_array_equal(game.encode_batch(rows), game.encode_batch(played))
    again = search.search(played, np.arange(3))
    assert (again.visits.sum(axis=1) == child_visits - 1 + 30).all()


class Pick:
    """A one-player game: choose one of three actions, then it ends with a large return."""

    num_actions = 3
    num_players = 1
    observation_shape = (1,)
    payoff = np.array([100.0, 112.0, 106.0])

    def initial_state(self, rng=None):
        return -1

    def next_state(self, state, action):
        return int(action)

    def legal_mask(self, state):
        return np.full(3, state < 0)

    def to_play(self, state):
        return 0

    def is_terminal(self, state):
        return state >= 0

    def returns(self, state):
        return np.array([self.payoff[state]])

    def encode(self, state):
        return np.zeros(1, np.float32)


def test_one_player_values_are_normalised_by_the_range_seen() -> None:
    game = Pick()
    search = BatchedSearch(game, uniform(3), SearchConfig(simulations=30, algorithm="puct",
                                                          dirichlet_fraction=0.0), 2)
    result = search.search([game.initial_state(), game.initial_state()], np.arange(2))
    assert search.tree.qmax[0] == pytest.approx(112.0)
    assert search.tree.qmin[0] <= 100.0 + 1e-3 or search.tree.qmin[0] <= 106.0
    # without normalisation the exploration term (< 2) could not tell 106 from 112 after one
    # visit each; normalised Q in [0, 1] lets it concentrate on the best action
    assert (result.action == 1).all()
    assert result.visits[0, 1] > result.visits[0, 2] > 0


def test_root_noise_is_a_function_of_each_games_seed_with_the_right_law() -> None:
    """Dirichlet noise keeps the root prior a distribution over the legal moves and averages
    to uniform; Gumbel noise has the standard Gumbel's mean and spread; a game's noise is the
    same whatever game sits next to it, and differs between seeds."""
    games, actions = 4000, 6
    legal = np.ones((games, actions), np.bool_)
    legal[:, 4:] = False
    prior = np.where(legal, 0.25, 0.0)
    seeds = np.arange(games, dtype=np.int64) * 7919 + 3
    mixed = prior.copy()
    scratch = np.zeros((games, actions))
    T.root_noise(seeds, np.ones(games, np.bool_), legal, mixed, scratch, T.PUCT, 1.0, 0.3, 0.25)
    assert np.allclose(mixed.sum(axis=1), 1.0) and (mixed[:, 4:] == 0).all()
    noise = (mixed - 0.75 * prior)[:, :4] / 0.25
    assert abs(noise.mean() - 0.25) < 0.01
    assert noise.std() > 0.2  # Dirichlet(0.3) is spiky: most mass on one move
    gumbel = np.zeros((games, actions))
    T.root_noise(seeds, np.ones(games, np.bool_), legal, prior.copy(), gumbel, T.GUMBEL, 1.0,
                 0.3, 0.25)
    assert abs(gumbel.mean() - np.euler_gamma) < 0.03
    assert abs(gumbel.std() - np.pi / np.sqrt(6)) < 0.03
    alone = np.zeros((1, actions))
    T.root_noise(seeds[7:8], np.ones(1, np.bool_), legal[:1], prior[:1].copy(), alone,
                 T.GUMBEL, 1.0, 0.3, 0.25)
    assert np.array_equal(alone[0], gumbel[7])
    assert not np.array_equal(gumbel[7], gumbel[8])


def test_bad_arguments_are_refused() -> None:
    game = GoGame(5)
    search = BatchedSearch(game, uniform(game.num_actions), SearchConfig(simulations=4), 2)
    with pytest.raises(ValueError, match="one entry per game"):
        search.search(game.initial_batch(2), np.arange(3))
    with pytest.raises(ValueError, match="simulations per game"):
        search.search(game.initial_batch(2), np.arange(2), simulations=np.array([5, 1]))
    with pytest.raises(ValueError, match="simulations must be"):
        SearchConfig(simulations=0)
    with pytest.raises(ValueError, match="threads must be in 1..num_games"):
        BatchedSearch(game, uniform(game.num_actions), SearchConfig(simulations=4), 2, threads=3)


def test_chip_placement_search_picks_the_cheapest_last_cell() -> None:
    """One-player search on the real placement game: with the last macro to place, every
    child is terminal with a return of minus its proxy cost (about -1 and close together),
    so only Q normalised by the range seen lets the visits find the cheapest cell."""
    from rlsuite.envs.chip.game import ChipGame

    game = ChipGame()
    rng = np.random.default_rng(0)
    state = game.initial_state()
    for _ in range(len(game.model.order) - 1):
        state = game.next_state(state, int(rng.choice(np.flatnonzero(game.legal_mask(state)))))
    legal = np.flatnonzero(game.legal_mask(state))
    returns = {int(a): float(game.returns(game.next_state(state, int(a)))[0]) for a in legal}
    search = BatchedSearch(game, uniform(game.num_actions),
                           SearchConfig(simulations=4 * legal.size, algorithm="puct",
                                        dirichlet_fraction=0.0), 1)
    result = search.search([state], np.array([0]))
    assert result.action[0] == max(returns, key=returns.__getitem__)
    assert search.tree.qmax[0] == pytest.approx(max(returns.values()), abs=1e-5)


def test_selfplay_resigns_plays_out_a_share_and_records_full_searches_only() -> None:
    from rlsuite.agents.alphazero.selfplay import SelfPlayConfig, SelfPlayWorker

    game = GoGame(5, 7.5, history=2)
    config = SelfPlayConfig(parallel_games=8, search=SearchConfig(simulations=8),
                            resign_threshold=0.5, resign_playout_share=0.5,
                            full_search_share=0.5, fast_simulations=2)
    worker = SelfPlayWorker(game, uniform(game.num_actions), config, 0)
    records, stats = worker.play(12)
    assert stats["games"] == 12
    # every root value is below 0.5, so a game resigns at once unless it is played out
    assert stats["resigned"] + stats["played_out"] == 12
    assert 0 < stats["played_out"] < 12 and stats["would_resign"] == stats["played_out"]
    assert 0 < len(records["value"]) < stats["moves"]  # fast-search moves are not recorded
    assert set(np.unique(records["value"])) <= {-1.0, 0.0, 1.0}
    np.testing.assert_allclose(records["policy"].sum(axis=1), 1.0, rtol=1e-5)
    assert not (records["policy"] * ~records["mask"]).any()


def test_selfplay_on_two_search_threads_records_the_same_games() -> None:
    from rlsuite.agents.alphazero.network import CachedEvaluator
    from rlsuite.agents.alphazero.selfplay import SelfPlayConfig, SelfPlayWorker

    game = GoGame(5, 7.5, history=2)
    evaluate = row_by_row(game.num_actions, int(np.prod(game.observation_shape)))
    played = []
    for threads in (1, 2):
        config = SelfPlayConfig(parallel_games=6, search=SearchConfig(simulations=8),
                                search_threads=threads)
        cache = CachedEvaluator(evaluate)
        records, stats = SelfPlayWorker(game, cache, config, 5).play(9)
        played.append((records, stats, cache.lookups))
    (one, stats_one, lookups_one), (two, stats_two, lookups_two) = played
    assert stats_one == stats_two and stats_one["games"] == 9
    assert lookups_one == lookups_two == stats_one["evaluations"]
    for key in one:
        np.testing.assert_array_equal(one[key], two[key])
