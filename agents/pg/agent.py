"""A trained policy as a plain object: `act(obs, action_mask, deterministic)`, loadable from a
checkpoint alone (the arena, `rlsuite watch` and GTP build their Players from it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from gymnasium import spaces

from rlsuite import checkpoint
from rlsuite.agents.pg.config import PGConfig
from rlsuite.agents.pg.networks import ActorCritic, NetSpec


def net_spec(config: PGConfig, obs_space: spaces.Space, act_space: spaces.Space) -> NetSpec:
    """The network shape a config asks for, on these spaces."""
    if not isinstance(obs_space, spaces.Box):
        raise ValueError(f"observation space {obs_space} is not supported: use a Box")
    assert obs_space.shape is not None
    low: tuple[float, ...] = ()
    high: tuple[float, ...] = ()
    if isinstance(act_space, spaces.Discrete):
        kind, dim = "discrete", int(act_space.n)
    elif isinstance(act_space, spaces.Box) and len(act_space.shape) == 1:
        kind, dim = "box", int(act_space.shape[0])
        low, high = tuple(map(float, act_space.low)), tuple(map(float, act_space.high))
    else:
        raise ValueError(f"action space {act_space} is not supported: use Discrete or a 1-d Box")
    return NetSpec(
        obs_shape=tuple(obs_space.shape),
        obs_dtype=np.dtype(obs_space.dtype).name,
        action_kind=kind,  # type: ignore[arg-type]
        action_dim=dim,
        torso=config.torso,
        hidden=tuple(config.hidden_sizes),
        activation=config.activation,
        conv_channels=tuple(config.conv_channels),
        shared_torso=config.shared_torso,
        init_log_std=config.init_log_std,
        action_low=low,
        action_high=high,
    )


class PGAgent:
    """Batched action selection with a trained `ActorCritic`."""

    def __init__(self, policy: ActorCritic, config: dict[str, Any], device: str = "cpu") -> None:
        self.policy = policy.eval()
        self.config = config
        self.device = torch.device(device)
        spec = policy.spec
        dtype = np.dtype(spec.obs_dtype)
        if dtype == np.uint8:
            self.observation_space: spaces.Box = spaces.Box(0, 255, spec.obs_shape, np.uint8)
        else:
            self.observation_space = spaces.Box(-np.inf, np.inf, spec.obs_shape, dtype)
        self.action_space: spaces.Space
        if spec.action_kind == "discrete":
            self.action_space = spaces.Discrete(spec.action_dim)
        else:
            self.action_space = spaces.Box(
                np.array(spec.action_low, np.float32), np.array(spec.action_high, np.float32)
            )

    @torch.inference_mode()
    def act(
        self,
        obs: np.ndarray,
        action_mask: np.ndarray | None = None,
        deterministic: bool = True,
    ) -> np.ndarray:
        """Actions (batch,) or (batch, dim) for observations (batch, *obs_shape)."""
        obs = np.asarray(obs)
        if obs.shape[1:] != self.observation_space.shape:
            raise ValueError(f"observations must be (batch, {self.observation_space.shape}), "
                             f"got {obs.shape}")
        mask = None if action_mask is None else torch.as_tensor(np.asarray(action_mask, bool))
        dist, _ = self.policy(torch.as_tensor(obs, device=self.device),
                              None if mask is None else mask.to(self.device))
        action = dist.mode() if deterministic else dist.sample()
        out = action.cpu().numpy()
        if isinstance(self.action_space, spaces.Box):
            out = np.clip(out, self.action_space.low, self.action_space.high)
        return out


def load_agent(path: str | Path, device: str = "cpu") -> PGAgent:
    """The agent of a run directory (its latest checkpoint) or of one checkpoint directory."""
    state = checkpoint.load(path, map_location=device).state
    algorithm = state.get("algorithm", {})
    if "net_spec" not in algorithm:
        raise checkpoint.CheckpointError(f"{path} is not a policy-gradient checkpoint")
    policy = ActorCritic(NetSpec.from_json(algorithm["net_spec"])).to(device)
    policy.load_state_dict(algorithm["policy"])
    return PGAgent(policy, state["config"], device)
