"""Drive goal-conditioned runs through the runner (until the CLI lands): algo env seeds [budget]."""
import bench  # noqa: F401  (first: single-threaded BLAS before numpy loads)
import sys
from pathlib import Path

import torch

torch.set_num_threads(1)
from bench.config import load_config  # noqa: E402
from bench.runner import Cell, run_cell  # noqa: E402

algo, env_id, seeds = sys.argv[1], sys.argv[2], [int(s) for s in sys.argv[3].split(",")]
budget = int(sys.argv[4]) if len(sys.argv) > 4 else None
runs = Path(sys.argv[5]) if len(sys.argv) > 5 else Path("/tmp/runs_goal")
cfg = load_config(check_algorithms=False)
for s in seeds:
    print(algo, env_id, s, run_cell(Cell(env_id, algo, s), cfg, runs, budget=budget), flush=True)
