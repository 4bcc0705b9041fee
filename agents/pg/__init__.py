"""Policy-gradient agents: REINFORCE with a baseline, A2C and PPO as configurations of one
actor-critic core.

    from rlsuite.agents.pg import PPOConfig, train, load_agent
    run_dir = train(PPOConfig(env="CartPole-v1", total_steps=50_000))
    agent = load_agent(run_dir)
    actions = agent.act(observations)

Modules: `config` (one config, three algorithms as its defaults), `distributions` (masked
categorical, diagonal Gaussian), `networks` (torsos and the actor-critic), `losses` (GAE and
the loss terms), `rollout` (`rlsuite.vecenv` envs -> ReplayBuffer), `learner` (minibatch
updates), `trainer` (the algorithm inside `rlsuite.run`, which owns the loop, checkpoints and
resume), `agent` (loading for play). `rlsuite train ppo|a2c|reinforce` parses flags into
these configs (`rlsuite.cli.train`).
"""

from rlsuite.agents.pg.agent import PGAgent, load_agent
from rlsuite.agents.pg.config import A2CConfig, PGConfig, PPOConfig, ReinforceConfig
from rlsuite.agents.pg.trainer import UpdateReport, train

__all__ = [
    "A2CConfig",
    "PGAgent",
    "PGConfig",
    "PPOConfig",
    "ReinforceConfig",
    "UpdateReport",
    "load_agent",
    "train",
]
