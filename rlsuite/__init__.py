"""rlsuite: AlphaGo Zero, DQN on Atari and AlphaChip in one suite.

Importing the package registers its Gymnasium ids (Gymnasium 1.x has no plugin discovery), so
`import rlsuite; gymnasium.make("rlsuite/Go-v0")` works, as does
`gymnasium.make("rlsuite:rlsuite/Go-v0")` without the import. Env modules load on first `make`.
"""

from gymnasium.envs.registration import register, registry

__version__ = "0.1.0"

ENV_IDS = {
    "rlsuite/Go-v0": "rlsuite.envs.go.env:GoEnv",
    "rlsuite/ChipPlacement-v0": "rlsuite.envs.chip.env:ChipPlacementEnv",
}

for _env_id, _entry_point in ENV_IDS.items():
    if _env_id not in registry:
        register(id=_env_id, entry_point=_entry_point)

__all__ = ["ENV_IDS", "__version__"]
