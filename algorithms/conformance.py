"""Conformance of an :class:`algorithms.base.Algorithm` to the interface the runner relies on.

:func:`check_conformance` builds an algorithm the way ``bench.runner`` does (environment
factory, :class:`EnvInfo`, globals seeded with ``seed_everything``) on a small environment
and checks, raising ``AssertionError`` with a message naming the first violation:

1. **learn**: ``learn(n)`` leaves ``env_steps >= n``, a Python ``int`` equal to the number of
   steps its training environments (the ones from ``make_env``) actually took;
2. **progress**: training changes the policy and, for torch-based methods, some network
   parameter before *and* after the resume point (otherwise the resume check below would be
   vacuous): where it has not yet, the instance learns on, doubling the target step, up to
   ``max_steps``;
3. **determinism and chunking**: two fresh instances with one seed give identical actions,
   ``env_steps`` and ``training_stats`` at every point, the second reaching each point in
   two ``learn`` calls (halfway, then the point): ``learn(a); learn(b)`` must train exactly as
   ``learn(b)``, since the runner learns in chunks between evaluation points (each chunk's
   end is where a graceful stop can checkpoint);
4. **exact resume**: ``state_dict()`` and ``global_rng_state()`` taken at the first point and
   round-tripped through ``torch.save`` / ``torch.load`` (as the runner's checkpoint) let a
   fresh instance of the same seed (``load_state_dict`` + ``set_global_rng_state``) act like
   the original there and continue to the second point exactly as the original did;
5. **actions**: the policy maps a batch of observations sampled from the observation space
   (dicts for goal environments) to finite actions of shape ``(n, act_dim)`` inside the
   action bounds; return-conditioned methods also for commands inside the return range,
   and a :class:`RewardAwarePolicy` through its ``reset`` / ``act`` / ``observe`` protocol;
6. **final state**: a fresh instance (another seed) that reads ``final_state()`` (round-tripped)
   with :meth:`Algorithm.load_final_state` acts exactly like the trained one.

Any algorithm gets these checks with its default ``Config()``; small configuration
overrides only make them fast (``tests/test_conformance.py`` keeps one table of them).
"""

from __future__ import annotations

import contextlib
import io
import math
import time
from dataclasses import dataclass, field
from typing import Any, Iterator

import gymnasium as gym
import numpy as np
import torch

from algorithms.base import Algorithm, RewardAwarePolicy
from algorithms.common import global_rng_state, seed_everything, set_global_rng_state


@dataclass
class ConformanceReport:
    """What a passing check saw (for test output)."""

    env_steps: tuple[int, int]
    """``env_steps`` at the resume point and at the end."""
    seconds: float
    learn_targets: list[int] = field(default_factory=list)
    """the ``learn(n)`` calls of the original instance, in order"""
    commands: list[float] = field(default_factory=list)


class _StepCounter:
    """Steps taken by every training environment of one instance (not plain data, so
    :mod:`algorithms.env_state` never saves or restores it)."""

    def __init__(self) -> None:
        self.steps = 0


class _CountSteps(gym.Wrapper):
    def __init__(self, env: gym.Env, counter: _StepCounter):
        super().__init__(env)
        self._counter = counter

    def step(self, action):
        self._counter.steps += 1
        return self.env.step(action)


def _roundtrip(obj: Any) -> Any:
    """Through ``torch.save`` / ``torch.load`` to bytes, as a checkpoint file does."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    return torch.load(io.BytesIO(buf.getvalue()), weights_only=False)


def _sample_observations(space: gym.Space, n: int, seed: int) -> Any:
    """``n`` observations from ``space`` as the runner batches them (float32; dict of arrays)."""
    import copy

    space = copy.deepcopy(space)
    space.seed(seed)
    samples = [space.sample() for _ in range(n)]
    if isinstance(space, gym.spaces.Dict):
        return {k: np.stack([np.asarray(s[k]) for s in samples]).astype(np.float32) for k in space.spaces}
    return np.stack([np.asarray(s) for s in samples]).astype(np.float32)


def _batch_size(obs: Any) -> int:
    return len(next(iter(obs.values()))) if isinstance(obs, dict) else len(obs)


def _torch_parameters(algo: Algorithm, depth: int = 6) -> dict[int, torch.Tensor]:
    """Copies of the parameters of every ``torch.nn.Module`` reachable from the algorithm's
    attributes (e.g. ``algo.model.policy`` of an SB3 learner), keyed by identity."""
    found: dict[int, torch.Tensor] = {}
    seen: set[int] = set()
    frontier: list[Any] = [algo]
    for _ in range(depth):
        nxt: list[Any] = []
        for obj in frontier:
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            if isinstance(obj, torch.nn.Module):
                for p in obj.parameters():
                    found.setdefault(id(p), p.detach().clone())
                continue
            if isinstance(obj, (gym.Env, np.ndarray, torch.Tensor, str, bytes, int, float, type)):
                continue
            if isinstance(obj, dict):
                nxt.extend(obj.values())
            elif isinstance(obj, (list, tuple)):
                nxt.extend(obj)
            elif hasattr(obj, "__dict__"):
                nxt.extend(vars(obj).values())
        frontier = nxt
    return found


def _changed(before: dict[int, torch.Tensor], after: dict[int, torch.Tensor]) -> bool:
    return any(k in after and not torch.equal(v, after[k]) for k, v in before.items())


def _stats_equal(a: dict[str, float], b: dict[str, float]) -> bool:
    if set(a) != set(b):
        return False
    for k in a:
        x, y = float(a[k]), float(b[k])
        if not (x == y or (math.isnan(x) and math.isnan(y))):
            return False
    return True


@contextlib.contextmanager
def _stage(name: str, what: str) -> Iterator[None]:
    """Report an exception the algorithm raises as a conformance failure naming the stage."""
    try:
        yield
    except AssertionError:
        raise
    except Exception as exc:
        raise AssertionError(f"{name}: {what} raised {type(exc).__name__}: {exc}") from exc


@dataclass
class _Snapshot:
    """How one instance acts and reports at one point."""

    env_steps: int
    eval_command: float | None
    actions: dict[str, np.ndarray]
    stats: dict[str, float]


def check_conformance(cls: type[Algorithm], env_id: str, config: Any = None, *, steps: tuple[int, int] = (310, 620),
                      seed: int = 0, n_obs: int = 16, survival_bonus: float | None = None,
                      return_range: tuple[float, float] | None = None, commands: list[float] | None = None,
                      require_progress: bool = True, max_steps: int = 20_000) -> ConformanceReport:
    """Check that ``cls`` honours the runner's interface on ``env_id`` (see the module doc).

    :param cls: the algorithm class
    :param env_id: a small environment (Box observations, or a goal env for goal-conditioned methods)
    :param config: an instance of ``cls.Config`` (default: ``cls.Config()``)
    :param steps: ``(n1, n2)``: learn to ``n1`` (the resume point), then to ``n2`` (at least one
        step further than ``n1`` got: episodic methods may overshoot). Where learning has not
        changed the policy (and the networks) yet, the instance learns on, doubling the
        target, up to ``max_steps`` (an algorithm with long warm-up defaults still passes,
        slowly; a speed override of its Config keeps it fast)
    :param seed: the run's seed (the final-state check loads into an instance of ``seed + 1``)
    :param n_obs: observations in the batch the policies are compared on
    :param survival_bonus: as the runner passes it (default: the env's table in benchmark.toml)
    :param return_range: ``EnvInfo.return_range`` (default: the env's table in benchmark.toml)
    :param commands: return commands to check (return-conditioned methods; default: three
        points inside the return range, or 0 and 100 without one)
    :param require_progress: fail when learning changes nothing before or after the resume point
        within ``max_steps``
    :raises AssertionError: on the first violation, with a message naming it
    """
    from bench.config import load_config
    from bench.runner import env_info_for
    from envs import make_env

    t0 = time.perf_counter()
    name = cls.__name__
    config = cls.Config() if config is None else config
    n1, n2 = int(steps[0]), int(steps[1])
    assert 0 < n1 < n2, f"steps must be (n1, n2) with 0 < n1 < n2, got {steps}"
    settings = load_config(check_algorithms=False).env(env_id)
    overrides = {k: v for k, v in (("survival_bonus", survival_bonus), ("return_range", return_range))
                 if v is not None}
    if overrides:
        settings = type(settings)(**{**settings.__dict__, **overrides})
    probe = make_env(env_id)
    info = env_info_for(env_id, settings, probe)
    probe.close()
    space = info.action_space
    assert isinstance(space, gym.spaces.Box), f"{env_id}: the runner needs a Box action space"
    act_dim = int(np.prod(space.shape))
    obs = _sample_observations(info.observation_space, n_obs, seed=12345)
    n = _batch_size(obs)
    if cls.conditioning == "return" and commands is None:
        if info.return_range:
            lo, hi = info.return_range
            commands = [float(x) for x in np.linspace(lo, hi, 5)[1:4]]
        else:
            commands = [0.0, 100.0]
    commands = list(commands or []) if cls.conditioning == "return" else []

    def build(run_seed: int) -> tuple[Algorithm, _StepCounter]:
        counter = _StepCounter()

        def factory(*, remove_survival_bonus: bool = False) -> gym.Env:
            env = make_env(env_id, survival_bonus=settings.survival_bonus,
                           remove_survival_bonus=remove_survival_bonus)
            return _CountSteps(env, counter)

        seed_everything(run_seed)
        algo = cls(factory, run_seed, config, info)
        assert algo.env_steps == 0, f"{name}: a new instance has env_steps = {algo.env_steps}, expected 0"
        return algo, counter

    def check_actions(what: str, actions: Any) -> np.ndarray:
        a = np.asarray(actions)
        assert a.shape == (n, act_dim), (f"{name}: {what}: actions of shape {a.shape} for {n} observations, "
                                         f"expected ({n}, {act_dim})")
        assert np.issubdtype(a.dtype, np.number), f"{name}: {what}: actions of dtype {a.dtype}"
        a = a.astype(np.float64)
        assert np.all(np.isfinite(a)), f"{name}: {what}: non-finite actions"
        low, high = space.low.reshape(-1).astype(np.float64), space.high.reshape(-1).astype(np.float64)
        tol = 1e-5 * np.maximum(1.0, np.maximum(np.abs(low), np.abs(high)))
        outside = (a < low - tol) | (a > high + tol)
        assert not outside.any(), (f"{name}: {what}: actions outside the action space [{space.low}, {space.high}], "
                                   f"e.g. {a[outside.any(axis=1)][0]}")
        return a

    def act(algo: Algorithm, command: float | None, what: str) -> np.ndarray:
        pol = algo.policy(command)
        assert callable(pol), f"{name}: policy({command}) returned {type(pol).__name__}, not a callable"
        out = check_actions(what, pol(obs))
        if isinstance(pol, RewardAwarePolicy):  # the protocol the runner's evaluation drives
            pol.reset(n)
            idx = np.arange(0, n, 2)
            part = {k: v[idx] for k, v in obs.items()} if isinstance(obs, dict) else obs[idx]
            first = np.asarray(pol.act(part, idx))
            assert first.shape == (len(idx), act_dim), f"{name}: {what}: act() gave shape {first.shape}"
            np.testing.assert_array_equal(first, out[idx], err_msg=f"{name}: {what}: act() at the first step "
                                          f"differs from calling the policy")
            pol.observe(np.ones(len(idx)), idx)
            later = np.asarray(pol.act(part, idx))
            assert later.shape == (len(idx), act_dim) and np.all(np.isfinite(later)), \
                f"{name}: {what}: act() after observe() gave bad actions"
        return out

    def snapshot(algo: Algorithm, where: str) -> _Snapshot:
        env_steps = algo.env_steps
        assert isinstance(env_steps, int) and not isinstance(env_steps, bool), \
            f"{name}: {where}: env_steps is {type(env_steps).__name__} ({env_steps!r}), expected int"
        command = algo.eval_command()
        assert command is None or math.isfinite(float(command)), f"{name}: {where}: eval_command() = {command!r}"
        actions = {"policy()": act(algo, None, f"{where}: policy()")}
        for c in commands:
            actions[f"policy({c:g})"] = act(algo, c, f"{where}: policy({c:g})")
        stats = algo.training_stats()
        assert isinstance(stats, dict), f"{name}: {where}: training_stats() returned {type(stats).__name__}"
        for k, v in stats.items():
            assert isinstance(k, str) and isinstance(float(v), float), f"{name}: {where}: training_stats {k}={v!r}"
        return _Snapshot(env_steps, None if command is None else float(command), actions, dict(stats))

    def same(a: _Snapshot, b: _Snapshot, what: str, counters: bool = True) -> None:
        if counters:
            assert a.env_steps == b.env_steps, f"{name}: {what}: env_steps {b.env_steps} != {a.env_steps}"
        assert a.eval_command == b.eval_command or (a.eval_command is not None and b.eval_command is not None
                                                   and math.isnan(a.eval_command) and math.isnan(b.eval_command)), \
            f"{name}: {what}: eval_command() {b.eval_command} != {a.eval_command}"
        for key, x in a.actions.items():
            y = b.actions[key]
            assert np.array_equal(x, y), (f"{name}: {what}: {key} acts differently "
                                          f"(max |diff| {np.max(np.abs(x - y)):.3g})")
        if counters:
            assert _stats_equal(a.stats, b.stats), f"{name}: {what}: training_stats {b.stats} != {a.stats}"

    def learn(algo: Algorithm, counter: _StepCounter, until: int, start_steps: int, where: str) -> None:
        algo.learn(until)
        assert isinstance(algo.env_steps, int) and not isinstance(algo.env_steps, bool), \
            f"{name}: {where}: env_steps is {type(algo.env_steps).__name__}, expected int"
        assert algo.env_steps >= until, f"{name}: {where}: learn({until}) stopped at env_steps = {algo.env_steps}"
        assert algo.env_steps - start_steps == counter.steps, (
            f"{name}: {where}: env_steps grew by {algo.env_steps - start_steps} but the training environments "
            f"took {counter.steps} steps")

    threads = torch.get_num_threads()
    outer_rng = global_rng_state()
    torch.set_num_threads(1)
    try:
        # A: the original run, checkpointed at the resume point. Its learn targets are
        # recorded (``calls``) and replayed by B and C with the same snapshots in between.
        with _stage(name, "building it"):
            a, a_steps = build(seed)
        with _stage(name, "the untrained instance"):
            a0 = snapshot(a, "untrained")

        def phase(start: _Snapshot, first_target: int, what: str) -> list[tuple[int, _Snapshot]]:
            """Learn to ``first_target``, further (doubling) until the policy changed."""
            calls: list[tuple[int, _Snapshot]] = []
            params = _torch_parameters(a)
            target = first_target
            while True:
                with _stage(name, f"learn({target})"):
                    learn(a, a_steps, target, 0, f"learn({target})")
                    snap = snapshot(a, f"after learn({target})")
                calls.append((target, snap))
                acted = any(not np.array_equal(start.actions[k], snap.actions[k]) for k in start.actions)
                updated = not params or _changed(params, _torch_parameters(a))
                if not require_progress or (acted and updated):
                    return calls
                assert a.env_steps < max_steps, (
                    f"{name}: {'the policy' if not acted else 'no network parameter'} did not change {what} "
                    f"(env step {start.env_steps} to {a.env_steps}): the resume check would be vacuous "
                    f"(use a configuration that learns sooner)")
                target = max(2 * target, a.env_steps + 1)

        calls1 = phase(a0, n1, "before the resume point")
        a1 = calls1[-1][1]
        with _stage(name, "state_dict() through torch.save / torch.load"):
            checkpoint = _roundtrip({"algo": a.state_dict(), "rng": global_rng_state()})
        calls2 = phase(a1, max(n2, a.env_steps + 1), "after the resume point")
        a2 = calls2[-1][1]
        with _stage(name, "final_state() through torch.save / torch.load"):
            final = _roundtrip(a.final_state())

        def replay(algo: Algorithm, counter: _StepCounter, calls: list[tuple[int, _Snapshot]], start_steps: int,
                   what: str, split: bool = False) -> None:
            for target, expected in calls:
                if split and target - algo.env_steps > 1:
                    mid = algo.env_steps + (target - algo.env_steps) // 2
                    learn(algo, counter, mid, start_steps, f"{what}: learn({mid})")
                learn(algo, counter, target, start_steps, f"{what}: learn({target})")
                same(expected, snapshot(algo, f"{what}: after learn({target})"), f"{what}, after learn({target})")

        # B: a second run with the same seed
        with _stage(name, "a second instance with the same seed"):
            b, b_steps = build(seed)
            same(a0, snapshot(b, "untrained"), "a second instance with the same seed, untrained")
            replay(b, b_steps, calls1 + calls2, 0, "a second instance with the same seed, learning in two "
                   "chunks per call (learn(a); learn(b) must train exactly as learn(b))", split=True)
            del b

        # C: resumed from A's checkpoint, as the runner resumes a killed run
        with _stage(name, f"resuming from the checkpoint at env step {a1.env_steps}"):
            c, c_steps = build(seed)
            c.load_state_dict(checkpoint["algo"])
            same(a1, snapshot(c, "resumed"), f"an instance resumed from the checkpoint at env step {a1.env_steps}, "
                                             f"before learning")
            set_global_rng_state(checkpoint["rng"])
            replay(c, c_steps, calls2, a1.env_steps,
                   f"an instance resumed at env step {a1.env_steps} (vs the uninterrupted one)")
            del c

        # D: reads the final state (model.pt) into an instance of another seed
        with _stage(name, "load_final_state(final_state())"):
            d, _ = build(seed + 1)
            d.load_final_state(final)
            same(a2, snapshot(d, "final state"), "an instance that loaded final_state() with load_final_state()",
                 counters=False)
            del d, a
    finally:
        torch.set_num_threads(threads)
        set_global_rng_state(outer_rng)
    return ConformanceReport((a1.env_steps, a2.env_steps), time.perf_counter() - t0,
                             [t for t, _ in calls1 + calls2], commands)


__all__ = ["ConformanceReport", "check_conformance"]
