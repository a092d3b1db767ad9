"""Writing validation results: strict ``results.json`` and a Markdown ``report.md``.

``results.json`` is strict JSON (``json.loads`` in any language reads it): NumPy scalars
and arrays become numbers and lists; NaN and infinities become ``null`` and their
locations are listed in the experiment's ``nonfinite`` field (``"metrics.err[3]": "nan"``),
with a top-level flag ``nonfinite_values``.  ``report.md`` embeds the PNG figures with
links relative to the report, so the folder can be moved or zipped as a whole.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import quote

import numpy as np

from ._atomic import atomic_write_text

__all__ = ["RESULTS_SCHEMA_VERSION", "to_jsonable", "write_results_json", "write_report_md", "format_value"]

#: Version of the layout of ``results.json``; bump on incompatible changes.
RESULTS_SCHEMA_VERSION = 1


def to_jsonable(obj: Any, *, path: str = "", nonfinite: dict[str, str] | None = None) -> Any:
    """Convert an object to plain JSON types.

    Parameters
    ----------
    obj : object
        Numbers, strings, NumPy scalars/arrays, paths, dicts, lists, tuples, sets,
        dataclasses; anything else becomes its ``repr``.
    path : str
        Location of ``obj`` in the enclosing document, used in ``nonfinite`` keys.
    nonfinite : dict, optional
        If given, receives ``{location: "nan" | "inf" | "-inf"}`` for every non-finite
        float replaced by None.

    Returns
    -------
    object
        A structure of dict/list/str/int/float/bool/None with only finite floats.

    Examples
    --------
    >>> import numpy as np
    >>> where = {}
    >>> to_jsonable({"err": np.array([0.5, np.nan]), "n": np.int64(3)}, nonfinite=where)
    {'err': [0.5, None], 'n': 3}
    >>> where
    {'err[1]': 'nan'}
    """
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        if math.isfinite(x):
            return x
        if nonfinite is not None:
            nonfinite[path or "."] = "nan" if x != x else ("inf" if x > 0 else "-inf")
        return None
    if isinstance(obj, (complex, np.complexfloating)):
        return {
            "real": to_jsonable(obj.real, path=f"{path}.real", nonfinite=nonfinite),
            "imag": to_jsonable(obj.imag, path=f"{path}.imag", nonfinite=nonfinite),
        }
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist(), path=path, nonfinite=nonfinite)
    if isinstance(obj, PurePath):
        return obj.as_posix()
    if isinstance(obj, dict):
        return {
            str(k): to_jsonable(v, path=f"{path}.{k}" if path else str(k), nonfinite=nonfinite) for k, v in obj.items()
        }
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v, path=f"{path}[{i}]", nonfinite=nonfinite) for i, v in enumerate(obj)]
    if isinstance(obj, (set, frozenset)):
        return [to_jsonable(v, path=f"{path}[{i}]", nonfinite=nonfinite) for i, v in enumerate(sorted(obj, key=repr))]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return to_jsonable(dataclasses.asdict(obj), path=path, nonfinite=nonfinite)
    if hasattr(obj, "item") and callable(obj.item):  # 0-d tensors and similar
        try:
            return to_jsonable(obj.item(), path=path, nonfinite=nonfinite)
        except Exception:
            pass
    return repr(obj)


def write_results_json(document: dict, path: str | Path) -> Path:
    """Write a results document as strict JSON (``allow_nan=False``), atomically.

    Parameters
    ----------
    document : dict
        Already converted with :func:`to_jsonable`.
    path : str or Path
        Target file.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    OutputDirError
        The file cannot be written (one line naming it and the reason).

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> p = write_results_json({"passed": True}, pathlib.Path(tempfile.mkdtemp()) / "results.json")
    >>> json.loads(p.read_text())
    {'passed': True}
    """
    text = json.dumps(document, indent=2, allow_nan=False)
    return atomic_write_text(path, text + "\n")


def format_value(v: Any, *, max_items: int = 8) -> str:
    """Short human-readable text for a metric value (4 significant digits, lists shortened).

    Examples
    --------
    >>> format_value(3.14159), format_value(list(range(10)), max_items=3)
    ('3.142', '[0, 1, 2, ... (10 items)]')
    """
    if v is None:
        return "null"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, str):
        return v
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


def _cell(text: str) -> str:
    """Escape text for a Markdown table cell."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _anchor(eid: str) -> str:
    return "exp-" + re.sub(r"[^A-Za-z0-9_-]", "-", eid)


def _status_text(rec: dict) -> str:
    if rec["status"] == "passed":
        return "PASS"
    if rec["status"] == "error":
        return "ERROR"
    return "FAIL"


def _threshold_text(op: str, thr: Any) -> str:
    if op == "in" and isinstance(thr, list) and len(thr) == 2:
        return f"[{format_value(thr[0])}, {format_value(thr[1])}]"
    return format_value(thr)


def write_report_md(document: dict, path: str | Path) -> Path:
    """Write the Markdown report of a results document.

    Layout: a header (mode, seed, versions, overall verdict), a summary table
    (experiment, result, seconds), then one section per experiment with what it checks,
    its pass criterion, the parameters, a table of checks (metric / value / op /
    threshold / passed / note), the other metrics, the figures (embedded PNGs with
    relative links), the summary text and, for errors, the traceback.

    Parameters
    ----------
    document : dict
        A results document as written to ``results.json``.
    path : str or Path
        Target file; figure links are relative to its folder.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    OutputDirError
        The file cannot be written (one line naming it and the reason).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from deeplimits.validation.records import results_document
    >>> doc = results_document([], mode="quick", seed=0, started="2026-01-01T00:00:00Z", seconds=0.0,
    ...                        experiments_dir=None, selection=None, complete=True)
    >>> p = write_report_md(doc, pathlib.Path(tempfile.mkdtemp()) / "report.md")
    >>> p.read_text().splitlines()[0]
    '# deeplimits validation report'
    """
    path = Path(path)
    d = document
    exps = d["experiments"]
    verdict = "PASSED" if d["passed"] else "FAILED"
    lines = [
        "# deeplimits validation report",
        "",
        f"**{verdict}**: {d['n_passed']} of {d['n_experiments']} experiments passed"
        + ("" if d.get("complete", True) else " (run incomplete: interrupted or still running)")
        + ".",
        "",
        f"- mode: `{d['mode']}`, seed: `{d['seed']}`, total time: {d['seconds']:.1f} s",
        f"- deeplimits {d['deeplimits_version']}, Python {d['environment']['python']}, "
        f"NumPy {d['environment']['numpy']}, Numba {d['environment']['numba']} "
        f"({d['environment']['numba_threads']} threads), {d['environment']['platform']}",
        f"- started {d['started']} (UTC); experiments from `{d['experiments_dir']}`",
        "- machine-readable results: [results.json](results.json)",
        "",
        "| experiment | result | seconds |",
        "| --- | --- | ---: |",
    ]
    for rec in exps:
        lines.append(f"| [{_cell(rec['id'])}](#{_anchor(rec['id'])}) | {_status_text(rec)} | {rec['seconds']:.1f} |")
    lines.append("")
    if d.get("nonfinite_values"):
        lines += [
            "Some values were NaN or infinite; they are `null` in results.json (see each experiment's "
            "`nonfinite` field).",
            "",
        ]
    for rec in exps:
        lines += _experiment_section(rec)
    return atomic_write_text(path, "\n".join(lines) + "\n")


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


def _experiment_section(rec: dict) -> list[str]:
    out = [f'<a id="{_anchor(rec["id"])}"></a>', "", f"## {rec['id']} — {_status_text(rec)}", ""]
    out += [
        f"**What it checks:** {rec['checks']}",
        "",
        f"**Pass criterion (fixed in advance):** {rec['criterion']}",
        "",
    ]
    out += [f"Mode `{rec['mode']}`, {rec['seconds']:.1f} s. Parameters: `{json.dumps(rec['params'])}`", ""]
    if rec.get("source"):
        out += [f"Defined in `{rec['source']}`.", ""]
    thresholds = rec.get("thresholds", {})
    if thresholds:
        out += ["| metric | value | op | threshold | passed | note |", "| --- | ---: | :-: | ---: | :-: | --- |"]
        for name, t in thresholds.items():
            out.append(
                f"| {_cell(name)} | {_cell(format_value(rec['metrics'].get(name)))} | {_cell(t['op'])} | "
                f"{_cell(_threshold_text(t['op'], t['threshold']))} | {'yes' if t['passed'] else '**no**'} | "
                f"{_cell(t.get('note', ''))} |"
            )
        out.append("")
    others = _flatten({k: v for k, v in rec.get("metrics", {}).items() if k not in thresholds})
    if others:
        out += ["Other metrics:", "", "| metric | value |", "| --- | --- |"]
        out += [f"| {_cell(k)} | {_cell(format_value(v))} |" for k, v in others.items()]
        out.append("")
    for fig in rec.get("figures", []):
        out += [f"![{_cell(rec['id'])}: {Path(fig).name}]({quote(fig)})", ""]
    for missing in rec.get("missing_figures", []):
        out += [f"Figure not found: `{missing}`", ""]
    if rec.get("summary"):
        out += [rec["summary"], ""]
    if rec.get("nonfinite"):
        out += [
            "Non-finite values (null in results.json): "
            + ", ".join(f"`{k}` = {v}" for k, v in rec["nonfinite"].items()),
            "",
        ]
    if rec.get("warnings"):
        out += ["Warnings raised:", ""] + [f"- `{_cell(w)}`" for w in rec["warnings"]] + [""]
    if rec.get("error"):
        out += ["Error:", "", "```text", rec["error"].rstrip(), "```", ""]
    return out
