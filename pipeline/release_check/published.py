"""A published report as any reader gets it: ``results.json``, ``index.html``, the executed
notebooks, and the period sub-reports published inside it (``reports/<b>/<period>/``).

Nothing here reads processed data or imports the code that made the report: the attacks see
exactly what a member of the public sees.

JSON paths are tuples of keys (a list index is an int) and are shown dotted, ``a.b[2].c``.
A *pattern* is a dotted string whose segments are literal keys, ``*`` (any key, collected) or
``{name}`` (any key, bound to ``name`` and substituted into related patterns).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Path_ = tuple[Any, ...]
MISSING = object()  # a path the report does not have (different from a published null)


@dataclass
class Published:
    """One published report (the whole report, or one period sub-report)."""

    folder: Path
    results: dict[str, Any]
    label: str = ""  # "" for the whole report, the period label ("2023-24") for a sub-report
    html: str = ""
    notebooks: dict[str, dict[str, Any]] = field(default_factory=dict)  # file name -> notebook JSON
    files: dict[str, str] = field(default_factory=dict)  # other published text (CSV tables): name -> text
    periods: list[Published] = field(default_factory=list)

    def file(self, name: str = "results.json") -> str:
        """A published file's name as the verdict shows it (period files under their folder)."""
        return f"{self.label}/{name}" if self.label else name

    def every(self) -> list[Published]:
        """This report and its period sub-reports."""
        return [self, *self.periods]


def load(folder: Path | str) -> Published:
    """Read a published report folder (and its period sub-reports)."""
    folder = Path(folder)
    report = _load_one(folder, "")
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and (p / "results.json").is_file()):
        report.periods.append(_load_one(sub, sub.name))
    return report


def from_results(results: dict[str, Any], periods: dict[str, dict[str, Any]] | None = None) -> Published:
    """A report made of ``results.json`` dicts alone (no HTML, no notebooks): what the unit
    tests attack."""
    report = Published(Path("."), results)
    report.periods = [Published(Path(label), r, label) for label, r in sorted((periods or {}).items())]
    return report


def _load_one(folder: Path, label: str) -> Published:
    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    html_file = folder / "index.html"
    html = html_file.read_text(encoding="utf-8", errors="replace") if html_file.is_file() else ""
    notebooks = {}
    for nb in sorted((folder / "notebooks").glob("*.ipynb")) if (folder / "notebooks").is_dir() else []:
        notebooks[nb.name] = json.loads(nb.read_text(encoding="utf-8"))
    subreports = {p.parent for p in folder.glob("*/results.json")}
    files = {str(f.relative_to(folder)): f.read_text(encoding="utf-8", errors="replace")
             for f in sorted(folder.rglob("*.csv")) if not any(s in f.parents for s in subreports)}
    return Published(folder, results, label, html, notebooks, files)


# ---------------------------------------------------------------------------------- paths

def show(path: Path_) -> str:
    out = ""
    for k in path:
        out += f"[{k}]" if isinstance(k, int) else (f".{k}" if out else str(k))
    return out


def get(obj: Any, path: Path_) -> Any:
    """The value at ``path``, or :data:`MISSING`."""
    for k in path:
        if isinstance(obj, dict) and k in obj:
            obj = obj[k]
        elif isinstance(obj, list) and isinstance(k, int) and 0 <= k < len(obj):
            obj = obj[k]
        else:
            return MISSING
    return obj


def _children(obj: Any) -> Iterator[tuple[Any, Any]]:
    if isinstance(obj, dict):
        yield from obj.items()
    elif isinstance(obj, list):
        yield from enumerate(obj)


def segments(pattern: str) -> list[str]:
    return pattern.split(".")


def match(obj: Any, pattern: str, bound: dict[str, Any] | None = None) -> Iterator[tuple[dict[str, Any], Path_, Any]]:
    """Every (bindings, path, value) that ``pattern`` matches in ``obj``.

    ``*`` matches any key (its keys are reported in the bindings under ``"*"``, as a tuple);
    ``{name}`` matches any key unless ``bound`` already gives it."""
    bound = dict(bound or {})

    def walk(o: Any, segs: list[str], path: Path_, b: dict[str, Any]) -> Iterator[tuple[dict[str, Any], Path_, Any]]:
        if not segs:
            yield b, path, o
            return
        s, rest = segs[0], segs[1:]
        if s == "*" or (s.startswith("{") and s.endswith("}") and s[1:-1] not in b):
            for k, v in _children(o):
                nb = dict(b)
                if s == "*":
                    nb["*"] = nb.get("*", ()) + (k,)
                else:
                    nb[s[1:-1]] = k
                yield from walk(v, rest, path + (k,), nb)
            return
        key: Any = b[s[1:-1]] if s.startswith("{") and s.endswith("}") else s
        if isinstance(o, list) and isinstance(key, str) and key.isdigit():
            key = int(key)
        v = get(o, (key,))
        if v is not MISSING:
            yield from walk(v, rest, path + (key,), b)

    yield from walk(obj, segments(pattern), (), bound)


def one(obj: Any, pattern: str, bound: dict[str, Any]) -> tuple[Path_, Any]:
    """The single path ``pattern`` names once ``bound`` is substituted, and its value
    (:data:`MISSING` when absent)."""
    path: list[Any] = []
    o = obj
    for s in segments(pattern):
        key: Any = bound[s[1:-1]] if s.startswith("{") and s.endswith("}") else s
        if key == "*":
            raise ValueError(f"pattern {pattern!r} names more than one path")
        if isinstance(o, list) and isinstance(key, str) and key.isdigit():
            key = int(key)
        path.append(key)
        o = MISSING if o is MISSING else get(o, (key,))
    return tuple(path), o
