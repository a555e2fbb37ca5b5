"""bench: a comparative benchmark suite for goal- and return-conditioned RL.

The package holds the thin layer around the algorithms: the CLI, the benchmark
configuration, the runner that owns the training/evaluation loop, and the run store.
It knows algorithms only through :mod:`algorithms` (registry + interface) and
environments only through :mod:`envs`.
"""

__version__ = "0.1.0"
