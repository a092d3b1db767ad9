"""The one result type: :class:`Solution`, with ``ts``, ``ys`` and ``stats``.

Every time- or depth-stepped result of the package (SDE paths, KFE profiles,
per-layer network statistics, ResNet trajectories) is a :class:`Solution` or a
subclass of it.

Axis order (the same everywhere)
--------------------------------
``ys`` has the sample axis first when there is one (paths, networks, walkers),
then the time/depth axis, then the state axes::

    ys[sample, save, *state]      Monte-Carlo results
    ys[save, *state]              deterministic results (KFE profiles, ODEs)

``ts[j]`` is the time (or depth) of ``ys[..., j, ...]``.  ``stats`` holds the run
metadata: the scheme, step counts, seeds, wall time, and counts of events such as
reflections at a domain boundary.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
from numpy.typing import NDArray

__all__ = ["Solution", "SUMMED_STATS"]

#: Stats that add up when runs over consecutive paths are concatenated (counts and seconds).
SUMMED_STATS = frozenset(
    {"n_paths", "n_nets", "n_walkers", "n_inputs", "n_samples", "n_failed", "n_exits", "n_reflected", "wall_time"}
)


@dataclass(repr=False)
class Solution:
    """Result of a time- or depth-stepped computation.

    Attributes
    ----------
    ts : numpy.ndarray, shape (n_save,)
        Output times (or depths), increasing.
    ys : numpy.ndarray
        ``(n_samples, n_save, *state)`` for Monte-Carlo results,
        ``(n_save, *state)`` for deterministic ones (class attribute
        ``has_samples`` says which).
    stats : dict
        Run metadata: ``scheme``, step counts, ``seed``, ``wall_time`` (seconds)
        and event counts (e.g. ``n_reflected``).

    Examples
    --------
    >>> import numpy as np
    >>> sol = Solution(ts=np.array([0.0, 1.0]), ys=np.zeros((5, 2, 1)), stats={"scheme": "euler"})
    >>> sol.at(1.0).shape
    (5, 1)
    >>> sol
    Solution(ts: 2 in [0, 1], ys: (5, 2, 1) float64, stats: scheme='euler')
    """

    ts: NDArray[np.float64]
    ys: NDArray[Any]
    stats: dict[str, Any] = field(default_factory=dict)

    #: Whether ``ys`` has a leading sample axis; subclasses for deterministic results set it to False.
    has_samples: ClassVar[bool] = True
    #: Fields of a subclass with one entry per sample on axis 0 (concatenated by :meth:`concat`);
    #: its other fields must agree between the parts.
    per_sample_fields: ClassVar[tuple[str, ...]] = ()
    #: Names of the axes of ``ys`` in :meth:`to_xarray`: sample (if any), time, then the state axes
    #: (more state axes than names get ``<last name>_<k>``).
    dims: ClassVar[tuple[str, ...]] = ("path", "time", "dim")
    #: Dimension names of the array fields of a subclass in :meth:`to_xarray`.
    field_dims: ClassVar[dict[str, tuple[str, ...]]] = {}

    @classmethod
    def concat(cls, parts: Sequence[Solution]) -> Self:
        """Join results over consecutive path ranges into one, as if computed in one run.

        ``ys`` and the :attr:`per_sample_fields` are concatenated on the sample axis; ``ts`` and the
        other fields must agree.  In ``stats``, counts and ``wall_time`` (:data:`SUMMED_STATS`) are
        summed, ``*_per_second`` rates recomputed from the summed wall time, ``first_path`` is the
        first part's, ``n_chunks`` counts the parts, and every other entry must agree.

        Parameters
        ----------
        parts : sequence of Solution
            Results of the same type for paths ``[k_0, k_1), [k_1, k_2), ...`` (each part's
            ``stats["first_path"]``, when present, must follow the previous part).

        Returns
        -------
        Solution
            Of the parts' type.

        Raises
        ------
        ValueError
            If there are no parts, the results are deterministic (``has_samples`` False), or the
            parts disagree on ``ts``, a shared field or a shared stat, or are not consecutive.
        TypeError
            If a part is not of this type.

        Examples
        --------
        >>> import numpy as np
        >>> a = Solution(np.array([0.0, 1.0]), np.zeros((2, 2, 1)), {"n_paths": 2, "first_path": 0})
        >>> b = Solution(np.array([0.0, 1.0]), np.ones((3, 2, 1)), {"n_paths": 3, "first_path": 2})
        >>> c = Solution.concat([a, b])
        >>> c.ys.shape, c.stats
        ((5, 2, 1), {'n_paths': 5, 'first_path': 0, 'n_chunks': 2})
        """
        parts = list(parts)
        if not parts:
            raise ValueError("parts must hold at least one result")
        if not cls.has_samples:
            raise ValueError(f"{cls.__name__} is a deterministic result (no sample axis): it cannot be chunked")
        for p in parts:
            if type(p) is not cls:
                raise TypeError(f"parts must all be {cls.__name__}, got {type(p).__name__}")
        first = parts[0]
        for p in parts[1:]:
            if not _same(first.ts, p.ts):
                raise ValueError("parts have different output times ts")
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name in ("ys", *cls.per_sample_fields):
                values[f.name] = np.concatenate([getattr(p, f.name) for p in parts], axis=0)
            elif f.name == "stats":
                values[f.name] = _merge_stats([p.stats for p in parts], [len(p.ys) for p in parts])
            else:
                shared = getattr(first, f.name)
                if not all(_same(shared, getattr(p, f.name)) for p in parts[1:]):
                    raise ValueError(f"parts have different {f.name}")
                values[f.name] = shared
        return cls(**values)

    def index(self, t: float) -> int:
        """Index of output time ``t`` in :attr:`ts` (relative tolerance 1e-12).

        Raises
        ------
        ValueError
            If ``t`` is not an output time.
        """
        ts = np.asarray(self.ts, dtype=np.float64)
        j = int(np.argmin(np.abs(ts - t)))
        if abs(ts[j] - t) > 1e-12 * max(1.0, abs(float(t))):
            raise ValueError(f"t={t} is not an output time; output times are {ts}")
        return j

    def at(self, t: float) -> NDArray[Any]:
        """States at output time ``t``: ``ys[:, j]`` for Monte-Carlo results, ``ys[j]`` otherwise."""
        j = self.index(t)
        return self.ys[:, j] if self.has_samples else self.ys[j]

    def _extra_repr(self) -> str:
        return ""

    def _ys_dims(self) -> tuple[str, ...]:
        names = self.dims if self.has_samples else self.dims[1:]
        n_state = np.ndim(self.ys) - (2 if self.has_samples else 1)
        lead = names[: 2 if self.has_samples else 1]
        state = list(names[len(lead) :])
        state += [f"{state[-1] if state else 'dim'}_{k}" for k in range(len(state), n_state)]
        return (*lead, *state[:n_state])

    def _coords(self) -> dict[str, NDArray[Any]]:
        """Coordinates of the state axes in :meth:`to_xarray` (none by default)."""
        return {}

    def _arrays(self) -> dict[str, tuple[tuple[str, ...], NDArray[Any]]]:
        out = {"ys": (self._ys_dims(), np.asarray(self.ys))}
        for name, dims in self.field_dims.items():
            value = getattr(self, name)
            if value is not None:
                out[name] = (dims, np.asarray(value))
        return out

    def _metadata(self) -> dict[str, str]:
        meta = {"deeplimits_type": type(self).__name__, "stats_json": _dumps(self.stats)}
        for f in fields(self):
            if f.name not in ("ts", "ys", "stats") and f.name not in self.field_dims:
                meta[f"{f.name}_json"] = _dumps(getattr(self, f.name))
        return meta

    def to_xarray(self) -> Any:
        """The result as an :class:`xarray.Dataset` with named dimensions (needs the ``xarray`` extra).

        ``ys`` becomes the variable ``ys`` with dimensions :attr:`dims` (e.g. ``path, time, dim``)
        and the coordinate ``time`` (or ``layer``, ``depth``) from :attr:`ts`; array fields of a
        subclass become variables too; ``stats`` and other fields are JSON text in the attributes,
        so :meth:`from_xarray` rebuilds the result exactly.

        Examples
        --------
        >>> import numpy as np
        >>> sol = Solution(ts=np.array([0.0, 1.0]), ys=np.zeros((5, 2, 1)), stats={"scheme": "euler"})
        >>> ds = sol.to_xarray()
        >>> dict(ds.sizes), ds["ys"].dims
        ({'path': 5, 'time': 2, 'dim': 1}, ('path', 'time', 'dim'))
        """
        try:
            import xarray as xr
        except ModuleNotFoundError:
            raise ModuleNotFoundError(
                'to_xarray needs xarray: pip install "deeplimits[xarray]"', name="xarray"
            ) from None
        time = self._ys_dims()[1 if self.has_samples else 0]
        coords = {time: np.asarray(self.ts), **self._coords()}
        return xr.Dataset(dict(self._arrays()), coords=coords, attrs=self._metadata())

    @classmethod
    def from_xarray(cls, ds: Any) -> Solution:
        """The result stored by :meth:`to_xarray` (of the type recorded in its attributes)."""
        arrays = {name: np.asarray(ds[name].values) for name in ds.data_vars}
        time = [d for d in ds["ys"].dims if d in ds.coords]
        return _rebuild(cls, dict(ds.attrs), np.asarray(ds.coords[time[0]].values), arrays)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save to ``.npz`` (NumPy only) or ``.nc`` (NetCDF, through :meth:`to_xarray`); returns the path.

        Examples
        --------
        >>> import numpy as np, tempfile, os
        >>> sol = Solution(ts=np.array([0.0, 1.0]), ys=np.arange(4.0).reshape(2, 2, 1), stats={"seed": 3})
        >>> back = Solution.load(sol.save(os.path.join(tempfile.mkdtemp(), "sol.npz")))
        >>> back
        Solution(ts: 2 in [0, 1], ys: (2, 2, 1) float64, stats: seed=3)
        """
        path = Path(path)
        if path.suffix == ".npz":
            arrays = {name: value for name, (_, value) in self._arrays().items()}
            meta = {k: np.array(v) for k, v in self._metadata().items()}
            content: dict[str, Any] = {"ts": np.asarray(self.ts), **arrays, **meta}
            np.savez(path, **content)
        elif path.suffix in (".nc", ".nc4", ".netcdf"):
            self.to_xarray().to_netcdf(path)
        else:
            raise ValueError(f"path must end in .npz or .nc, got {str(path)!r}")
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Solution:
        """Load a result written by :meth:`save` (``.npz`` or ``.nc``), of the type it was saved as."""
        path = Path(path)
        if path.suffix in (".nc", ".nc4", ".netcdf"):
            import xarray as xr

            with xr.open_dataset(path) as ds:
                return cls.from_xarray(ds.load())
        with np.load(path, allow_pickle=False) as z:
            meta = {k: str(z[k]) for k in z.files if k == "deeplimits_type" or k.endswith("_json")}
            arrays = {k: z[k] for k in z.files if k not in meta and k != "ts"}
            return _rebuild(cls, meta, z["ts"], arrays)

    def __repr__(self) -> str:
        ts = np.asarray(self.ts)
        span = f"{ts.size} in [{ts.min():.6g}, {ts.max():.6g}]" if ts.size else "0"
        ys = np.asarray(self.ys)
        keys = ", ".join(
            f"{k}={v!r}" for k, v in self.stats.items() if isinstance(v, (str, int, float, bool)) and len(repr(v)) < 30
        )
        extra = self._extra_repr()
        return (
            f"{type(self).__name__}(ts: {span}, ys: {ys.shape} {ys.dtype}"
            f"{', ' + extra if extra else ''}, stats: {keys})"
        )


def _same(a: Any, b: Any) -> bool:
    """Equality of run metadata: arrays element by element, NaN equal to NaN, containers recursively."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape:
            return False
        nan_ok = a.dtype.kind in "fc" and b.dtype.kind in "fc"
        return bool(np.array_equal(a, b, equal_nan=nan_ok))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)


def _merge_stats(stats: list[dict[str, Any]], sizes: list[int]) -> dict[str, Any]:
    keys = list(stats[0])
    for s in stats[1:]:
        if list(s) != keys:
            raise ValueError(f"parts have different stats keys: {keys} and {list(s)}")
    if "first_path" in keys:
        for prev, s, n in zip(stats, stats[1:], sizes, strict=False):
            if s["first_path"] != prev["first_path"] + n:
                raise ValueError(
                    f"parts are not consecutive: a part of {n} paths from path {prev['first_path']} "
                    f"is followed by one from path {s['first_path']}"
                )
    wall = sum(s["wall_time"] for s in stats) if "wall_time" in keys else None
    out: dict[str, Any] = {}
    for k in keys:
        if k in SUMMED_STATS:
            out[k] = sum(s[k] for s in stats)
        elif k == "first_path":
            out[k] = stats[0][k]
        elif k == "n_chunks":
            continue
        elif k.endswith("_per_second") and wall is not None:
            out[k] = sum(s[k] * s["wall_time"] for s in stats) / max(wall, 1e-12)
        elif all(_same(stats[0][k], s[k]) for s in stats[1:]):
            out[k] = stats[0][k]
        else:
            raise ValueError(f"parts have different stats[{k!r}]: {[s[k] for s in stats]}")
    out["n_chunks"] = sum(int(s.get("n_chunks", 1)) for s in stats)
    return out


def _plain(x: Any) -> Any:
    if is_dataclass(x) and not isinstance(x, type):  # e.g. a KFE grid: its type and its fields
        return {"type": type(x).__name__, **{f.name: getattr(x, f.name) for f in fields(x)}}
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, Path):
        return str(x)
    raise TypeError(f"cannot store a {type(x).__name__} in a saved result")


def _dumps(value: Any) -> str:
    return json.dumps(value, default=_plain)  # NaN and infinities as JSON's NaN/Infinity: read back exactly


def _subclasses(cls: type[Solution]) -> list[type[Solution]]:
    out: list[type[Solution]] = [cls]
    for sub in cls.__subclasses__():
        out += _subclasses(sub)
    return out


def _rebuild(cls: type[Solution], meta: dict[str, Any], ts: NDArray[Any], arrays: dict[str, NDArray[Any]]) -> Any:
    name = str(meta.get("deeplimits_type", cls.__name__))
    kind = next((c for c in _subclasses(Solution) if c.__name__ == name), None)
    if kind is None or not issubclass(kind, cls):
        raise ValueError(f"the file holds a {name}, not a {cls.__name__}")
    values: dict[str, Any] = {"ts": np.asarray(ts), "stats": json.loads(meta["stats_json"])}
    for f in fields(kind):
        if f.name in arrays:
            values[f.name] = arrays[f.name]
        elif f"{f.name}_json" in meta:
            values[f.name] = json.loads(meta[f"{f.name}_json"])
    return kind(**values)
