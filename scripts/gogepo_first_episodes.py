"""PoliGen's first policies: our generator against the public code's (IDSIA/GoGePo), untrained.

    git -C /work/.mirror/IDSIA+GoGePo/repo show HEAD:core_gogepo.py > /tmp/core_gogepo.py
    python scripts/gogepo_first_episodes.py /tmp/core_gogepo.py [--env InvertedPendulum-v2] [--inits 5] [--episodes 20]

Both generators are built untrained with the paper's sizes (256x256 tanh policy, 16x16
slices, embeddings of 8, 2x256 slice networks, output scale 2/sqrt(fan_in)), from ``--inits``
different torch seeds each. For each, the first command (1, scaled by the env's return
range as both codes do) gives the mean parameters; every episode adds fresh parameter noise
(std 0.1, both codes' default) and runs on raw observations (the first episode's condition:
both codes normalise observations from the second episode on). Printed per code: the
standard deviation of the generated weights and biases per layer, the noise-to-signal ratio
of the hidden layer, and the episode lengths and returns of the noisy policies.

The public code is imported from the file given (it is not part of this project); its
``gym.spaces`` import is served by gymnasium's.
"""

from __future__ import annotations

import bench  # noqa: F401

import argparse
import importlib.util
import sys
import types
from pathlib import Path

import gymnasium
import numpy as np
import torch

from algorithms.common import MLPLayout, mlp_forward
from algorithms.poligen_nets import HyperGenerator
from bench.config import load_config
from envs.registry import make_env


def load_gogepo(path: Path) -> types.ModuleType:
    sys.modules.setdefault("gym", gymnasium)
    sys.modules.setdefault("gym.spaces", gymnasium.spaces)
    spec = importlib.util.spec_from_file_location("core_gogepo", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def theirs_to_ours(flat: torch.Tensor, layout: MLPLayout) -> np.ndarray:
    """GoGePo's ``[W1 (out, in), b1, W2, b2, ...]`` as our ``[W1 (in, out), b1, ...]``."""
    parts, i = [], 0
    for (fi, fo), _ in layout.shapes:
        parts.append(flat[i:i + fi * fo].reshape(fo, fi).T.reshape(-1))
        i += fi * fo
        parts.append(flat[i:i + fo])
        i += fo
    return torch.cat(parts).numpy()


def episode(env, layout: MLPLayout, theta: np.ndarray, act_scale, act_centre, seed: int) -> tuple[float, int]:
    layers = layout.unflatten(theta)
    obs, _ = env.reset(seed=seed)
    ret, n = 0.0, 0
    while True:
        a = mlp_forward(layers, np.asarray(obs, np.float32)[None])[0] * act_scale + act_centre
        obs, r, term, trunc, _ = env.step(a)
        ret, n = ret + float(r), n + 1
        if term or trunc:
            return ret, n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("core_gogepo", type=Path, help="path to the public code's core_gogepo.py")
    ap.add_argument("--env", default="InvertedPendulum-v2")
    ap.add_argument("--inits", type=int, default=5)
    ap.add_argument("--episodes", type=int, default=20)
    ap.add_argument("--noise", type=float, default=0.1)
    args = ap.parse_args()

    core = load_gogepo(args.core_gogepo)
    settings = load_config().env(args.env)
    lo, hi = settings.return_range or (0.0, 3000.0)
    env = make_env(args.env)
    obs_dim, act_dim = env.observation_space.shape[0], env.action_space.shape[0]
    layout = MLPLayout(obs_dim, act_dim, (256, 256))
    low, high = env.action_space.low, env.action_space.high
    act_scale, act_centre = (high - low) / 2, (high + low) / 2
    command = torch.tensor([[1.0 / (hi - lo)]], dtype=torch.float32)

    def ours(seed: int) -> np.ndarray:
        torch.manual_seed(seed)
        return HyperGenerator(layout, 16, 8, (256, 256), 2.0)(command.reshape(-1)).detach().numpy()[0]

    def public(seed: int) -> np.ndarray:
        torch.manual_seed(seed)
        gen = core.get_hypernetwork_mlp_generator(layout.sizes, (256, 256), embedding_dim=8, features_per_embedding=16,
                                                  scale_layer_out=True, scale_parameter=2)
        return theirs_to_ours(gen(command).detach()[0], layout)

    print(f"{args.env}: command 1 scaled by 1/{hi - lo:g}, parameter noise {args.noise}, "
          f"{args.inits} initialisations x {args.episodes} episodes, raw observations")
    for name, make in (("ours (algorithms/poligen_nets.py)", ours), ("public code (GoGePo)", public)):
        rng = np.random.default_rng(0)
        stds, lengths, returns = [], [], []
        for init in range(args.inits):
            theta = make(init)
            stds.append([float(a.std()) for w, b in layout.unflatten(theta) for a in (w, b)])
            for ep in range(args.episodes):
                noisy = theta + args.noise * rng.standard_normal(theta.shape).astype(np.float32)
                ret, n = episode(env, layout, noisy, act_scale, act_centre, seed=1000 * init + ep)
                lengths.append(n)
                returns.append(ret)
        stds = np.mean(stds, axis=0)
        hidden_w = stds[2]
        print(f"\n{name}")
        print("  std of generated W, b per layer (mean over inits): " +
              ", ".join(f"L{j + 1} W {stds[2 * j]:.4f} b {stds[2 * j + 1]:.4f}" for j in range(len(stds) // 2)))
        print(f"  hidden layer: noise / weight std = {args.noise / hidden_w:.1f}")
        lengths = np.asarray(lengths)
        print(f"  episode length: mean {lengths.mean():.1f}, median {np.median(lengths):.0f}, "
              f"max {lengths.max()}, share >= 100 steps {np.mean(lengths >= 100):.2f}; "
              f"return mean {np.mean(returns):.1f}")


if __name__ == "__main__":
    main()
