"""The ``bench`` command line: run, status, list, report, compare, check, tune.

Every user error ends as one ``error: ...`` line on stderr and a non-zero exit status.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bench.errors import BenchError


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise BenchError(f"{self.prog}: {message}")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _seed_list(text: str) -> list[int]:
    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated non-negative integers, got {text!r}") from None
    if not seeds or any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"expected distinct non-negative integers, got {text!r}")
    return seeds


def _names(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--runs-dir", type=Path, default=Path("runs"), help="run store (default: ./runs)")
    p.add_argument("--config", type=Path, default=None,
                   help="benchmark definition (default: ./benchmark.toml, else the project's own)")


def _protocol_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--eval-interval", type=_positive_int,
                   help="override the evaluation interval (training env steps), e.g. for a reduced --budget")
    p.add_argument("--final-window", type=_positive_int,
                   help="override how many of the last evaluations the final return averages")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="bench", description="Comparative benchmark for goal- and return-conditioned RL.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="train and evaluate cells, store them in the run store")
    _common(run)
    run.add_argument("--algo", type=_names, help="algorithm name(s), comma-separated")
    run.add_argument("--env", type=_names, help="environment id(s), comma-separated")
    group = run.add_mutually_exclusive_group()
    group.add_argument("--seeds", type=_positive_int, help="number of seeds: the first N of the config's list")
    group.add_argument("--seed-list", type=_seed_list, help="explicit seeds, e.g. 0,3,7")
    run.add_argument("--suite", choices=["paper"], help="every env x algo of benchmark.toml")
    run.add_argument("--budget", type=_positive_int, help="override the training budget (env steps)")
    _protocol_options(run)
    run.add_argument("--workers", type=_positive_int, default=None,
                     help="parallel runs (default: cores / threads)")
    _threads_option(run)
    run.add_argument("--fresh", action="store_true",
                     help="discard the stored runs of the requested cells whose configuration or code differs from "
                          "today's (complete or not: files, checkpoint and results) and train them again from "
                          "scratch; runs that match are kept (complete) or resumed")
    run.add_argument("--wait", action="store_true",
                     help="wait for cells being trained by other processes (other bench runs, hosts) to finish, "
                          "and take over those whose process dies; default: leave them to it")
    run.add_argument("--no-progress", action="store_true", help="no live progress display")
    run.add_argument("--executor", choices=["local", "ray"], default="local",
                     help="local process pool (default) or Ray tasks (pip install -e '.[ray]')")
    run.add_argument("--ray-address", default=None,
                     help="Ray cluster to join, e.g. auto (default: $RAY_ADDRESS, else a local Ray with --workers CPUs); "
                          "the runs directory must be shared by all nodes")

    status = sub.add_parser("status", help="list cells with their state and last evaluation")
    _common(status)

    lst = sub.add_parser("list", help="show algorithms and environments")
    _common(lst)

    report = sub.add_parser("report", help="tables and figures from the run store")
    _common(report)
    report.add_argument("--out", type=Path, default=Path("report"), help="report folder (default: ./report)")
    report.add_argument("--env", type=_names, help="only these environments")
    report.add_argument("--algo", type=_names, help="only these algorithms")
    from analysis.bootstrap import BAND_REPS, REPS, SEED

    report.add_argument("--reps", type=_positive_int, default=REPS,
                        help=f"bootstrap resamples of each printed interval: Table 1, aggregates, probability of "
                             f"improvement (default {REPS})")
    report.add_argument("--band-reps", type=_positive_int, default=BAND_REPS,
                        help=f"bootstrap resamples of each drawn band: learning curves, performance profiles "
                             f"(default {BAND_REPS})")
    report.add_argument("--seed", type=int, default=SEED,
                        help=f"base seed of the bootstrap; each interval draws from its own generator seeded from it "
                             f"and the interval's cell (default {SEED})")
    report.add_argument("--readme", type=Path, default=None,
                        help="also rewrite the generated blocks of this Markdown file (e.g. README.md) that this "
                             "runs directory produces (results, goals, compare X vs Y); other blocks are left as is")

    tune = sub.add_parser("tune", help="grid search: every configuration over the same seeds, ranked by final return")
    _common(tune)
    tune.add_argument("--algo", required=True, help="the algorithm to tune")
    tune.add_argument("--env", type=_names, required=True, help="environment id(s); one ranking each")
    tune.add_argument("--grid", action="append", default=[], metavar="NAME=V1,V2",
                      help="hyperparameter values to try (repeat for a grid; joint: a+b=1+1,8+4); "
                           "default: the [tune.<algo>] grid of benchmark.toml")
    group = tune.add_mutually_exclusive_group()
    group.add_argument("--seeds", type=_positive_int, default=5,
                       help="first N seeds of the config's list (default 5, as the paper)")
    group.add_argument("--seed-list", type=_seed_list, help="explicit seeds, e.g. 0,3,7")
    tune.add_argument("--budget", type=_positive_int, help="override the training budget (env steps)")
    _protocol_options(tune)
    tune.add_argument("--workers", type=_positive_int, default=None,
                      help="parallel runs (default: cores / threads)")
    _threads_option(tune)
    tune.add_argument("--trials", type=_positive_int, default=None,
                      help="sampled search: run this many configurations of the grid, picked one after another "
                           "by Optuna's TPE sampler, instead of all of them (resumable: the same command replays "
                           "the same suggestions)")
    tune.add_argument("--sampler-seed", type=int, default=0, help="seed of the --trials sampler (default 0)")
    tune.add_argument("--no-progress", action="store_true", help="no live progress display")
    tune.add_argument("--executor", choices=["local", "ray"], default="local")
    tune.add_argument("--ray-address", default=None)

    compare = sub.add_parser("compare", help="is one algorithm better than another? per env and aggregated")
    _common(compare)
    compare.add_argument("--algo", required=True, help="algorithm X")
    compare.add_argument("--vs", required=True, help="algorithm Y (X is compared with it)")
    compare.add_argument("--env", type=_names, help="only these environments (default: every env with complete "
                                                    "runs of both)")
    compare.add_argument("--format", choices=["text", "md", "csv", "json"], default="text", help="output format")
    compare.add_argument("--reps", type=_positive_int, default=REPS,
                         help=f"bootstrap resamples of each interval (default {REPS})")
    compare.add_argument("--seed", type=int, default=SEED, help=f"base seed of the bootstrap (default {SEED})")
    compare.add_argument("--allow-mismatch", action="store_true",
                         help="compare cells whose budget, evaluation protocol or seed lists differ (the output says so)")

    check = sub.add_parser("check", help="regression gate: smoke benchmark vs the committed baseline")
    _common(check)
    check.add_argument("--update", action="store_true", help="rewrite the baseline from this run")
    check.add_argument("--workers", type=_positive_int, default=os.cpu_count() or 1)
    check.add_argument("--smoke", type=Path, default=None, help="smoke definition (default analysis/smoke.toml)")
    check.add_argument("--baseline", type=Path, default=None, help="baseline (default analysis/baseline.json)")
    check.add_argument("--no-train", action="store_true",
                       help="compare the runs already in <runs-dir>/_check without training")
    return parser


def _threads_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--threads", type=_positive_int, default=None,
                        help="torch threads of each run that starts (default 1; keep workers x threads <= cores). "
                             "2 threads make a PoliGen run ~1.7x faster on 2 cores. A resumed run keeps the count it "
                             "started with (recorded in meta.json): same seed and count, same curve")


def _workers(args: argparse.Namespace, threads: int) -> int:
    """--workers, or as many runs as the cores hold at ``threads`` each; a line on stderr when
    workers x threads exceeds the cores (torch threads then oversubscribe them: two 2-thread
    PoliGen runs on 2 cores made a fraction of one run's episodes per second, measured)."""
    cores = os.cpu_count() or 1
    if args.workers is None:  # a local Ray gets every core: its tasks ask for `threads` CPUs each
        return cores if args.executor == "ray" else max(1, cores // threads)
    if args.executor == "local" and args.workers * threads > cores:
        print(f"warning: {args.workers} workers x {threads} torch threads > {cores} cores: runs will contend "
              f"for the cores and train much slower than {max(1, cores // threads)} workers would", file=sys.stderr)
    return args.workers


def _load(args: argparse.Namespace, check_algorithms: bool = True):
    from bench.config import load_config

    return load_config(args.config, check_algorithms=check_algorithms)


def cmd_run(args: argparse.Namespace) -> int:
    from bench.progress import ProgressDisplay
    from bench.runner import (Cell, discarded_by_fresh, env_settings, resuming_with_other_code, run_cells,
                              stop_requested)

    config = _load(args)
    if args.suite == "paper":
        algos = args.algo or sorted(config.algos)  # variants run only when named
        envs = args.env or sorted(config.envs)
    else:
        if not args.algo or not args.env:
            raise BenchError("bench run: give --algo and --env (or --suite paper)")
        algos, envs = args.algo, args.env
    config = config.with_protocol(envs, eval_interval=args.eval_interval, final_window=args.final_window)
    config = config.with_threads(args.threads)
    for a in algos:
        config.algorithm(a)
    if args.seed_list:
        seeds = args.seed_list
    elif args.seeds:
        if args.seeds > len(config.seeds):
            raise BenchError(f"--seeds {args.seeds}: {config.path} lists only {len(config.seeds)} seeds")
        seeds = config.seeds[: args.seeds]
    else:
        seeds = config.seeds if args.suite else config.seeds[:1]
    pairs = [(e, a) for e in envs for a in algos]
    if args.suite:
        pairs = _compatible(pairs, config)
    cells = [Cell(e, a, s) for e, a in pairs for s in seeds]
    budgets = {c: env_settings(config, c.env_id, args.budget).budget for c in cells}
    workers = min(_workers(args, config.threads), len(cells))
    where = f"{workers} workers" if args.executor == "local" else f"Ray ({args.ray_address or 'local'})"
    print(f"bench run: {len(cells)} cells ({len(pairs)} env-algo pairs x {len(seeds)} seeds), "
          f"{where}, runs in {args.runs_dir}", file=sys.stderr)
    mixed = [] if args.fresh else resuming_with_other_code(cells, config, args.runs_dir, args.budget)
    if mixed:
        print(f"bench run: {len(mixed)} unfinished cells resume from checkpoints made by other code than "
              f"today's (recorded in meta.json; --fresh restarts them): {', '.join(map(str, mixed[:3]))}"
              f"{', ...' if len(mixed) > 3 else ''}", file=sys.stderr)
    restarts = discarded_by_fresh(cells, config, args.runs_dir, args.budget) if args.fresh else set()
    with ProgressDisplay(cells, args.runs_dir, budgets, enabled=not args.no_progress,
                         restarts=restarts) as display:
        outcomes = run_cells(cells, config, args.runs_dir, workers=workers, budget=args.budget,
                             fresh=args.fresh, on_update=display.update, executor=args.executor,
                             address=args.ray_address, wait=args.wait)
    if stop_requested():
        return _stopped(outcomes)
    failed = [c for c, s in outcomes.items() if s == "failed"]
    skipped = sum(s == "skipped" for s in outcomes.values())
    stale = sorted(c for c, s in outcomes.items() if s == "stale")
    elsewhere = sorted(c for c, s in outcomes.items() if s == "elsewhere")
    done = sum(s == "done" for s in outcomes.values())
    print(f"bench run: {done} done, {skipped + len(stale)} already complete, {len(failed)} failed"
          + (f", {len(elsewhere)} cells running elsewhere (left to them; --wait to wait for them)"
             if elsewhere else ""), file=sys.stderr)
    if stale:
        algos = ", ".join(sorted({c.algo for c in stale}))
        print(f"bench run: {len(stale)} complete cells were made by other code than today's {algos} "
              f"(kept; --fresh discards and reruns them): {', '.join(map(str, stale[:3]))}"
              f"{', ...' if len(stale) > 3 else ''}", file=sys.stderr)
    for cell in failed:
        from bench import store

        d = store.run_dir(args.runs_dir, cell.env_id, cell.algo, cell.seed)
        error = "worker crashed"
        if (d / store.STATUS).exists():
            try:
                error = store.read_json(d / store.STATUS).get("error", error)
            except BenchError:
                pass
        print(f"  failed: {cell}: {error} (see {d / 'error.log'})", file=sys.stderr)
    return 1 if failed else 0


def _stopped(outcomes: dict) -> int:
    """After SIGTERM/SIGINT stopped a run: one line, exit status 128 + the signal's number."""
    import signal

    from bench.runner import stop_requested

    signum = stop_requested()
    for sig in (signal.SIGINT, signal.SIGTERM):  # exiting now: a late second Ctrl-C must not
        signal.signal(sig, signal.SIG_IGN)        # end the interpreter's shutdown with a traceback
    count = {s: sum(v == s for v in outcomes.values()) for s in ("interrupted", "pending", "done")}
    print(f"error: stopped by {signal.Signals(signum).name}: {count['interrupted']} cells checkpointed "
          f"(interrupted), {count['done']} finished, {count['pending']} not started; run the same command "
          f"again to resume", file=sys.stderr)
    return 128 + signum


def _compatible(pairs: list[tuple[str, str]], config) -> list[tuple[str, str]]:
    """The (env, algo) pairs of a suite that can run: goal-conditioned methods on goal
    environments, the others on Box-observation environments."""
    from bench.runner import check_compatible
    from envs import make_env

    keep = []
    for env_id in dict.fromkeys(e for e, _ in pairs):
        env = make_env(env_id)
        for e, a in pairs:
            if e != env_id:
                continue
            try:
                check_compatible(config.algorithm(a), a, e, env)
                keep.append((e, a))
            except BenchError:
                pass
        env.close()
    return keep


def cmd_status(args: argparse.Namespace) -> int:
    from bench.status import status_table

    print(status_table(args.runs_dir, _load(args, check_algorithms=False)))
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from algorithms import REGISTRY, AlgorithmError
    from envs import ALIASES

    config = _load(args, check_algorithms=False)
    print("algorithms:")
    for name in config.algo_names():
        if name in config.variants:
            continue
        try:
            cls = config.algorithm(name)
        except AlgorithmError as exc:  # listed as broken; the others still show
            print(f"  {name:<10} broken: {exc.reason}")
            continue
        kind = {None: "reward", "return": "return-conditioned", "goal": "goal-conditioned"}[cls.conditioning]
        doc = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
        origin = "" if name in REGISTRY else f" [plugin {config.entry(name)}]"
        print(f"  {name:<10} {kind:<20} {doc}{origin}")
    if config.variants:
        print(f"variants in {config.path}:")
        for name, v in sorted(config.variants.items()):
            overrides = ", ".join(f"{k}={v!r}" for k, v in v.params.items()) or "no overrides"
            per_env = f" (+ overrides on {', '.join(v.env_params)})" if v.env_params else ""
            print(f"  {name:<24} {v.base}: {overrides}{per_env}")
    print(f"environments in {config.path}:")
    for env_id, s in config.envs.items():
        alias = f" (runs {ALIASES[env_id]})" if env_id in ALIASES else ""
        print(f"  {env_id:<28} budget {s.budget:>9,}  eval every {s.eval_interval:,}{alias}")
    print("any other gymnasium id with a Box action space also works (defaults: "
          f"budget {config.defaults.get('budget', 100_000):,}).")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from analysis.report import main as report_main

    config = _load(args, check_algorithms=False)
    return report_main(args.runs_dir, args.out, args.env, args.algo, config, reps=args.reps,
                       band_reps=args.band_reps, seed=args.seed, readme=args.readme)


def cmd_compare(args: argparse.Namespace) -> int:
    from analysis.compare import main as compare_main

    config = _load(args, check_algorithms=False)
    return compare_main(args.runs_dir, config, args.algo, args.vs, args.env, fmt=args.format, reps=args.reps,
                        seed=args.seed, allow_mismatch=args.allow_mismatch)


def cmd_tune(args: argparse.Namespace) -> int:
    from bench.progress import ProgressDisplay
    from bench.runner import Cell, env_settings, stop_requested
    from bench.tune import grid_configurations, parse_grid, tune, variant_name

    config = _load(args).with_protocol(args.env, eval_interval=args.eval_interval, final_window=args.final_window)
    config = config.with_threads(args.threads)
    config.algorithm(args.algo)
    grid = parse_grid(args.grid) if args.grid else config.tune.get(args.algo)
    if not grid:
        raise BenchError(f"bench tune: give --grid, or declare [tune.{args.algo}] in {config.path}")
    if args.seed_list:
        seeds = args.seed_list
    else:
        if args.seeds > len(config.seeds):
            raise BenchError(f"--seeds {args.seeds}: {config.path} lists only {len(config.seeds)} seeds")
        seeds = config.seeds[: args.seeds]
    configurations = grid_configurations(config, args.algo, grid)
    kwargs = dict(budget=args.budget, workers=_workers(args, config.threads), executor=args.executor,
                  address=args.ray_address)
    if args.trials:  # one line per trial instead of a display over a grid it will not run whole
        print(f"bench tune: {args.algo} on {', '.join(args.env)}: {args.trials} trials (Optuna TPE, seed "
              f"{args.sampler_seed}) of {len(configurations)} configurations, each x {len(seeds)} seeds, "
              f"runs in {args.runs_dir}", file=sys.stderr)
        results, outcomes = tune(config, args.algo, args.env, grid, seeds, args.runs_dir, **kwargs,
                                 trials=args.trials, sampler_seed=args.sampler_seed)
    else:
        names = [variant_name(args.algo, o) for o in configurations]
        cells = [Cell(e, v, s) for e in args.env for v in names for s in seeds]
        budgets = {c: env_settings(config, c.env_id, args.budget).budget for c in cells}
        print(f"bench tune: {args.algo} on {', '.join(args.env)}: {len(configurations)} configurations x "
              f"{len(seeds)} seeds = {len(cells)} runs, runs in {args.runs_dir}", file=sys.stderr)
        with ProgressDisplay(cells, args.runs_dir, budgets, enabled=not args.no_progress) as display:
            results, outcomes = tune(config, args.algo, args.env, grid, seeds, args.runs_dir, **kwargs,
                                     on_update=display.update)
    if stop_requested():
        return _stopped(outcomes)
    failed = sorted(str(c) for c, s in outcomes.items() if s == "failed")
    trained = sum(s == "done" for s in outcomes.values())
    elsewhere = sum(s == "elsewhere" for s in outcomes.values())
    print(f"bench tune: {trained} runs trained, {len(outcomes) - trained - len(failed) - elsewhere} already complete, "
          f"{len(failed)} failed" + (f", {elsewhere} running elsewhere (ranked without them)" if elsewhere else ""),
          file=sys.stderr)
    for r in results:
        shown = (r.files[1]).read_text()
        print(f"\n{r.env_id}: {r.algo}, ranked by mean final return ({r.files[0]})\n{shown}")
        print(r.best_toml)
    for f in failed:
        print(f"  failed: {f}", file=sys.stderr)
    return 1 if failed else 0


def cmd_check(args: argparse.Namespace) -> int:
    from analysis.check import main as check_main

    config = _load(args)
    return check_main(runs_dir=args.runs_dir, config=config, update=args.update, workers=args.workers,
                      smoke_path=args.smoke, baseline_path=args.baseline, train=not args.no_train)


COMMANDS = {"run": cmd_run, "status": cmd_status, "list": cmd_list, "report": cmd_report, "compare": cmd_compare,
            "check": cmd_check, "tune": cmd_tune}


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted; completed evaluations are checkpointed, run again to resume", file=sys.stderr)
        return 130
    except Exception as exc:  # last resort: one line, never a traceback
        print(f"error: unexpected {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
