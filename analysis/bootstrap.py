"""Where every bootstrap interval of the report gets its random numbers, and the resampling itself.

One generator per interval: :func:`generator` seeds a numpy ``Generator`` (PCG64) from the
SHA-256 of a canonical string of the user-visible base seed, a purpose tag (``"final"``,
``"curve"``, ``"aggregate"``, ``"profile"``, ``"poi"``, ``"check"``) and the interval's
identity (env, algorithm, the sorted seed list, ...). A cell's interval is therefore the
same whatever else a report covers, and on any machine with the same numpy (PCG64 and its
bounded integers are integer arithmetic, no platform dependence); two intervals never
share draws. :func:`seeded` puts numpy's global generator in a state derived from the same
digest, for library code that draws from it (rliable's bootstrap classes call
``np.random.choice`` and ignore their ``random_state`` argument).

The resampling is rliable's stratified bootstrap (``rliable.library.StratifiedBootstrap``:
each replication draws, per task column, the runs with replacement) vectorised over the
replications: :func:`draw_blocks` gives the indices of many replications at once,
:func:`resample` applies a vectorised statistic to them, :func:`counts` says how often
each run is drawn (for statistics that are integer sums, exact whatever the summation
order), and :func:`percentile_interval` is arch's percentile interval (rliable's rule).

Resample counts (``bench report --reps / --band-reps / --seed``): :data:`REPS` for every
printed interval (Table 1's CIs, the aggregate metrics, the probabilities of improvement),
:data:`BAND_REPS` for the drawn bands (learning curves, performance profiles). Printed
bounds are rounded to a step of 1, 2 or 5 x 10^k of about half the interval
(:func:`analysis.tables.interval_unit`); a percentile bound's Monte Carlo standard error
is about 2% of that step at most at 50,000 resamples, so a report regenerated with another
seed prints the same bounds (a bound within that error of a rounding boundary can move
by one step).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from typing import Callable, Iterator

import numpy as np

#: base seed of every report interval (``bench report --seed``)
SEED = 0
#: replications of every printed interval (Table 1, aggregates, probability of improvement);
#: rliable's own default for ``get_interval_estimates``
REPS = 50_000
#: replications of a drawn band (learning curves, performance profiles); rliable's own
#: default for ``create_performance_profile``
BAND_REPS = 2_000
CONFIDENCE = 0.95
#: elements of one block of resampled data (replications are drawn in blocks of this size)
_BLOCK = 2_000_000


def _canonical(x: object) -> object:
    if isinstance(x, (list, tuple)):
        return [_canonical(v) for v in x]
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return repr(float(x))
    return str(x)


def key_text(seed: int, purpose: str, *identity: object) -> str:
    """The canonical string a generator is seeded from (JSON: seed, purpose, identity)."""
    return json.dumps([int(seed), str(purpose), *(_canonical(i) for i in identity)], separators=(",", ":"),
                      ensure_ascii=True)


def _digest(seed: int, purpose: str, *identity: object) -> bytes:
    return hashlib.sha256(key_text(seed, purpose, *identity).encode("ascii")).digest()


def generator(seed: int, purpose: str, *identity: object) -> np.random.Generator:
    """A fresh generator for one interval, seeded from SHA-256 of :func:`key_text`.

    :param seed: the user-visible base seed
    :param purpose: what the draws are for (``"final"``, ``"curve"``, ``"aggregate"``, ...)
    :param identity: what the interval is of, e.g. ``env, algo, sorted seed list``
    """
    entropy = int.from_bytes(_digest(seed, purpose, *identity), "little")
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy)))


@contextlib.contextmanager
def seeded(seed: int, purpose: str, *identity: object) -> Iterator[np.random.RandomState]:
    """numpy's global generator (legacy ``RandomState``, MT19937) seeded from the digest of
    :func:`key_text`, for library code that draws from it (rliable's bootstrap); restored
    afterwards. Yields a ``RandomState`` in the same state."""
    words = np.frombuffer(_digest(seed, purpose, *identity), dtype="<u4").astype(np.uint32)
    saved = np.random.get_state()
    np.random.seed(words)
    try:
        yield np.random.RandomState(words)
    finally:
        np.random.set_state(saved)


def draw_blocks(rng: np.random.Generator, n: int, shape_tail: tuple[int, ...], reps: int, *,
                step: int | None = None) -> Iterator[np.ndarray]:
    """Resampling indices in blocks: int32 arrays ``(block, n, *shape_tail)`` in [0, n),
    ``reps`` replications in all, ``step`` per block (default: about 2M indices). The
    numbers do not depend on the block size (one stream, consumed in order)."""
    if step is None:
        step = max(1, _BLOCK // max(n * int(np.prod(shape_tail, dtype=np.int64)), 1))
    for start in range(0, reps, step):
        yield rng.integers(0, n, size=(min(step, reps - start), n, *shape_tail), dtype=np.int32)


def counts(idx: np.ndarray) -> np.ndarray:
    """How often each run of each task is drawn: ``(block, n, k)`` indices (a block of
    :func:`draw_blocks`) -> ``(block, n, k)`` int64 counts (each ``[r, :, t]`` sums to ``n``)."""
    block, n, k = idx.shape
    dtype = np.int32 if block * n * k < 2**31 else np.int64
    base = (np.arange(block, dtype=dtype)[:, None, None] * (n * k) + np.arange(k, dtype=dtype))
    return np.bincount((idx.astype(dtype, copy=False) * k + base).ravel(), minlength=block * n * k).reshape(block, n, k)


def resample(data: np.ndarray, statistic: Callable[[np.ndarray], np.ndarray], reps: int,
             rng: np.random.Generator) -> np.ndarray:
    """Bootstrap distribution ``(reps, m)`` of a statistic of a (runs x tasks) matrix.

    :param data: (runs, tasks) scores
    :param statistic: maps replications ``(block, runs, tasks)`` (each task column's runs
        drawn with replacement) to ``(block, m)``
    :param reps: replications
    :param rng: the interval's generator (:func:`generator`)
    """
    data = np.asarray(data, dtype=float)
    n, k = data.shape
    cols = np.arange(k)
    return np.concatenate([statistic(data[idx, cols]) for idx in draw_blocks(rng, n, (k,), reps)])


def percentile_interval(distribution: np.ndarray, confidence: float = CONFIDENCE) -> np.ndarray:
    """(2, m) percentile interval of a bootstrap distribution ``(reps, m)`` (arch's rule)."""
    alpha = (1.0 - confidence) / 2
    return np.percentile(distribution, [100 * alpha, 100 * (1.0 - alpha)], axis=0)


__all__ = ["BAND_REPS", "CONFIDENCE", "REPS", "SEED", "counts", "draw_blocks", "generator", "key_text",
           "percentile_interval", "resample", "seeded"]
