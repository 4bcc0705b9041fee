"""DQN and its Rainbow-lite extensions for discrete-action envs: CartPole, Go, chip placement
and Atari (Mnih et al., Nature 2015).

- `DQNConfig`: every knob, with presets per env in `rlsuite/presets.toml` (`[dqn."ENV"]`).
- `DQN`: the algorithm inside `rlsuite.run`; `train(config) -> run_dir` (the command line:
  `rlsuite train dqn ...`, `--resume RUN`, parsed by `rlsuite.cli.train`).
- `load_agent(run_or_checkpoint)`: a trained agent with `act(obs, action_mask)` for the arena.
"""

from rlsuite.agents.dqn.config import DQNConfig
from rlsuite.agents.dqn.loading import load_agent
from rlsuite.agents.dqn.policy import DQNAgent
from rlsuite.agents.dqn.train import DQN, train

__all__ = ["DQN", "DQNAgent", "DQNConfig", "load_agent", "train"]
