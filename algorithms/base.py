"""The interface every algorithm honours, and what it may know about its environment.

The runner (``bench.runner``) owns budgets, evaluation, seeding, checkpoints and the run
store. An algorithm only answers four questions:

- ``learn(until_env_steps)``: train until at least ``until_env_steps`` training
  environment steps have been taken (episodic methods may finish the episode or
  iteration in progress, per-step methods stop exactly); ``env_steps`` counts every
  training step. The runner calls it in chunks between evaluation points (a graceful
  stop checkpoints at a chunk's end), so ``learn(a); learn(b)`` must train exactly as
  ``learn(b)``.
- ``policy(command)``: a deterministic evaluation policy, a callable mapping a *batch*
  of observations to a batch of actions. Return-conditioned methods take a return
  command (``None`` = the method's own evaluation command); goal-conditioned methods
  read the goal from the (dict) observation. A policy that must see the rewards of its
  episode (UDRL) is a :class:`RewardAwarePolicy`.
- ``state_dict()`` / ``load_state_dict()``: everything needed to resume exactly,
  including the algorithm's own random generators and its training environment state.
  ``final_state()`` / ``load_final_state()``: the trained model a complete run keeps.

:func:`algorithms.conformance.check_conformance` checks all of this for any subclass.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, ClassVar, Literal, Protocol

import gymnasium as gym
import numpy as np

Obs = Any  # np.ndarray of shape (n, obs_dim), or a dict of such arrays for goal envs
Policy = Callable[[Obs], np.ndarray]


class EnvFactory(Protocol):
    """Creates a fresh training environment (unseeded; the algorithm seeds its resets)."""

    def __call__(self, *, remove_survival_bonus: bool = False) -> gym.Env: ...


class RewardAwarePolicy(abc.ABC):
    """An evaluation policy whose input follows the rewards of its own episode (UDRL's
    command update ``d_r -= r``). The runner's evaluation and sweeps call :meth:`reset`
    before a batch of lockstep episodes, :meth:`act` with the indices of the episodes still
    running, and :meth:`observe` with their rewards after every step. Called like a plain
    policy, it acts as at the first step of fresh episodes."""

    @abc.abstractmethod
    def reset(self, n: int) -> None:
        """A new batch of ``n`` episodes starts."""

    @abc.abstractmethod
    def act(self, obs: Obs, idx: np.ndarray) -> np.ndarray:
        """Actions for the observations of the running episodes ``idx`` (indices into the batch)."""

    @abc.abstractmethod
    def observe(self, rewards: np.ndarray, idx: np.ndarray) -> None:
        """Rewards of the step just taken by the episodes ``idx``."""

    def __call__(self, obs: Obs) -> np.ndarray:
        n = len(next(iter(obs.values()))) if isinstance(obs, dict) else len(obs)
        self.reset(n)
        return self.act(obs, np.arange(n))


@dataclass(frozen=True)
class EnvInfo:
    """Facts about the task an algorithm may use.

    :param env_id: the id the user asked for (shown in every table), e.g. ``Hopper-v3``
    :param gym_id: the gymnasium id actually run, e.g. ``Hopper-v4``
    :param observation_space: the environment's observation space
    :param action_space: the environment's action space
    :param survival_bonus: per-step bonus removed by ``remove_survival_bonus`` (0 if none)
    :param return_range: (min, max) return used to scale commands and for sweeps, if known
    :param max_episode_steps: the time limit of one episode
    """

    env_id: str
    gym_id: str
    observation_space: gym.Space
    action_space: gym.Space
    survival_bonus: float
    return_range: tuple[float, float] | None
    max_episode_steps: int


class Algorithm(abc.ABC):
    """Base class of all algorithms driven by the runner.

    Subclasses set ``Config`` (a dataclass of hyperparameters whose fields are the keys
    allowed in ``benchmark.toml``) and ``conditioning``.

    :param make_env: factory of training environments
    :param seed: the run's seed; the algorithm derives all its randomness from it
    :param config: an instance of ``Config``
    :param env_info: facts about the task
    """

    Config: ClassVar[type]
    #: None for plain RL, "return" for return-conditioned, "goal" for goal-conditioned.
    conditioning: ClassVar[Literal["return", "goal"] | None] = None

    def __init__(self, make_env: EnvFactory, seed: int, config: Any, env_info: EnvInfo):
        self.make_env = make_env
        self.seed = seed
        self.config = config
        self.env_info = env_info
        #: training environment steps taken so far (evaluation steps are not counted)
        self.env_steps = 0

    @abc.abstractmethod
    def learn(self, until_env_steps: int) -> None:
        """Train until ``self.env_steps >= until_env_steps``."""

    @abc.abstractmethod
    def policy(self, command: float | None = None) -> Policy:
        """The deterministic evaluation policy (batched: (n, obs) -> (n, act))."""

    def eval_command(self) -> float | None:
        """The command used in the runner's evaluation (return-conditioned methods)."""
        return None

    @abc.abstractmethod
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume training exactly."""

    @abc.abstractmethod
    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore from :meth:`state_dict`."""

    def final_state(self) -> dict[str, Any]:
        """What a complete run keeps (``model.pt``): the trained model without training-only
        state such as replay buffers. Default: everything (:meth:`state_dict`)."""
        return self.state_dict()

    def load_final_state(self, state: dict[str, Any]) -> None:
        """Restore from :meth:`final_state` (what reads ``model.pt``): afterwards the instance
        acts like the trained one (:meth:`policy`, :meth:`eval_command`); it need not be able to
        resume training (replay buffers, for one, are gone). Default: :meth:`load_state_dict`; override it when ``final_state``
        leaves out what ``load_state_dict`` requires."""
        self.load_state_dict(state)

    def training_stats(self) -> dict[str, float]:
        """Optional scalars logged beside each evaluation row (e.g. best training return)."""
        return {}

    def write_artifacts(self, run_dir: Path) -> None:
        """Optional: write method-specific files at the end of a run (e.g. probing snapshots)."""
