"""Search trees of B games at once as preallocated arrays, and the compiled kernels on them.

Node n of game b lives at ``[b, n]`` of every array; node 0 is the root. A node is created
when a simulation first takes the edge into it and is expanded (priors, value) in the same
simulation step, so every node in a tree has its priors. The value a node holds
(``value_sum / visits``) is seen by the player to move at its parent: Q of edge (n, a) is the
value of child ``children[b, n, a]`` with no sign to apply. Backing up a leaf value flips its
sign at every node whose parent's mover differs from the leaf's mover (two-player games);
one-player games never flip and normalise Q by the min and max seen in the game's tree
(MuZero, Schrittwieser et al. 2020, Appendix B).

Selection is PUCT (Silver et al. 2017) with first-play urgency, or Gumbel search
(Danihelka et al., ICLR 2022) exactly in the form of mctx's ``gumbel_muzero_policy``: a root
action chosen by sequential halving over Gumbel-perturbed logits plus completed Q values,
interior actions by the improved policy minus visit share, completed Q by the mixed value.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

PUCT, GUMBEL = 0, 1
_TINY = np.float32(1.1754944e-38)
LOW_LOGIT = -1e9


@nb.njit(cache=True, inline="always")
def _child_stats(children, visits, value_sum, b, n, a):
    """(visits, Q) of edge (n, a); (0, 0) when never taken."""
    c = children[b, n, a]
    if c < 0 or visits[b, c] == 0:
        return 0, 0.0
    return visits[b, c], value_sum[b, c] / visits[b, c]


@nb.njit(cache=True)
def completed_q(children, prior, legal, visits, value_sum, raw_value, b, n, value_scale,
                maxvisit_init, out) -> None:
    """mctx's ``qtransform_completed_by_mix_value`` at node n into out[A] (legal actions only):
    unvisited actions get the mixed value, Q is rescaled to [0, 1] by its min and max over the
    legal actions, then scaled by (maxvisit_init + max visits) * value_scale."""
    num_actions = out.shape[0]
    total = 0
    max_visits = 0
    sum_probs = 0.0
    weighted = 0.0
    for a in range(num_actions):
        if not legal[b, n, a]:
            continue
        nc, q = _child_stats(children, visits, value_sum, b, n, a)
        if nc > 0:
            p = max(prior[b, n, a], _TINY)
            sum_probs += p
            weighted += p * q
            total += nc
            max_visits = max(max_visits, nc)
    mixed = raw_value[b, n]
    if total > 0:
        mixed = (raw_value[b, n] + total * (weighted / sum_probs)) / (total + 1)
    lo = np.inf
    hi = -np.inf
    for a in range(num_actions):
        if not legal[b, n, a]:
            continue
        nc, q = _child_stats(children, visits, value_sum, b, n, a)
        v = q if nc > 0 else mixed
        out[a] = v
        lo = min(lo, v)
        hi = max(hi, v)
    scale = (maxvisit_init + max_visits) * value_scale / max(hi - lo, 1e-8)
    for a in range(num_actions):
        out[a] = (out[a] - lo) * scale if legal[b, n, a] else 0.0


@nb.njit(cache=True, inline="always")
def _logit(p):
    return np.log(max(p, _TINY))


@nb.njit(cache=True)
def _gumbel_root(children, prior, legal, visits, value_sum, raw_value, b, gumbel, considered,
                 value_scale, maxvisit_init, qbuf) -> int:
    """Sequential halving: among legal actions whose visit count equals `considered`, the one
    with the largest gumbel + logit + completed Q."""
    completed_q(children, prior, legal, visits, value_sum, raw_value, b, 0, value_scale,
                maxvisit_init, qbuf)
    top = -np.inf
    for a in range(qbuf.shape[0]):
        if legal[b, 0, a]:
            top = max(top, _logit(prior[b, 0, a]))
    best = -1
    best_score = -np.inf
    for a in range(qbuf.shape[0]):
        if not legal[b, 0, a]:
            continue
        nc, _ = _child_stats(children, visits, value_sum, b, 0, a)
        if nc != considered:
            continue
        score = max(LOW_LOGIT, gumbel[b, a] + _logit(prior[b, 0, a]) - top + qbuf[a])
        if score > best_score:
            best_score = score
            best = a
    return best


@nb.njit(cache=True)
def _gumbel_interior(children, prior, legal, visits, value_sum, raw_value, b, n, value_scale,
                     maxvisit_init, qbuf) -> int:
    """argmax of softmax(logits + completed Q) - visits / (1 + total visits)."""
    completed_q(children, prior, legal, visits, value_sum, raw_value, b, n, value_scale,
                maxvisit_init, qbuf)
    num_actions = qbuf.shape[0]
    top = -np.inf
    total = 0
    for a in range(num_actions):
        if legal[b, n, a]:
            qbuf[a] += _logit(prior[b, n, a])
            top = max(top, qbuf[a])
            total += _child_stats(children, visits, value_sum, b, n, a)[0]
    norm = 0.0
    for a in range(num_actions):
        if legal[b, n, a]:
            qbuf[a] = np.exp(qbuf[a] - top)
            norm += qbuf[a]
    best = -1
    best_score = -np.inf
    for a in range(num_actions):
        if not legal[b, n, a]:
            continue
        nc = _child_stats(children, visits, value_sum, b, n, a)[0]
        score = qbuf[a] / norm - nc / (1.0 + total)
        if score > best_score:
            best_score = score
            best = a
    return best


@nb.njit(cache=True)
def _puct(children, prior, legal, visits, value_sum, raw_value, b, n, root_prior, c_puct,
          fpu_reduction, one_player, qmin, qmax) -> int:
    """argmax Q + c * P * sqrt(N) / (1 + N_a); unvisited edges get the node's own network
    value minus `fpu_reduction` (first-play urgency; 0 in normalised one-player games)."""
    num_actions = children.shape[2]
    total = 0
    for a in range(num_actions):
        total += _child_stats(children, visits, value_sum, b, n, a)[0]
    sq = math.sqrt(max(total, 1))
    spread = qmax[b] - qmin[b]
    fpu = 0.0 if one_player else raw_value[b, n] - fpu_reduction
    best = -1
    best_score = -np.inf
    for a in range(num_actions):
        if not legal[b, n, a]:
            continue
        p = root_prior[b, a] if n == 0 else prior[b, n, a]
        nc, q = _child_stats(children, visits, value_sum, b, n, a)
        if nc == 0:
            q = fpu
        elif one_player:  # normalised to [0, 1]; no information while all Q are equal
            q = (q - qmin[b]) / spread if spread > 0 else 0.0
        score = q + c_puct * p * sq / (1 + nc)
        if score > best_score:
            best_score = score
            best = a
    return best


@nb.njit(cache=True, nogil=True)
def select_leaves(parent, action, children, prior, legal, visits, value_sum, raw_value,
                  terminal, num_nodes, active, root_prior, gumbel, considered, mode, c_puct,
                  fpu_reduction, value_scale, maxvisit_init, one_player, qmin, qmax,
                  out_leaf, out_parent) -> None:
    """One simulation's descent in every active game: follow the selection rule from the
    root until an edge never taken (a node is created for it: out_leaf is the new node,
    out_parent its parent) or a terminal node (out_leaf is that node, out_parent -1).
    Inactive games get out_leaf -1. `considered[b]` is the sequential-halving visit target
    of the root (Gumbel mode)."""
    num_games, _, num_actions = children.shape
    qbuf = np.zeros(num_actions, np.float64)
    for b in range(num_games):
        out_leaf[b] = -1
        out_parent[b] = -1
        if not active[b]:
            continue
        n = 0
        while True:
            if terminal[b, n]:
                out_leaf[b] = n
                break
            if mode == GUMBEL and n == 0:
                a = _gumbel_root(children, prior, legal, visits, value_sum, raw_value, b,
                                 gumbel, considered[b], value_scale, maxvisit_init, qbuf)
            elif mode == GUMBEL:
                a = _gumbel_interior(children, prior, legal, visits, value_sum, raw_value, b,
                                     n, value_scale, maxvisit_init, qbuf)
            else:
                a = _puct(children, prior, legal, visits, value_sum, raw_value, b, n,
                          root_prior, c_puct, fpu_reduction, one_player, qmin, qmax)
            c = children[b, n, a]
            if c < 0:
                c = num_nodes[b]
                num_nodes[b] = c + 1
                parent[b, c] = n
                action[b, c] = a
                children[b, n, a] = c
                children[b, c, :] = -1
                visits[b, c] = 0
                value_sum[b, c] = 0.0
                terminal[b, c] = False
                out_leaf[b] = c
                out_parent[b] = n
                break
            n = c


@nb.njit(cache=True, nogil=True)
def backup(parent, prior, legal, visits, value_sum, raw_value, player, term_value, leaf,
           eval_row, logits, values, one_player, qmin, qmax) -> None:
    """Finish a simulation step in every game with a leaf: a leaf the network evaluated
    (eval_row >= 0) gets its priors (softmax of the logits over its legal actions) and raw
    value; then the leaf's value is added along the path to the root, its sign flipped at
    nodes seen by the other player. One-player games widen their min/max of Q over the
    edges on the path (not the root's own value: a network value off the returns' scale
    would flatten every normalised Q)."""
    num_games, _, num_actions = legal.shape
    for b in range(num_games):
        n = leaf[b]
        if n < 0:
            continue
        e = eval_row[b]
        if e >= 0:
            top = -np.inf
            for a in range(num_actions):
                if legal[b, n, a]:
                    top = max(top, logits[e, a])
            norm = 0.0
            for a in range(num_actions):
                p = np.exp(logits[e, a] - top) if legal[b, n, a] else 0.0
                prior[b, n, a] = p
                norm += p
            for a in range(num_actions):
                prior[b, n, a] /= norm
            v = values[e]
            raw_value[b, n] = v
        else:
            v = term_value[b, n]
        mover = player[b, n]
        while n >= 0:
            up = parent[b, n]
            seen_by = player[b, up] if up >= 0 else player[b, n]
            visits[b, n] += 1
            value_sum[b, n] += v if seen_by == mover else -v
            if one_player and up >= 0:  # the range of edge values, which PUCT normalises
                q = value_sum[b, n] / visits[b, n]
                qmin[b] = min(qmin[b], q)
                qmax[b] = max(qmax[b], q)
            n = up


@nb.njit(cache=True)
def keep_subtrees(parent, action, children, prior, legal, visits, value_sum, raw_value,
                  player, terminal, term_value, num_nodes, taken, keep_max, kept) -> None:
    """Subtree reuse: make child `taken[b]` of each root the new root, keeping at most
    `keep_max` of its nodes (the oldest, so every kept node's parent is kept), compacted to
    indices 0.. in creation order (in place: a node only moves to a lower index). kept[b, j]
    is the old index of new node j (for state storage to follow); num_nodes[b] is the new
    count, 0 where nothing is kept (taken < 0, an edge never searched, or keep_max 0)."""
    num_games, capacity, num_actions = children.shape
    new_index = np.empty(capacity, np.int32)
    for b in range(num_games):
        a = taken[b]
        r = children[b, 0, a] if a >= 0 else -1
        if r < 0 or keep_max <= 0:
            num_nodes[b] = 0
            continue
        flip = player[b, 0] != player[b, r]  # the new root's value is seen by its own mover
        count = 0
        for i in range(r, num_nodes[b]):
            new_index[i] = -1
            inside = i == r or (parent[b, i] >= r and new_index[parent[b, i]] >= 0)
            if inside and count < keep_max:
                new_index[i] = count
                kept[b, count] = i
                count += 1
        for j in range(count):
            i = kept[b, j]
            parent[b, j] = -1 if j == 0 else new_index[parent[b, i]]
            action[b, j] = action[b, i]
            for x in range(num_actions):
                c = children[b, i, x]
                children[b, j, x] = new_index[c] if c >= 0 else -1
                prior[b, j, x] = prior[b, i, x]
                legal[b, j, x] = legal[b, i, x]
            visits[b, j] = visits[b, i]
            value_sum[b, j] = value_sum[b, i]
            raw_value[b, j] = raw_value[b, i]
            player[b, j] = player[b, i]
            terminal[b, j] = terminal[b, i]
            term_value[b, j] = term_value[b, i]
        if flip:
            value_sum[b, 0] = -value_sum[b, 0]
        num_nodes[b] = count


@nb.njit(cache=True, nogil=True)
def root_noise(seeds, active, legal, root_prior, gumbel, mode, gumbel_scale, alpha, fraction):
    """Each active game's root noise, drawn from numba's generator of the calling thread
    reseeded from that game's seed alone (so a game's noise depends on its seed only, not on
    the other games or on which thread searches it). Gumbel mode: gumbel[b, a] =
    gumbel_scale * Gumbel(0, 1) for every action. PUCT with fraction > 0: root_prior[b] =
    (1 - fraction) * prior + fraction * Dirichlet(alpha) over the legal actions (legal[b] is
    the root's mask), the Dirichlet drawn as normalised Gamma(alpha) variates. Compiled
    without the GIL: in Python this loop held the GIL for about a third of a sharded search's
    Python time."""
    num_actions = root_prior.shape[1]
    draws = np.zeros(num_actions, np.float64)
    for b in range(active.shape[0]):
        if not active[b]:
            continue
        np.random.seed((seeds[b] ^ (seeds[b] >> 32)) & 0xFFFFFFFF)
        if mode == GUMBEL:
            for a in range(num_actions):
                gumbel[b, a] = gumbel_scale * np.random.gumbel(0.0, 1.0)
        elif fraction > 0:
            total = 0.0
            num_legal = 0
            for a in range(num_actions):
                draws[a] = np.random.gamma(alpha, 1.0) if legal[b, a] else 0.0
                total += draws[a]
                num_legal += legal[b, a]
            for a in range(num_actions):
                if legal[b, a]:
                    noise = draws[a] / total if total > 0 else 1.0 / num_legal
                    root_prior[b, a] = (1 - fraction) * root_prior[b, a] + fraction * noise


@nb.njit(cache=True, nogil=True)
def gumbel_result(children, prior, legal, visits, value_sum, raw_value, active, gumbel,
                  child_visits, value_scale, maxvisit_init, policy, action) -> None:
    """Gumbel search's answer for every active game (mctx ``gumbel_muzero_policy``): the
    policy target softmax(root logits + completed Q) over the legal actions, and the action
    among the most visited that maximises gumbel + logits + completed Q (sequential halving's
    survivor). `child_visits[b, a]` are the root's edge visits."""
    num_games, _, num_actions = legal.shape
    qbuf = np.zeros(num_actions, np.float64)
    for b in range(num_games):
        if not active[b]:
            continue
        completed_q(children, prior, legal, visits, value_sum, raw_value, b, 0, value_scale,
                    maxvisit_init, qbuf)
        top_z = -np.inf
        top_logit = -np.inf
        most = 0
        for a in range(num_actions):
            if legal[b, 0, a]:
                logit = _logit(prior[b, 0, a])
                top_z = max(top_z, logit + qbuf[a])
                top_logit = max(top_logit, logit)
                most = max(most, child_visits[b, a])
        total = 0.0
        for a in range(num_actions):
            p = np.exp(_logit(prior[b, 0, a]) + qbuf[a] - top_z) if legal[b, 0, a] else 0.0
            policy[b, a] = p
            total += p
        best = -1
        best_score = -np.inf
        for a in range(num_actions):
            policy[b, a] /= total
            if legal[b, 0, a] and child_visits[b, a] == most:
                score = max(LOW_LOGIT, gumbel[b, a] + _logit(prior[b, 0, a]) - top_logit
                            + qbuf[a])
                if score > best_score:
                    best_score = score
                    best = a
        action[b] = best


@nb.njit(cache=True, nogil=True)
def pack_rows(needs, rows, packed, row_of) -> int:
    """Copy rows[b] for every b with needs[b] into consecutive rows of `packed` (the batch the
    network sees); row_of[b] is b's row there, or -1. Returns the number packed."""
    count = 0
    for b in range(needs.shape[0]):
        row_of[b] = -1
        if needs[b]:
            packed[count] = rows[b]
            row_of[b] = count
            count += 1
    return count


def considered_visits_table(max_considered: int, simulations: int) -> np.ndarray:
    """int32[max_considered + 1, simulations]: row k is mctx's sequence of considered visit
    counts for sequential halving over k actions (``get_table_of_considered_visits``)."""
    table = np.zeros((max_considered + 1, max(simulations, 1)), np.int32)
    for k in range(max_considered + 1):
        table[k, :simulations] = _considered_sequence(k, simulations)
    return table


def _considered_sequence(k: int, simulations: int) -> list[int]:
    if k <= 1:
        return list(range(simulations))
    log2max = math.ceil(math.log2(k))
    sequence: list[int] = []
    visits = [0] * k
    considered = k
    while len(sequence) < simulations:
        extra = max(1, int(simulations / (log2max * considered)))
        for _ in range(extra):
            sequence.extend(visits[:considered])
            for i in range(considered):
                visits[i] += 1
        considered = max(2, considered // 2)
    return sequence[:simulations]
