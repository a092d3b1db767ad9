"""Writing validation results: strict ``results.json``, a Markdown ``report.md`` and a self-contained ``report.html``.

``results.json`` is strict JSON (``json.loads`` in any language reads it): NumPy scalars
and arrays become numbers and lists; NaN and infinities become ``null`` and their
locations are listed in the experiment's ``nonfinite`` field (``"metrics.err[3]": "nan"``),
with a top-level flag ``nonfinite_values``.  ``report.md`` embeds the PNG figures with
links relative to the report, so the folder can be moved or zipped as a whole;
``report.html`` carries the figures inside the one file.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path, PurePath
from typing import Any

import numpy as np

from ._atomic import atomic_write_text
from .report_layout import format_value, relative_text, report_blocks
from .report_render import to_html, to_markdown

__all__ = [
    "RESULTS_SCHEMA_VERSION",
    "to_jsonable",
    "write_results_json",
    "write_report_md",
    "write_report_html",
    "format_value",
]

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


def write_report_md(document: dict, path: str | Path) -> Path:
    """Write the Markdown report of a results document (figures linked relative to its folder).

    Layout (:func:`~deeplimits.validation.report_layout.report_blocks`): the verdict, a
    summary table (experiment, verdict, claim, measured value, criterion, resolution,
    seconds), then one section per experiment with its checks, figures and other metrics.

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
    return atomic_write_text(path, relative_text(to_markdown(report_blocks(document))))


def write_report_html(document: dict, path: str | Path) -> Path:
    """Write the report as one self-contained HTML page, with the figures embedded (for sharing).

    The figures are read from the folder of ``path``: write the report into the run's
    output folder.  Raises :class:`OutputDirError` when the file cannot be written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from deeplimits.validation.records import results_document
    >>> run = dict(mode="quick", seed=0, started="2026-01-01T00:00:00Z", seconds=0.0, experiments_dir=None)
    >>> doc = results_document([], selection=None, complete=True, **run)
    >>> write_report_html(doc, pathlib.Path(tempfile.mkdtemp()) / "report.html").read_text()[:15]
    '<!DOCTYPE html>'
    """
    page = to_html(report_blocks(document), Path(path).parent)
    return atomic_write_text(path, relative_text(page))
