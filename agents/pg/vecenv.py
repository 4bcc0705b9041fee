"""Vector envs for the rollout collector, and exact env snapshots for `--resume`.

Gymnasium's vector envs reset a finished sub-env either in the same `step` call (SAME_STEP,
final observation in `info["final_obs"]`) or on the next one (NEXT_STEP, the step after an
end is a dummy transition). Envs built here use SAME_STEP; envs built elsewhere (Atari's
`make_atari`, native batched envs) may use NEXT_STEP, and the collector handles both.

Resuming "with identical next actions" needs the envs to continue from where they were. A
snapshot copies the numeric attributes (numpy arrays, numbers, RNG states) of every wrapper
layer of every sub-env: exact for Gymnasium's classic-control and toy-text envs, whose whole
dynamic state is such attributes. Other envs return no snapshot and restart from a reset.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, SyncVectorEnv, VectorEnv

from rlsuite.agents.pg.config import PGConfig

SNAPSHOT_MODULES = ("gymnasium.envs.classic_control", "gymnasium.envs.toy_text")
"""Env implementations whose whole dynamic state is numeric attributes."""


def make_vector_env(config: PGConfig) -> VectorEnv:
    """The vector env a run trains on (`config.num_envs` copies of `config.env`)."""
    kwargs = config.env_kwargs_dict()
    if config.env.startswith("ALE/"):
        from rlsuite.envs.atari import make_atari

        return make_atari(config.env, num_envs=config.num_envs, seed=config.seed, **kwargs)
    if config.env.startswith("rlsuite/"):
        import rlsuite  # noqa: F401  (registers the rlsuite/ ids)
    if config.vectorization == "native":
        return gym.make_vec(config.env, num_envs=config.num_envs,
                            vectorization_mode="vector_entry_point", **kwargs)
    return gym.make_vec(
        config.env,
        num_envs=config.num_envs,
        vectorization_mode=config.vectorization,
        vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP},
        **kwargs,
    )


def autoreset_mode(envs: VectorEnv) -> AutoresetMode:
    mode = AutoresetMode(envs.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP))
    if mode == AutoresetMode.DISABLED:
        raise ValueError("vector envs with autoreset disabled are not supported: the rollout "
                         "collector needs SAME_STEP or NEXT_STEP autoreset")
    return mode


def _layers(env: Any) -> Iterator[Any]:
    """An env and every env it wraps, outermost first."""
    while True:
        yield env
        if not hasattr(env, "env"):
            return
        env = env.env


def _numeric_state(obj: Any) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for name, value in vars(obj).items():
        if isinstance(value, np.random.Generator):
            state[name] = {"__rng__": value.bit_generator.state}
        elif isinstance(value, np.ndarray) and value.dtype != object:
            state[name] = value.copy()
        elif isinstance(value, np.generic):
            state[name] = {"__scalar__": np.asarray(value).reshape(1)}
        elif value is None or isinstance(value, bool | int | float):
            state[name] = value
    return state


def _restore_numeric(obj: Any, state: dict[str, Any]) -> None:
    for name, value in state.items():
        if isinstance(value, dict) and "__rng__" in value:
            rng = np.random.default_rng()
            rng.bit_generator.state = value["__rng__"]
            setattr(obj, name, rng)
        elif isinstance(value, dict) and "__scalar__" in value:
            setattr(obj, name, np.asarray(value["__scalar__"])[0])
        elif isinstance(value, np.ndarray):
            setattr(obj, name, value.copy())
        else:
            setattr(obj, name, value)


def _snapshottable(env: Any) -> bool:
    return type(env.unwrapped).__module__.startswith(SNAPSHOT_MODULES)


def snapshot(envs: VectorEnv) -> dict[str, Any] | None:
    """Numeric state of the vector env and all its sub-envs, or None if it cannot be exact."""
    if isinstance(envs, SyncVectorEnv) and all(_snapshottable(e) for e in envs.envs):
        return {
            "vector": _numeric_state(envs),
            "envs": [[_numeric_state(layer) for layer in _layers(e)] for e in envs.envs],
        }
    if type(envs).__module__.startswith(SNAPSHOT_MODULES):  # a native batched env
        return {"vector": _numeric_state(envs), "envs": []}
    return None


def restore(envs: VectorEnv, state: dict[str, Any]) -> None:
    """Inverse of `snapshot` on a freshly built vector env of the same config."""
    _restore_numeric(envs, state["vector"])
    subs = envs.envs if isinstance(envs, SyncVectorEnv) else []
    if len(subs) != len(state["envs"]):
        raise ValueError(f"env snapshot has {len(state['envs'])} sub-envs, the env {len(subs)}")
    for env, layer_states in zip(subs, state["envs"], strict=True):
        for layer, layer_state in zip(_layers(env), layer_states, strict=True):
            _restore_numeric(layer, layer_state)
