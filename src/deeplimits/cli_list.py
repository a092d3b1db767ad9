"""The ``deeplimits list`` command: the validation experiments, filtered, wrapped to the terminal."""

from __future__ import annotations

import argparse
import fnmatch
import shutil
import sys
import textwrap
from typing import Any

__all__ = ["add_list_parser", "cmd_list", "format_listing", "matches"]

_LIST_EPILOG = """\
examples:
  deeplimits list                 every experiment
  deeplimits list --area corr     the experiments of one area
  deeplimits list 'resnet.*'      ids matching a shell glob
  deeplimits list kfe             ids or descriptions containing a word (any case)
"""


def add_list_parser(sub: Any, formatter_class: type[argparse.HelpFormatter]) -> argparse.ArgumentParser:
    """Add the ``list`` sub-command to the sub-parsers ``sub`` of the ``deeplimits`` parser."""
    ls = sub.add_parser(
        "list",
        help="list the validation experiments and what each one checks",
        description="List the validation experiments: id, area, and what each one checks.",
        epilog=_LIST_EPILOG,
        formatter_class=formatter_class,
    )
    ls.add_argument(
        "patterns",
        metavar="PATTERN",
        nargs="*",
        help="show only experiments whose id matches a shell glob, or whose id or description contains the word",
    )
    ls.add_argument(
        "--area",
        metavar="AREA",
        action="append",
        default=[],
        help="show only the experiments of this area (sde, corr, cap, resnet, ...); may be repeated",
    )
    ls.add_argument(
        "--experiments",
        metavar="DIR",
        default=None,
        help="folder of *_experiments.py files to use instead of the package's own",
    )
    return ls


def matches(exp: Any, patterns: list[str], areas: list[str]) -> bool:
    """True iff ``exp`` is in one of ``areas`` (if any) and matches one of ``patterns`` (if any).

    A pattern with a glob character (``*?[``) is matched against the id; any other pattern
    is a case-insensitive word looked for in the id and in the description.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> exp = SimpleNamespace(id="corr.orders", area="corr", checks="strong and weak orders of the q-SDE")
    >>> matches(exp, ["corr.*"], []), matches(exp, ["WEAK"], ["corr"]), matches(exp, [], ["sde"])
    (True, True, False)
    """
    if areas and exp.area not in areas:
        return False
    if not patterns:
        return True
    text = f"{exp.id} {exp.checks}".lower()
    return any(fnmatch.fnmatchcase(exp.id, p) if any(c in p for c in "*?[") else p.lower() in text for p in patterns)


def format_listing(exps: list[Any], width: int) -> list[str]:
    """Lines of the table id / area / checks, the checks wrapped to ``width`` columns.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> exp = SimpleNamespace(id="sde.a", area="sde", checks="one two three four five six")
    >>> print("\\n".join(format_listing([exp], width=30)))
    id     area  checks
    sde.a  sde   one two three four
                 five six
    """
    id_w = max([len(x.id) for x in exps] + [2])
    area_w = max([len(x.area) for x in exps] + [4])
    indent = " " * (id_w + area_w + 4)
    text_w = max(width - len(indent), 20)
    lines = [f"{'id':<{id_w}}  {'area':<{area_w}}  checks"]
    for exp in exps:
        body = textwrap.wrap(" ".join(exp.checks.split()), text_w) or [""]
        lines.append(f"{exp.id:<{id_w}}  {exp.area:<{area_w}}  {body[0]}")
        lines += [indent + rest for rest in body[1:]]
    return lines


def cmd_list(args: argparse.Namespace) -> int:
    """Run ``deeplimits list``; returns the exit code (0, 1 for a file that failed to import, 2 usage)."""
    from .cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE
    from .validation import registry
    from .validation.discovery import find_experiments_dir, load_experiments

    try:
        directory = find_experiments_dir(args.experiments)
    except ValueError as exc:
        print(f"deeplimits list: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    load = load_experiments(directory) if directory else None
    failures = load.failures if load else []
    loaded = {eid for ids in load.ids_by_file.values() for eid in ids} if load else set()
    every = [exp for eid, exp in registry.items() if eid in loaded]
    if not every and not failures:
        print("no validation experiments found" + (f" in {directory}" if directory else ""), file=sys.stderr)
        return EXIT_USAGE
    exps = [exp for exp in every if matches(exp, args.patterns, args.area)]
    if every and not exps:
        areas = ", ".join(sorted({x.area for x in every}))
        print(f"deeplimits list: error: no experiment matches (areas: {areas})", file=sys.stderr)
        return EXIT_USAGE
    for line in format_listing(exps, shutil.get_terminal_size().columns):
        print(line)
    shown = f"{len(exps)} of {len(every)}" if len(exps) < len(every) else f"{len(exps)}"
    print(f"\n{shown} experiments from {directory}")
    for f in failures:
        print(
            f"\nERROR: {f.path} failed to import; its experiments are missing from this list:\n"
            + textwrap.indent(f.traceback.rstrip(), "  "),
            file=sys.stderr,
        )
    return EXIT_FAILED if failures else EXIT_OK
