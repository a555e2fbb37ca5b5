"""This machine's speed relative to the one the background queue's run times were measured on.

    python scripts/machine_speed.py            # prints e.g. 0.62 (a slower machine)
    python scripts/machine_speed.py --raw      # prints the iterations/s themselves

The queue (scripts/paper_queue.sh) divides a whole run's wall time by this factor before it
decides whether a cell fits the session. The sessions of 2026-12-02 drew machines whose DDPG ran
at 89-95 or at 140-171 env-steps/s per run (two side by side), so a fixed estimate either
wastes a session on a run that cannot finish or skips one that would.

The workload is what the long runs spend their time on: small-MLP torch updates on one thread,
one DDPG-like iteration = an actor forward pass on one observation, a critic and an actor update
on a batch of 128 (benchmark.toml's DDPG: 256x256 networks, Adam), for ``--seconds`` (after a warm-up). It runs at
the priority it is started with: run it before the queue's runs. On the reference machine, the
same measurement ranged over 160-290 iterations/s within an hour (beside the queue's runs, or
alone), so it tells a machine at 0.6x from one at 1.0-1.4x, not finer: the queue's whole-run
times keep a margin. It can also overstate a machine: 1.21-1.37 on one (2026-12-05) whose DDPG
Swimmer runs went no faster than the reference's (~140 env-steps/s each, two side by side), so
the queues (scripts/queue_lib.sh) never use more than 1.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

#: iterations/s of this workload on the reference machine (2026-12-02 evening session, AMD EPYC,
#: AVX512, 2 cores; 214-227 alone, ~205 beside two nice-19 runs), where DDPG Swimmer made ~140
#: env-steps/s per run, two side by side: the queue's whole-run times are stated for this machine
REFERENCE_RATE = 220.0


def mlp(n_in: int, n_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(n_in, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, n_out))


def rate(seconds: float, chunks: int = 5, obs_dim: int = 8, act_dim: int = 2, batch: int = 128) -> float:
    """DDPG-like iterations per second on one torch thread, the median of ``chunks`` equal parts
    of ``seconds`` (see the module docstring)."""
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(0)
    actor, critic = mlp(obs_dim, act_dim), mlp(obs_dim + act_dim, 1)
    opt_a, opt_c = torch.optim.Adam(actor.parameters(), 1e-3), torch.optim.Adam(critic.parameters(), 1e-3)
    obs, act = torch.randn(batch, obs_dim, generator=g), torch.randn(batch, act_dim, generator=g)
    target, one = torch.randn(batch, 1, generator=g), torch.randn(1, obs_dim, generator=g)

    def iteration() -> None:
        with torch.no_grad():
            actor(one)
        loss_c = (critic(torch.cat([obs, act], 1)) - target).pow(2).mean()
        opt_c.zero_grad()
        loss_c.backward()
        opt_c.step()
        loss_a = -critic(torch.cat([obs, actor(obs)], 1)).mean()
        opt_a.zero_grad()
        loss_a.backward()
        opt_a.step()

    for _ in range(20):  # warm-up: allocator, kernel dispatch
        iteration()
    rates = []  # per chunk: the median resists a burst of another process or of the VM's host
    for _ in range(chunks):
        n, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds / chunks:
            for _ in range(5):
                iteration()
            n += 5
        rates.append(n / elapsed)
    return statistics.median(rates)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--raw", action="store_true", help="print iterations/s, not the ratio to the reference")
    args = p.parse_args()
    r = rate(args.seconds)
    print(f"{r:.1f}" if args.raw else f"{r / REFERENCE_RATE:.2f}")


if __name__ == "__main__":
    main()
