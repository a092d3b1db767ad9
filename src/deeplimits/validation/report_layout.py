"""What a validation report says, as a list of blocks that :mod:`.report_render` writes as Markdown or HTML.

The report opens with the verdict and one summary table (experiment, verdict, claim,
measured value, criterion, resolution, time), then has one section per experiment.  A value
that does not apply, or that ``results.json`` holds as ``null``, reads "n/a".  Paths are
shown relative to the package, the working directory or the home folder, never absolute.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

__all__ = ["Block", "format_value", "relative_text", "report_blocks"]

#: Longest claim or criterion shown in the summary table; the section has the full text.
_SUMMARY_CHARS = 160
#: Checks shown in the summary table's "measured" cell (those closest to their thresholds).
_SUMMARY_CHECKS = 1


@dataclass
class Block:
    """One piece of a report.

    ``kind`` is one of ``heading`` (``text``, ``level``, ``anchor``), ``para`` (``text``),
    ``table`` (``header``, ``align``, ``rows``), ``image`` (``text`` = alt text, ``src`` =
    relative link), ``code`` (``text``), ``items`` (``rows`` of one cell each) or ``details``
    (``text`` = summary line, ``children``).  Text may hold the inline Markdown subset
    `` `code` ``, ``**bold**`` and ``[text](link)``.
    """

    kind: str
    text: str = ""
    level: int = 0
    anchor: str = ""
    src: str = ""
    header: list[str] = field(default_factory=list)
    align: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    children: list[Block] = field(default_factory=list)


def format_value(v: Any, *, max_items: int = 8) -> str:
    """Short human-readable text for a metric value (4 significant digits, lists shortened).

    ``None`` (a value that does not apply, or a non-finite number in ``results.json``)
    reads ``n/a``.

    Examples
    --------
    >>> format_value(3.14159), format_value(list(range(10)), max_items=3), format_value(None)
    ('3.142', '[0, 1, 2, ... (10 items)]', 'n/a')
    """
    if v is None:
        return "n/a"
    if isinstance(v, (bool, int, str)):
        return str(v)
    if isinstance(v, float):
        return f"{v:.4g}" if v == v else "n/a"
    if isinstance(v, list):
        head = ", ".join(format_value(x, max_items=3) for x in v[:max_items])
        more = f", ... ({len(v)} items)" if len(v) > max_items else ""
        return f"[{head}{more}]"
    if isinstance(v, dict):
        items = list(v.items())
        head = ", ".join(f"{k}: {format_value(x, max_items=3)}" for k, x in items[:max_items])
        more = ", ..." if len(items) > max_items else ""
        return "{" + head + more + "}"
    return str(v)


def relative_text(text: str) -> str:
    """``text`` with absolute folders of the package, the working directory and the home folder removed.

    Examples
    --------
    >>> import os
    >>> relative_text(os.path.join(os.getcwd(), "exps", "a.py"))
    'exps/a.py'
    """
    import deeplimits

    roots = [
        (str(Path(deeplimits.__file__).resolve().parent.parent) + os.sep, ""),
        (os.getcwd().rstrip(os.sep) + os.sep, ""),
        (str(Path.home()).rstrip(os.sep) + os.sep, "~/"),
    ]
    for root, short in sorted(roots, key=lambda r: -len(r[0])):
        if len(root) > 1:
            text = text.replace(root, short)
    return text


def _display_path(p: str | None) -> str:
    if not p:
        return "n/a"
    shown = relative_text(str(p))
    return shown if not os.path.isabs(shown) else Path(shown).name


def _anchor(eid: str) -> str:
    return "exp-" + re.sub(r"[^A-Za-z0-9_-]", "-", eid)


def _verdict(rec: dict) -> str:
    return {"passed": "PASS", "error": "ERROR", "skipped": "SKIPPED"}.get(rec["status"], "FAIL")


def _threshold_text(op: str, thr: Any) -> str:
    if op == "in" and isinstance(thr, list) and len(thr) == 2:
        return f"[{format_value(thr[0])}, {format_value(thr[1])}]"
    return format_value(thr)


def _op_thr(t: dict) -> dict:
    return {"op": t["op"], "thr": t["threshold"]}


def _shorten(text: str, n: int = _SUMMARY_CHARS) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: text.rfind(" ", 0, n)].rstrip(",;:") + " …"


def _margin(value: Any, t: dict) -> float:
    """How far ``value`` is inside its threshold, relative to the threshold's scale (negative: outside)."""
    thr = t["threshold"]
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return math.inf if t["passed"] else -math.inf
    if t["op"] == "in" and isinstance(thr, list) and len(thr) == 2 and None not in thr:
        return min(value - thr[0], thr[1] - value) / max(abs(thr[1] - thr[0]), 1e-300)
    if not isinstance(thr, (int, float)):
        return math.inf if t["passed"] else -math.inf
    gap = thr - value if t["op"] in ("<", "<=") else value - thr
    return gap / max(abs(thr), 1e-300)


def _measured(rec: dict) -> str:
    """The checks closest to their thresholds (failing ones first): ``name = value (op threshold)``."""
    th = rec.get("thresholds", {})
    if not th:
        return "n/a"
    margin = {k: _margin(rec["metrics"].get(k), t) for k, t in th.items()}
    names = sorted(th, key=lambda k: (th[k]["passed"], margin[k]))[:_SUMMARY_CHECKS]
    shown = [
        f"{k} = {format_value(rec['metrics'].get(k))} ({th[k]['op']} {_threshold_text(**_op_thr(th[k]))})"
        for k in names
    ]
    n_ok = sum(t["passed"] for t in th.values())
    more = f"; {len(th) - len(names)} more" if len(th) > len(names) else ""
    return f"{n_ok}/{len(th)} checks pass; closest to the threshold: " + "; ".join(shown) + more


def _resolution(rec: dict, mode: str | None = None) -> str:
    res = rec.get("resolution")
    if not isinstance(res, dict) or not res:
        return "n/a"
    if mode is not None:
        return str(res.get(mode, "n/a"))
    return "; ".join(f"{k}: {v}" for k, v in res.items())


def _summary_table(exps: list[dict]) -> Block:
    rows = [
        [
            f"[{rec['id']}](#{_anchor(rec['id'])})",
            _verdict(rec),
            _shorten(rec["checks"]),
            _shorten(_measured(rec), 2 * _SUMMARY_CHARS),
            _shorten(rec["criterion"]),
            _resolution(rec, rec.get("mode")),
            f"{rec['seconds']:.1f}",
        ]
        for rec in exps
    ]
    header = ["experiment", "verdict", "claim", "measured", "criterion", "resolution", "seconds"]
    return Block("table", header=header, align=["l", "l", "l", "l", "l", "l", "r"], rows=rows)


def report_blocks(document: dict) -> list[Block]:
    """The blocks of the report of a ``results.json`` document: header, summary table, one section per experiment.

    Examples
    --------
    >>> from deeplimits.validation.records import results_document
    >>> doc = results_document([], mode="quick", seed=0, started="2026-01-01T00:00:00Z", seconds=0.0,
    ...                        experiments_dir=None, selection=None, complete=True)
    >>> [b.kind for b in report_blocks(doc)][:3]
    ['heading', 'para', 'items']
    """
    d = document
    env = d["environment"]
    n_skipped = sum(rec["status"] == "skipped" for rec in d["experiments"])
    verdict = f"**{'PASSED' if d['passed'] else 'FAILED'}**: {d['n_passed']} of {d['n_experiments']} experiments passed"
    verdict += f" ({n_skipped} skipped)" if n_skipped else ""
    verdict += "" if d.get("complete", True) else " (run incomplete: interrupted or still running)"
    blocks = [
        Block("heading", "deeplimits validation report", level=1),
        Block("para", verdict + "."),
        Block(
            "items",
            rows=[
                [f"mode: `{d['mode']}`, seed: `{d['seed']}`, total time: {d['seconds']:.1f} s"],
                [
                    f"deeplimits {d['deeplimits_version']}, Python {env['python']}, NumPy {env['numpy']}, "
                    f"Numba {env['numba']} ({env['numba_threads']} threads), {env['platform']}"
                ],
                [f"started {d['started']} (UTC); experiments from `{_display_path(d['experiments_dir'])}`"],
                ["machine-readable results: [results.json](results.json)"],
            ],
        ),
        _summary_table(d["experiments"]),
    ]
    if d.get("nonfinite_values"):
        blocks.append(
            Block(
                "para",
                "Some measured values were not finite numbers; they read n/a here and are `null` in "
                "results.json (each experiment's `nonfinite` field says where and which).",
            )
        )
    for rec in d["experiments"]:
        blocks += _experiment_section(rec)
    return blocks


def _flatten(d: dict, prefix: str = "") -> dict:
    """Nested dicts -> dotted keys (``{"euler": {"order": 0.5}}`` -> ``{"euler.order": 0.5}``)."""
    flat: dict = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            flat.update(_flatten(v, key + "."))
        else:
            flat[key] = v
    return flat


def _experiment_section(rec: dict) -> list[Block]:
    out = [
        Block("heading", f"{rec['id']} — {_verdict(rec)}", level=2, anchor=_anchor(rec["id"])),
        Block("para", f"**What it checks:** {rec['checks']}"),
        Block("para", f"**Pass criterion (fixed in advance):** {rec['criterion']}"),
    ]
    if isinstance(rec.get("resolution"), dict) and rec["resolution"]:
        out.append(Block("para", f"**Resolution:** {_resolution(rec)}"))
    params = json.dumps(rec["params"])
    out.append(Block("para", f"Mode `{rec['mode']}`, {rec['seconds']:.1f} s. Parameters: `{params}`"))
    if rec.get("source"):
        out.append(Block("para", f"Defined in `{_display_path(rec['source'])}`."))
    thresholds = rec.get("thresholds", {})
    if thresholds:
        rows = [
            [
                name,
                format_value(rec["metrics"].get(name)),
                t["op"],
                _threshold_text(t["op"], t["threshold"]),
                "yes" if t["passed"] else "**no**",
                t.get("note", ""),
            ]
            for name, t in thresholds.items()
        ]
        header = ["metric", "value", "op", "threshold", "passed", "note"]
        out.append(Block("table", header=header, align=["l", "r", "c", "r", "c", "l"], rows=rows))
    for fig in rec.get("figures", []):
        out.append(Block("image", f"{rec['id']}: {Path(fig).name}", src=quote(fig)))
    for missing in rec.get("missing_figures", []):
        out.append(Block("para", f"Figure not found: `{missing}`"))
    if rec.get("summary"):
        out.append(Block("para", rec["summary"]))
    others = _flatten({k: v for k, v in rec.get("metrics", {}).items() if k not in thresholds})
    if others:
        rows = [[k, format_value(v)] for k, v in others.items()]
        table = Block("table", header=["metric", "value"], align=["l", "l"], rows=rows)
        out.append(Block("details", f"Other metrics ({len(others)})", children=[table]))
    if rec.get("nonfinite"):
        where = ", ".join(f"`{k}` ({v})" for k, v in rec["nonfinite"].items())
        out.append(Block("para", "Not finite (n/a above, null in results.json): " + where))
    if rec.get("warnings"):
        out += [Block("para", "Warnings raised:"), Block("items", rows=[[f"`{w}`"] for w in rec["warnings"]])]
    if rec.get("error"):
        head = "Skipped:" if rec["status"] == "skipped" else "Error:"
        out += [Block("para", head), Block("code", rec["error"].rstrip())]
    return out
