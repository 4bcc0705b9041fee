"""The one config of the DQN trainer: a keyword-only dataclass whose field docstrings are the
`--help` text (CleanRL's `Args` style). Per-env presets live in `rlsuite/presets.toml` under
`[dqn."ENV_ID"]`; command-line flags override them.

Defaults are "Rainbow-lite" (Hessel et al., AAAI 2018, without distributional heads and noisy
nets): Double DQN (van Hasselt et al., AAAI 2016), dueling heads (Wang et al., ICML 2016),
3-step returns and proportional prioritized replay (Schaul et al., ICLR 2016). Each is a switch.
"""

from __future__ import annotations

import dataclasses

from rlsuite.agents.networks import TorsoKind
from rlsuite.run import RunConfig


@dataclasses.dataclass(kw_only=True)
class DQNConfig(RunConfig):
    """Deep Q-learning on any Gymnasium env with a discrete action space; the run-layer fields
    (env, seed, total_steps, learning_rate, checkpoints, ...) are `rlsuite.run.RunConfig`'s.
    Atari's evaluation protocol is an env keyword: `--env-kwargs protocol machado`."""

    learning_rate: float = 1e-3
    """Adam step size at the start of training"""
    final_lr_fraction: float = 1.0
    """the step size decays linearly to `learning_rate * final_lr_fraction` at `total_steps`
    (1 keeps it constant). Late in training a large step lets the Q-values drift past the
    largest return the env can give and the greedy policy collapses (issue 14); a decay to a
    tenth keeps the early speed and the end stable"""

    # --- network ---
    torso: TorsoKind = "auto"
    """`mlp` for vectors, `nature_cnn` (Mnih et al. 2015) for Atari frames, `board_cnn` (one
    Q-value per cell) for board planes; `auto` picks by the observation's shape and dtype"""
    hidden_sizes: tuple[int, ...] = (256, 256)
    """widths of the MLP torso's hidden layers; with a board conv net, the width of the value
    stream's hidden layer"""
    conv_channels: tuple[int, ...] = (32, 32)
    """channels of the board conv net's 3x3 layers (Go, placement grids)"""
    dueling: bool = True
    """dueling value/advantage heads"""
    layer_norm: bool = False
    """LayerNorm in each hidden layer of the MLP torso: bounded features keep bootstrapped
    Q-values from running away after the agent has learned (issue 14)"""

    # --- learning ---
    double: bool = True
    """Double DQN: the online net picks the next action, the target net values it"""
    n_step: int = 3
    """n-step returns (1 = plain one-step TD)"""
    gamma: float = 0.99
    """discount factor"""
    adam_eps: float = 1.5e-4
    """Adam epsilon (Rainbow's value; PyTorch's 1e-8 is too small for TD targets)"""
    batch_size: int = 64
    """transitions per gradient step"""
    max_grad_norm: float = 10.0
    """gradient norm clip (0 disables it)"""
    buffer_size: int = 100_000
    """replay capacity in transitions"""
    learning_starts: int = 1_000
    """env steps of experience collected before the first gradient step"""
    train_every: int = 1
    """vector steps (each `num_envs` env steps) between rounds of gradient steps"""
    gradient_steps: int = 1
    """gradient steps per round"""
    target_update_every: int = 500
    """gradient steps between target-network updates"""
    tau: float = 1.0
    """target update rate: 1 copies the online net (hard), < 1 is Polyak averaging"""
    prioritized: bool = True
    """proportional prioritized replay; uniform sampling when off"""
    per_alpha: float = 0.5
    """priority exponent alpha"""
    per_beta: float = 0.4
    """initial importance-sampling exponent, annealed linearly to 1 by the end of training"""

    # --- exploration ---
    eps_start: float = 1.0
    """epsilon at step 0"""
    eps_end: float = 0.05
    """epsilon after the decay"""
    exploration_fraction: float = 0.1
    """fraction of `total_steps` over which epsilon decays linearly"""
    eval_epsilon: float = 0.0
    """epsilon during evaluation (Atari convention: 0.001 to 0.05)"""

    checkpoint_replay: bool = True
    """include the replay buffer in checkpoints, so a resumed run continues exactly"""

    def validate(self) -> None:
        """Reject values that would fail later, or silently train nonsense, with a clear error."""
        super().validate()
        positive = ("n_step", "batch_size", "buffer_size", "train_every", "gradient_steps",
                    "target_update_every")  # fmt: skip
        for name in positive:
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.learning_starts < 0:
            raise ValueError(f"learning_starts must be >= 0, got {self.learning_starts}")
        unit = ("final_lr_fraction", "gamma", "tau", "eps_start", "eps_end",
                "exploration_fraction", "eval_epsilon")
        for name in (*unit, "per_alpha", "per_beta"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], got {getattr(self, name)}")
        if self.tau == 0.0:
            raise ValueError("tau must be > 0 (0 would freeze the target network)")
        if self.adam_eps <= 0:
            raise ValueError(f"adam_eps must be positive, got {self.adam_eps}")
        if self.max_grad_norm < 0:
            raise ValueError(f"max_grad_norm must be >= 0, got {self.max_grad_norm}")
        if self.conv_channels and min(self.conv_channels) <= 0:
            raise ValueError(f"conv_channels must be positive widths, got {self.conv_channels}")
        if not self.hidden_sizes or min(self.hidden_sizes) <= 0:
            raise ValueError(f"hidden_sizes must be positive widths, got {self.hidden_sizes}")
        if self.batch_size > self.buffer_size:
            raise ValueError(f"batch_size {self.batch_size} exceeds buffer_size {self.buffer_size}")
