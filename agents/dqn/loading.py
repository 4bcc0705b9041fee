"""Rebuild a trained DQN agent from a run directory or checkpoint, without its env."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np

from rlsuite import checkpoint
from rlsuite.agents.dqn.config import DQNConfig
from rlsuite.agents.dqn.policy import DQNAgent
from rlsuite.agents.dqn.train import build_network
from rlsuite.config import load_config
from rlsuite.run import resolve_device


def load_agent(path: str | Path, device: str = "cpu", seed: int | None = None) -> DQNAgent:
    """`path` is a run directory (its latest checkpoint) or one checkpoint directory inside
    `RUN/checkpoints/`. The checkpoint is read once; the replay buffer never."""
    path = Path(path)
    run_dir = path.parent.parent if (path / checkpoint.MANIFEST).is_file() else path
    config = load_config(DQNConfig, run_dir)
    torch_device = resolve_device(device)
    state = checkpoint.load(path, map_location=torch_device).state
    if "spaces" not in state.get("algorithm", {}):
        raise checkpoint.CheckpointError(f"{path} is not a DQN checkpoint")
    spaces = state["algorithm"]["spaces"]
    dtype = np.dtype(spaces["obs_dtype"])
    low, high = np.asarray(spaces["obs_low"]), np.asarray(spaces["obs_high"])
    observation_space = gym.spaces.Box(low=low, high=high, dtype=dtype)  # type: ignore[arg-type]
    action_space = gym.spaces.Discrete(int(spaces["num_actions"]))
    network = build_network(config, tuple(low.shape), dtype, int(spaces["num_actions"]))
    network.load_state_dict(state["algorithm"]["online"])
    return DQNAgent(network.to(torch_device), observation_space, action_space, config,
                    torch_device, seed)
