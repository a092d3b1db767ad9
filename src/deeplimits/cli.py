"""The ``deeplimits`` command (also ``python -m deeplimits``).

Sub-commands
------------
``validate``
    Run validation experiments and write a report folder.
``list``
    Print the available experiments.

Exit codes: 0 success (every selected experiment passed or was skipped for a missing
optional dependency), 1 some experiment failed
(or an experiment file failed to import), 2 usage or output error (bad option, ``--only``
pattern matching nothing, experiments folder not found, ``--out`` not writable or in use
by another run, a result file that cannot be written), 130 interrupted (Ctrl-C or SIGTERM;
the results of the experiments that finished are kept).

Examples
--------
>>> main(["--version"])  # doctest: +ELLIPSIS
deeplimits ...
0
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any, NoReturn

from . import __version__
from .cli_list import add_list_parser, cmd_list

__all__ = ["main", "build_parser"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

_DESCRIPTION = """\
deeplimits computes the differential-equation limits of deep neural networks
(capacity propagation, correlation/covariance SDEs of deep ReLU networks, ResNet
depth-scaling limits) and checks them numerically against finite networks.

A *validation run* executes the package's validation experiments. Each experiment
simulates a finite system and its limit, measures numbers such as a convergence
order or a distance between distributions, and compares them with a pass criterion
fixed in advance. The run writes a folder with results.json (all numbers),
report.md and report.html (tables and figures) and one sub-folder of PNG figures per experiment.
"""

_EPILOG = """\
examples:
  deeplimits list                                 show every experiment and what it checks
  deeplimits list --area corr                     ... only those of one area (or: deeplimits list PATTERN)
  deeplimits validate                             quick run of all experiments -> ./validation-report/
  deeplimits validate --only 'sde.*'              only the experiments whose id starts with "sde."
  deeplimits validate --full --out full-report    publication-size parameters (slow)
  deeplimits validate --workers 2                 experiments as tasks on a local Dask cluster
  deeplimits validate --scheduler tcp://HOST:8786 ... on a running Dask cluster (dask scheduler)

exit codes:
  0    every selected experiment passed (or was skipped: it needs an optional dependency
       that is not installed; the install command is printed)
  1    some experiment failed or raised, or an experiment file failed to import
  2    usage or output error, nothing lost: bad option, --only pattern matching nothing,
       --experiments folder missing, --out not writable or in use by another run,
       --scheduler unreachable, Dask not installed
       (one line on stderr, no traceback; checked before any experiment runs)
  130  interrupted (Ctrl-C or SIGTERM); results of finished experiments are kept
"""

_VALIDATE_DESCRIPTION = """\
Run validation experiments and write a report.

Each experiment compares a finite simulation with its differential-equation limit
and passes only if every one of its checks (metric <op> threshold, thresholds fixed
in advance) holds. Results go to the --out folder:
  OUT/results.json   every metric, threshold, verdict and timing (strict JSON)
  OUT/report.md      summary table, then one section per experiment with its figures
  OUT/report.html    the same report as one self-contained page (figures inside), for sharing
  OUT/<id>/          the PNG figures of experiment <id>
The reports are rewritten atomically after every experiment, so an interrupted run
leaves a valid report of what finished. One run at a time may write into OUT: a
second run into the same folder stops with exit code 2 (a lock file
OUT/.deeplimits-validate.lock marks the folder in use; one left by a killed run is
taken over with a warning).

With --workers N or --scheduler ADDRESS every experiment is one task on a Dask
cluster (pip install "deeplimits[distributed]"); the workers send their figures
back, so they need no shared folder, and results.json holds the same numbers as
a run in one process.
"""


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors also point to --help."""

    def error(self, message: str) -> NoReturn:  # pragma: no cover - exercised through main()
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n(run '{self.prog} --help' for help)\n")


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``deeplimits`` command.

    Returns
    -------
    argparse.ArgumentParser

    Examples
    --------
    >>> args = build_parser().parse_args(["validate", "--only", "sde.*", "--seed", "3"])
    >>> args.command, args.only, args.seed, args.mode, args.out
    ('validate', ['sde.*'], 3, 'quick', 'validation-report')
    """
    fmt = argparse.RawDescriptionHelpFormatter
    parser = _Parser(prog="deeplimits", description=_DESCRIPTION, epilog=_EPILOG, formatter_class=fmt)
    parser.add_argument("--version", action="version", version=f"deeplimits {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    v = sub.add_parser(
        "validate",
        help="run validation experiments and write a report folder",
        description=_VALIDATE_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=fmt,
    )
    size = v.add_mutually_exclusive_group()
    size.add_argument(
        "--quick",
        dest="mode",
        action="store_const",
        const="quick",
        help="small parameter sets, a few minutes in total on 2 cores (default)",
    )
    size.add_argument(
        "--full",
        dest="mode",
        action="store_const",
        const="full",
        help="large parameter sets for publication-quality numbers (much slower)",
    )
    v.set_defaults(mode="quick")
    v.add_argument(
        "--only",
        metavar="ID_OR_GLOB",
        nargs="+",
        action="extend",
        default=[],
        help="run only these experiments: exact ids (sde.gbm_strong), shell globs in quotes "
        "('sde.*', '*strong*') or area names (sde); see 'deeplimits list'",
    )
    v.add_argument(
        "--out",
        metavar="DIR",
        default="validation-report",
        help="output folder for results.json, report.md and figures (default: %(default)s; "
        "created if needed and checked before any experiment runs; files of a previous run "
        "there are overwritten; a folder in use by another run is refused with exit code 2)",
    )
    v.add_argument(
        "--seed",
        metavar="N",
        type=_seed,
        default=0,
        help="random seed given to every experiment; same seed, same numbers (default: %(default)s)",
    )
    v.add_argument(
        "--experiments",
        metavar="DIR",
        default=None,
        help="folder of *_experiments.py files to use instead of the package's own",
    )
    v.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar (for logs and CI)")
    v.add_argument(
        "--no-precompile",
        dest="precompile",
        action="store_false",
        help="do not start the second process that compiles the campaign's largest kernels ahead "
        "(a whole local run starts it; it uses a second core while the cache is cold)",
    )
    where = v.add_mutually_exclusive_group()
    where.add_argument(
        "--workers",
        metavar="N",
        type=_positive,
        default=None,
        help="run the experiments as tasks on a local Dask cluster of N worker processes x 1 thread",
    )
    where.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help="run the experiments as tasks on the running Dask cluster whose scheduler is at ADDRESS "
        "(tcp://HOST:PORT, printed by 'dask scheduler'); an unreachable one stops with exit code 2",
    )

    add_list_parser(sub, fmt)
    return parser


def _seed(text: str) -> int:
    from ._checks import check_seed

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seed must be a non-negative integer, got {text!r}") from None
    try:
        check_seed(value, "--seed")
    except (TypeError, ValueError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"--workers must be a positive integer, got {text!r}")
    return value


@contextmanager
def _executor(args: argparse.Namespace) -> Iterator[Any]:
    """None, a local Dask cluster (--workers) or a connection to a scheduler (--scheduler)."""
    if args.workers is None and args.scheduler is None:
        yield None
        return
    from .parallel.cluster import connect, local_cluster

    if args.workers is not None:
        with local_cluster(args.workers, threads_per_worker=1) as client:
            yield client
    else:
        with connect(args.scheduler) as client:
            yield client


@contextmanager
def _precompile(args: argparse.Namespace) -> Iterator[None]:
    """A whole local campaign compiles its largest kernels ahead, in a second process.

    On a cold Numba cache, compiling is about half of the campaign's time and runs on one core; the
    other process compiles the kernels of the later experiments meanwhile. A selection (--only,
    --experiments), a cluster run or --no-precompile does not start it.
    """
    local_whole = not args.only and args.experiments is None and args.workers is None and args.scheduler is None
    if not (local_whole and getattr(args, "precompile", True)):
        yield
        return
    from .validation.precompile import start_precompile

    proc = start_precompile()
    try:
        yield
    finally:
        proc.terminate()  # done long before, or not needed any more
        proc.join()


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    # The API names the argument ``outdir``; on the command line it is --out.
    return "--out" + text[len("outdir") :] if text.startswith("outdir") else text


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # unwinds like Ctrl-C: results so far are written, the lock is released


@contextmanager
def _cli_signals_and_warnings() -> Iterator[None]:
    """SIGTERM handled like Ctrl-C; harness warnings (a stale lock taken over) as one plain line."""
    previous = None
    try:
        previous = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread (main() called from a thread): keep the default
        pass
    show = warnings.showwarning

    def one_line(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
        if str(message).startswith("outdir"):  # the harness's own, e.g. a stale lock taken over
            print(f"deeplimits validate: warning: {_one_line(Exception(message))}", file=sys.stderr)
        else:
            show(message, category, *args, **kwargs)

    warnings.showwarning = one_line
    try:
        yield
    finally:
        warnings.showwarning = show
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _cmd_validate(args: argparse.Namespace) -> int:
    from .parallel.cluster import INSTALL_HINT
    from .validation.discovery import SelectionError
    from .validation.runner import run_experiments

    os.environ.setdefault("MPLBACKEND", "Agg")  # figures are files; never open windows
    try:
        with _cli_signals_and_warnings(), _executor(args) as executor, _precompile(args):
            summary = run_experiments(
                args.only or None,
                mode=args.mode,
                seed=args.seed,
                outdir=args.out,
                progress=args.progress,
                experiments_dir=args.experiments,
                executor=executor,
            )
    except SelectionError as exc:
        print(f"deeplimits validate: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (LookupError, ValueError, TypeError) as exc:
        print(f"deeplimits validate: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except ImportError as exc:
        if INSTALL_HINT not in str(exc):  # not the missing optional extra: a real bug, keep its traceback
            raise
        print(f"deeplimits validate: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # OutputDirError and any other I/O problem: one line, no traceback
        print(f"deeplimits validate: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"\ninterrupted; partial results in {args.out}", file=sys.stderr)
        return EXIT_INTERRUPTED
    width = max([len(r.id) for r in summary.results] + [len("experiment")])
    print(f"{'experiment':<{width}}  result   seconds")
    for r in summary.results:
        label = {"passed": "PASS", "failed": "FAIL", "error": "ERROR", "skipped": "SKIPPED"}[r.status]
        print(f"{r.id:<{width}}  {label:<7}  {r.seconds:7.1f}")
    print(str(summary))
    for r in summary.results:
        if r.status == "skipped":  # not a failure, but the user should know what to install
            print(f"skipped {r.id}: {r.error}", file=sys.stderr)
    if not summary.passed:
        print("failed: " + ", ".join(summary.failed_ids), file=sys.stderr)
    return EXIT_OK if summary.passed else EXIT_FAILED


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``deeplimits`` command.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit code: 0 success, 1 failed experiments, 2 usage or output error, 130 interrupted.

    Examples
    --------
    >>> main(["validate", "--seed", "-1"])  # doctest: +ELLIPSIS
    2
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help/--version exit 0, errors exit 2
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    if args.command == "list":
        return cmd_list(args)
    return _cmd_validate(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
