"""`GoGame`: the rules of Go for one configuration, pure and compiled.

Tromp-Taylor rules (area scoring, komi to white); positional superko or simple ko; suicide
forbidden unless asked for; the game ends after two consecutive passes or at ``max_moves``
(default 2 * N * N) and is then scored as it stands. ``rules="capture"`` is capture Go, the
teaching game on the same engine: the first capture wins (a suicide loses), and a game that
ends without one is a draw.

Actions are ``row * N + col`` (row 0 at the top, SGF/PettingZoo order) and ``N * N`` is pass.
States are `GoState` / `GoBatch` (struct of arrays, layout in `rlsuite.envs.go.state`); every
method here leaves its input unchanged except `next_states(..., inplace=True)` and the env
adapters' `step_in_place`. The batched forms take and return whole batches so MCTS and
self-play pay one compiled call per step; `random_actions` draws uniformly random legal moves
for a whole batch without building masks (random playouts, random openings).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cached_property
from typing import Literal

import numpy as np

from rlsuite.envs.go import _kernels as K
from rlsuite.envs.go._validate import PROBLEMS, check_batch
from rlsuite.envs.go.coords import action_to_gtp, check_action, check_board_size
from rlsuite.envs.go.state import GoBatch, GoState, GoStateError, Layout, _Arrays
from rlsuite.envs.go.symmetry import action_permutations, transform_planes, transform_policy

Rules = Literal["tromp-taylor", "capture"]
Superko = Literal["positional", "simple"]

ILLEGAL_REASONS = {
    K.OCCUPIED: "the point is occupied",
    K.SUICIDE: "suicide is not allowed",
    K.KO_BAN: "it retakes a ko immediately",
    K.SUPERKO: "it repeats an earlier position (positional superko)",
    K.FINISHED: "the game is over",
}

_ZOBRIST_SEED = 0x5EED_60


class GoGame:
    """Rules of Go on an N x N board (see the module docstring); implements `rlsuite.game.Game`.

    Args:
        board_size: N, 2..19.
        komi: points given to white.
        rules: "tromp-taylor" (area scoring) or "capture" (first capture wins).
        superko: "positional" (no earlier board may recur) or "simple" (no immediate ko retake).
        allow_suicide: whether a move may remove its own chain (Tromp-Taylor allows it).
        max_moves: moves (passes included) after which the game ends; default 2 * N * N.
        history: boards per colour in `encode` (AlphaGo Zero uses 8).
    """

    num_players = 2

    def __init__(
        self,
        board_size: int = 9,
        komi: float = 7.5,
        *,
        rules: Rules = "tromp-taylor",
        superko: Superko = "positional",
        allow_suicide: bool = False,
        max_moves: int | None = None,
        history: int = 8,
    ) -> None:
        n = check_board_size(board_size)
        if isinstance(komi, bool) or not isinstance(komi, int | float) or not math.isfinite(komi):
            raise ValueError(f"komi must be a finite number, got {komi!r}")
        if rules not in ("tromp-taylor", "capture"):
            raise ValueError(f"rules must be 'tromp-taylor' or 'capture', got {rules!r}")
        if superko not in ("positional", "simple"):
            raise ValueError(f"superko must be 'positional' or 'simple', got {superko!r}")
        if max_moves is None:
            max_moves = 2 * n * n
        if isinstance(max_moves, bool) or not isinstance(max_moves, int) or max_moves < 1:
            raise ValueError(f"max_moves must be a positive int, got {max_moves!r}")
        if isinstance(history, bool) or not isinstance(history, int) or history < 1:
            raise ValueError(f"history must be a positive int, got {history!r}")
        self.board_size = n
        self.komi = float(komi)
        self.rules: Rules = rules
        self.superko: Superko = superko
        self.allow_suicide = bool(allow_suicide)
        self.max_moves = max_moves
        self.history = history
        self.num_actions = n * n + 1
        self.pass_action = n * n
        self.observation_shape = (2 * history + 1, n, n)
        self._points = n * n
        self._nbr = _neighbours(n)
        # Keys depend only on N, so equal boards hash equal across GoGame instances.
        self._keys = np.random.default_rng(_ZOBRIST_SEED + n).integers(
            1, 2**63, size=(2, n * n), dtype=np.int64
        ).astype(np.uint64) * np.uint64(2) + np.uint64(1)
        cfg = np.zeros(K.N_CFG, np.int64)
        cfg[K.CFG_N] = n
        cfg[K.CFG_POINTS] = n * n
        cfg[K.CFG_MAX_MOVES] = max_moves
        cfg[K.CFG_POSITIONAL] = superko == "positional"
        cfg[K.CFG_SUICIDE] = self.allow_suicide
        cfg[K.CFG_CAPTURE] = rules == "capture"
        self.layout = Layout.build(n * n, history, max_moves)
        self._cfg = cfg
        self._rules = (self._nbr, self._keys, cfg)  # the trailing arguments of every kernel

    def __repr__(self) -> str:
        return (
            f"GoGame(board_size={self.board_size}, komi={self.komi}, rules={self.rules!r}, "
            f"superko={self.superko!r}, allow_suicide={self.allow_suicide}, "
            f"max_moves={self.max_moves}, history={self.history})"
        )

    # ----- states -------------------------------------------------------------------------

    def initial_batch(self, size: int) -> GoBatch:
        """`size` empty boards, black to play."""
        if size < 1:
            raise ValueError(f"batch size must be at least 1, got {size}")
        batch = GoBatch(
            np.zeros((size, self.layout.row_bytes), np.uint8),
            np.zeros((size, K.N_META), np.int32),
            self.layout,
        )
        batch.meta[:, K.KO] = -1
        batch.meta[:, K.LAST] = -1
        batch.chains[:, K.FREE] = self._nbr[:, 0]
        batch.hashes[:, self._points] = np.uint64(1)  # Bloom bits of the empty board's hash 0
        return batch

    def initial_state(self, rng: np.random.Generator | None = None) -> GoState:
        """The empty board, black to play (`rng` is unused: Go starts the same every time)."""
        batch = self.initial_batch(1)
        return GoState(batch.data, batch.meta, self.layout)

    def state_from_board(
        self, board: np.ndarray, to_play: int = 0, ko_point: int | None = None
    ) -> GoState:
        """A state holding a given position: board [N, N] of 0 / 1 (black) / -1 (white).

        The position is the first of the game's history (for superko and move counting).
        Raises ValueError for a wrong shape, values other than 0/1/-1, or a chain that has
        no liberty.
        """
        n = self.board_size
        arr = np.asarray(board)
        if arr.shape != (n, n):
            raise ValueError(f"board must have shape ({n}, {n}), got {arr.shape}")
        if not np.isin(arr, (-1, 0, 1)).all():
            raise ValueError("board values must be 0 (empty), 1 (black) or -1 (white)")
        if to_play not in (0, 1):
            raise ValueError(f"to_play must be 0 (black) or 1 (white), got {to_play!r}")
        state = self.initial_state()
        state.hashes[0, self._points] = 0
        board_values = arr.astype(np.int8).ravel()
        dead = K.setup_board(state.hist, state.chains, state.hashes, board_values, *self._rules[:2])
        if dead >= 0:
            raise ValueError(f"the chain at {action_to_gtp(dead, n)} has no liberty")
        state.meta[0, K.TO_PLAY] = to_play
        if ko_point is not None:
            ko = check_action(ko_point, n)
            if ko == self._points or arr.ravel()[ko] != 0:
                raise ValueError(f"ko point {ko_point} must be an empty point")
            state.meta[0, K.KO] = ko
        return state

    def _check_state(self, state: _Arrays, full: bool = True) -> None:
        """Refuse anything but a consistent state (or batch) of this game: the compiled rules
        trust their input, so a corrupted one would crash or hang them (see `_validate`).
        `full=False` checks meta and boards only, for kernels that read nothing else."""
        if not isinstance(state, _Arrays):
            raise GoStateError(f"expected a GoState or GoBatch, got {type(state).__name__}")
        if state.layout is not self.layout and state.layout != self.layout:
            raise GoStateError(
                f"state does not belong to {self!r} (its layout is {state.layout})"
            )
        bad = np.empty(state.meta.shape[0], np.int32)
        first = check_batch(*state.arrays, *self._rules, bad, full)
        if first >= 0:
            where = "state" if isinstance(state, GoState) else f"board {first} of the batch"
            raise GoStateError(f"{where} is corrupt: {PROBLEMS[bad[first]]}")

    # ----- single-state API ---------------------------------------------------------------

    def next_state(self, state: GoState, action: int) -> GoState:
        """The state after `action`; raises ValueError naming the move if it is illegal."""
        self._check_state(state)
        a = check_action(action, self.board_size)
        out = state.copy()
        status = K.play_one(*out.arrays, a, *self._rules)
        if status != K.OK:
            raise ValueError(self._illegal_message(a, status))
        return out

    def move_error(self, state: GoState, action: int) -> str | None:
        """Why `action` is illegal in `state` (a sentence naming the move), or None if legal."""
        self._check_state(state)
        a = check_action(action, self.board_size)
        status = K.move_status_at(*state.arrays, 0, a, *self._rules)
        return None if status == K.OK else self._illegal_message(a, status)

    def step_in_place(
        self,
        state: GoState,
        action: int,
        viewer: int,
        mask: np.ndarray,
        planes: np.ndarray,
        reply_seed: int = -1,
    ) -> str | None:
        """The env adapters' fused step, in one compiled call: play `action` on `state` IN
        PLACE (skipped when negative; the caller has range-checked it), then, given a
        `reply_seed` >= 0 and a running game where `viewer` is not to play, a uniformly
        random reply (as `random_actions`, seeded by it); then write the legal mask into
        `mask` (bool [num_actions]) and the planes seen by `viewer` into `planes` (uint8
        [channels, N * N]). Returns None, or why `action` is illegal (then nothing changed)."""
        status = K.env_step(*state.arrays, action, reply_seed, viewer, *self._rules, mask, planes)
        return None if status == K.OK else self._illegal_message(action, status)

    def _illegal_message(self, a: int, status: int) -> str:
        if status == K.OUT_OF_RANGE:
            return f"action {a} out of range 0..{self._points}"
        move = action_to_gtp(a, self.board_size)
        return f"illegal move {move} (action {a}): {ILLEGAL_REASONS[status]}"

    def legal_mask(self, state: GoState) -> np.ndarray:
        """bool[N*N+1]; pass is always legal until the game ends, then nothing is."""
        return self.legal_masks(state)[0]

    def to_play(self, state: GoState) -> int:
        """0 when black is to move, 1 for white."""
        return int(state.meta[0, K.TO_PLAY])

    def is_terminal(self, state: GoState) -> bool:
        return bool(state.meta[0, K.END] != K.END_NONE)

    def board(self, state: GoState) -> np.ndarray:
        """int8[N, N] copy of the board: 0 empty, 1 black, -1 white; row 0 at the top."""
        self._check_state(state, full=False)
        row = state.meta[0, K.MOVES] % self.history
        return state.hist[0, row].reshape(self.board_size, self.board_size).copy()

    def area(self, state: GoState) -> tuple[int, int]:
        """Tromp-Taylor (black, white) area: stones plus empty regions reaching only that colour."""
        counts = self.area_batch(state)[0]
        return int(counts[0]), int(counts[1])

    def score(self, state: GoState) -> float:
        """Black area - white area - komi, for the board as it stands."""
        return float(self.scores_batch(state)[0])

    def returns(self, state: GoState) -> np.ndarray:
        """float32[2] (+1 win, -1 loss, 0 draw) for (black, white) at a terminal state."""
        if not self.is_terminal(state):
            raise ValueError("returns() needs a finished game; this one is still running")
        return self.returns_batch(state)[0]

    def encode(self, state: GoState, perspective: int | None = None) -> np.ndarray:
        """uint8 planes (2 * history + 1, N, N) from the view of `perspective` (default: the
        player to move): own stones, opponent stones for each past board, then black-to-play."""
        return self.encode_batch(state, perspective)[0]

    def greedy_action(self, state: GoState, rng: np.random.Generator) -> int:
        """One-step heuristic: the legal move with the best Tromp-Taylor area lead right after
        it (captures count through the area; in capture Go a capture wins), ties broken at
        random. It never fills its own eye, and passes only when nothing else is left."""
        self._check_state(state)
        if self.is_terminal(state):
            raise ValueError("greedy_action() needs a running game; this one is over")
        me = 1 if self.to_play(state) == 0 else -1
        moves = np.flatnonzero(self.legal_mask(state)[:-1])
        moves = moves[~own_eyes(self.board(state), me)[moves]]
        if moves.size == 0:
            return self.pass_action
        after = self.next_states(
            GoBatch(state.data, state.meta, state.layout).take(0 * moves), moves
        )
        area = self.area_batch(after)
        lead = (area[:, 0] - area[:, 1]) * me
        if self.rules == "capture":
            lead = lead + 10**6 * me * after.meta[:, K.WINNER]
        return int(rng.choice(moves[lead == lead.max()]))

    # ----- symmetries -----------------------------------------------------------------------

    @cached_property
    def symmetries(self) -> np.ndarray:
        """int64[8, num_actions]: symmetries[k, a] is where action a goes under symmetry k."""
        return action_permutations(self.board_size)

    def transform_planes(self, planes: np.ndarray, k: int) -> np.ndarray:
        """Apply symmetry k to the trailing (N, N) axes of planes."""
        return transform_planes(planes, k)

    def transform_policy(self, policy: np.ndarray, k: int) -> np.ndarray:
        """Move a [..., num_actions] vector (policy, mask) along with symmetry k."""
        return transform_policy(policy, k, self.board_size)

    # ----- batched API ----------------------------------------------------------------------

    def stack(self, states: Sequence[_Arrays]) -> GoBatch:
        """Stack states or batches of this game into one batch."""
        for s in states:
            self._check_state(s)
        return GoBatch.stack(states)

    def next_states(
        self, batch: _Arrays, actions: np.ndarray | Sequence[int], *, inplace: bool = False
    ) -> GoBatch:
        """Play actions[b] on every board b. A negative action leaves its board as it is (for
        finished games in a batch). Returns a new batch unless `inplace`; an illegal action
        raises ValueError naming the board and the move (with `inplace`, the other boards
        have moved)."""
        self._check_state(batch)
        acts = np.asarray(actions)
        if acts.shape != (batch.meta.shape[0],) or acts.dtype.kind not in "iu":
            raise ValueError(
                f"actions must be integers of shape ({batch.meta.shape[0]},), "
                f"got {acts.dtype} {acts.shape}"
            )
        out = batch if inplace else batch.copy()
        status = np.empty(acts.shape[0], np.int32)
        K.play_batch(*out.arrays, acts.astype(np.int64, copy=False), *self._rules, status)
        if status.any():
            b = int(np.flatnonzero(status)[0])
            a = int(acts[b])
            if status[b] == K.OUT_OF_RANGE:
                raise ValueError(f"board {b}: action {a} out of range 0..{self._points}")
            raise ValueError(f"board {b}: {self._illegal_message(a, int(status[b]))}")
        return out if isinstance(out, GoBatch) else GoBatch(out.data, out.meta, out.layout)

    def legal_masks(self, batch: _Arrays) -> np.ndarray:
        """bool[B, num_actions] legal actions of every board."""
        self._check_state(batch)
        out = np.empty((batch.meta.shape[0], self.num_actions), np.bool_)
        K.legal_masks(*batch.arrays, *self._rules, out)
        return out

    def random_actions(
        self, batch: _Arrays, rng: np.random.Generator, tries: int = 64
    ) -> np.ndarray:
        """int64[B]: a uniformly random legal action per game (-1 where the game is over),
        by rejection sampling (up to `tries` draws, then a full mask) from a compiled
        splitmix64 stream seeded by one draw from `rng`."""
        self._check_state(batch)
        out = np.empty(batch.meta.shape[0], np.int64)
        seed = int(rng.integers(2**63))
        K.random_actions(*batch.arrays, *self._rules, seed, tries, out)
        return out

    def encode_batch(self, batch: _Arrays, perspective: int | None = None) -> np.ndarray:
        """uint8[B, 2 * history + 1, N, N] planes, each board seen by its player to move (or by
        `perspective`, 0 black / 1 white, for all boards)."""
        self._check_state(batch, full=False)
        size = batch.meta.shape[0]
        if perspective not in (None, 0, 1):
            raise ValueError(f"perspective must be None, 0 or 1, got {perspective!r}")
        viewer = -1 if perspective is None else perspective
        out = np.empty((size, self.observation_shape[0], self._points), np.uint8)
        K.encode_batch(batch.hist, batch.meta, viewer, out)
        return out.reshape(size, *self.observation_shape)

    def to_play_batch(self, batch: _Arrays) -> np.ndarray:
        return batch.meta[:, K.TO_PLAY].copy()

    def is_terminal_batch(self, batch: _Arrays) -> np.ndarray:
        """bool[B]."""
        return batch.meta[:, K.END] != K.END_NONE

    def area_batch(self, batch: _Arrays) -> np.ndarray:
        """int64[B, 2] Tromp-Taylor (black, white) areas."""
        self._check_state(batch, full=False)
        out = np.empty((batch.meta.shape[0], 2), np.int64)
        K.area_batch(batch.hist, batch.meta, self._nbr, out)
        return out

    def scores_batch(self, batch: _Arrays) -> np.ndarray:
        """float64[B] black area - white area - komi."""
        area = self.area_batch(batch)
        return (area[:, 0] - area[:, 1]).astype(np.float64) - self.komi

    def returns_batch(self, batch: _Arrays) -> np.ndarray:
        """float32[B, 2] (black, white) returns; 0 for games still running."""
        if self.rules == "capture":
            black = batch.meta[:, K.WINNER].astype(np.float32)
        else:
            black = np.sign(self.scores_batch(batch)).astype(np.float32)
        black = np.where(self.is_terminal_batch(batch), black, np.float32(0))
        return np.stack([black, -black], axis=1)


def _neighbours(n: int) -> np.ndarray:
    """int64[N*N, 5]: column 0 counts the on-board neighbours, listed in columns 1..4."""
    table = np.zeros((n * n, 5), np.int64)
    for p in range(n * n):
        r, c = divmod(p, n)
        near = [
            (r + dr) * n + (c + dc)
            for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1))
            if 0 <= r + dr < n and 0 <= c + dc < n
        ]
        table[p, 0] = len(near)
        table[p, 1 : 1 + len(near)] = near
    return table


def own_eyes(board: np.ndarray, colour: int) -> np.ndarray:
    """bool[N*N]: empty points whose neighbours are all `colour` and whose diagonals hold at
    most one enemy stone (none on the edge) - eyes a sensible player does not fill."""
    pad = np.pad(board, 1, constant_values=2)  # 2 marks off-board
    core = pad[1:-1, 1:-1]
    orth = [pad[:-2, 1:-1], pad[2:, 1:-1], pad[1:-1, :-2], pad[1:-1, 2:]]
    diag = [pad[:-2, :-2], pad[:-2, 2:], pad[2:, :-2], pad[2:, 2:]]
    surrounded = np.logical_and.reduce([(o == colour) | (o == 2) for o in orth])
    enemies = sum((d == -colour).astype(np.int64) for d in diag)
    on_edge = np.logical_or.reduce([d == 2 for d in diag])
    return ((core == 0) & surrounded & (enemies <= np.where(on_edge, 0, 1))).ravel()
