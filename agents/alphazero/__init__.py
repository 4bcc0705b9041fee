"""AlphaZero for rlsuite: batched tree search over many games at once, a residual policy-value
network with fast CPU inference, self-play workers and the trainer.

Search (`BatchedSearch`) keeps B trees in preallocated arrays and sends the leaves of all B
games to the network in one batch per simulation step; for Go a compiled path descends,
plays moves and writes leaf planes without a Python call per node. PUCT (AlphaGo Zero) and
Gumbel search with sequential halving (mctx `gumbel_muzero_policy`) are both available.
"""

from __future__ import annotations

from rlsuite.agents.alphazero.network import InferenceNet, NetConfig, PolicyValueNet
from rlsuite.agents.alphazero.player import AlphaZeroPlayer, load_network, load_player
from rlsuite.agents.alphazero.search import BatchedSearch, SearchConfig, SearchResult
from rlsuite.agents.alphazero.selfplay import SelfPlayConfig, SelfPlayWorker

__all__ = [
    "AlphaZeroPlayer",
    "BatchedSearch",
    "InferenceNet",
    "NetConfig",
    "PolicyValueNet",
    "SearchConfig",
    "SearchResult",
    "SelfPlayConfig",
    "SelfPlayWorker",
    "load_network",
    "load_player",
]
