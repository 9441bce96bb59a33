"""The command line the Makefile calls; usable on its own: ``python -m pipeline <command>``.

Commands::

    boroughs                 list boroughs with an extract in data_raw/
    data [SLUG ...] [--all]  generate missing synthetic extracts (never overwrites real data)
    process SLUG             validate data_raw/SLUG and write data_processed/SLUG
    validate SLUG            check an extract and print a summary; writes nothing
    notebook TARGET NAME     execute notebooks/NAME.py for TARGET into build/TARGET/notebooks/
    publish TARGET           assemble, render and publish reports/TARGET atomically
    report TARGET            process + every notebook + publish (what `make report` does)
    period LABEL             check a reporting period label and print its dates
    london [--all-areas]     compare every borough's reports/*/results.json in reports/london/
    new-borough NAME         scaffold data_raw/<slug>/ for a borough's own data (never overwrites)
    screenshot TARGET        save the first screen of reports/TARGET/index.html as screenshot.png

TARGET is a borough slug (``merton``) or a borough and reporting period (``merton/2023-24``,
``merton/2023-Q2``, ``merton/2023-07``): a period report restricts the activity sections to the
period and is published to reports/<slug>/<period>/.

A data error prints a message naming the file, column, row and value and exits with status 2;
so does a request for something that is not there (an unknown borough, a bad target or period
label): nothing is published. A build step that stops for a stated reason (a notebook failed, an
identifier in the report) prints its message and exits with status 1. Anything else is a bug: it
propagates with its traceback (status 1).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

from . import paths
from .errors import BuildError, DataError, Problem, TargetError
from .periods import PeriodError, parse_period, split_target

EXIT_DATA = 2
EXIT_BUILD = 1


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- boroughs and data

def available_boroughs() -> list[str]:
    """Folders of data_raw/ that hold an extract.yml."""
    if not paths.DATA_RAW.exists():
        return []
    return sorted(p.parent.name for p in paths.DATA_RAW.glob("*/extract.yml") if paths.SLUG_RE.match(p.parent.name))


def unknown_borough_message(slug: str) -> str:
    from .areas import AREAS

    have = available_boroughs()
    synth = sorted(set(AREAS) - set(have))
    lines = [f"Unknown borough '{slug}': there is no data_raw/{slug}/extract.yml and no synthetic area of that name."]
    lines.append("Boroughs with data: " + (", ".join(have) if have else "(none yet)"))
    lines.append("Synthetic areas that can be generated: " + ", ".join(synth))
    lines.append("To bring your own data, see README.md ('Bring your own data').")
    return "\n".join(lines)


def ensure_raw(slug: str) -> Path:
    """data_raw/<slug>, generating the built-in synthetic extract when it is absent."""
    paths.check_slug(slug)
    raw = paths.raw_dir(slug)
    if (raw / "extract.yml").exists():
        return raw
    from .areas import AREAS
    from .synthetic import ensure

    if slug not in AREAS:
        raise TargetError(unknown_borough_message(slug))
    if raw.is_dir() and any(raw.iterdir()):  # never write a synthetic extract over someone's files
        raise DataError(Problem("extract.yml", f"is missing: data_raw/{slug}/ holds files but no extract.yml "
                                "(README.md, 'Bring your own data', says what it needs)"))
    log(f"[{slug}] generating the synthetic extract into data_raw/{slug}/")
    return ensure(slug)


def cmd_data(slugs: list[str], all_areas: bool) -> None:
    from .areas import AREAS

    for slug in (sorted(AREAS) if all_areas else slugs):
        ensure_raw(slug)


# --------------------------------------------------------------------------- process / validate

def process(slug: str) -> Path:
    from .config import SETTINGS_FILE, load_settings
    from .load import load_extract, write_processed

    raw = ensure_raw(slug)
    t0 = time.perf_counter()
    load_settings(raw)  # a bad settings.yml is a data error too
    extract = load_extract(raw)
    out = paths.processed_dir(slug)
    write_processed(extract, out)
    if (raw / SETTINGS_FILE).exists():
        shutil.copy2(raw / SETTINGS_FILE, out / SETTINGS_FILE)
    elif (out / SETTINGS_FILE).exists():
        (out / SETTINGS_FILE).unlink()
    log(f"[{slug}] validated and processed {sum(len(t) for t in extract.tables.values()):,} rows "
        f"in {time.perf_counter() - t0:.1f} s")
    return out


def validate(slug: str) -> int:
    """Print the extract's summary (tables, rows, dates, completeness, sections, problems)."""
    from .validation import format_summary, summarise

    raw = paths.raw_dir(slug)
    if not raw.is_dir():
        from .areas import AREAS

        if slug in AREAS:
            raise TargetError(f"data_raw/{slug}/ does not exist yet, so there is nothing to validate: "
                              f"`make data` (or `make report BOROUGH={slug}`) generates its synthetic extract, "
                              f'and `make new-borough NAME="..."` starts a folder for your own data')
        raise TargetError(unknown_borough_message(slug))
    summary = summarise(raw)
    print(format_summary(summary, slug), flush=True)
    return 0 if summary.ok else EXIT_DATA


# --------------------------------------------------------------------------- notebooks

def notebook_names() -> list[str]:
    return sorted(p.stem for p in paths.NOTEBOOKS.glob("[0-9]*.py"))


def target_dirs(target: str) -> tuple[str, str | None, Path, Path]:
    """(slug, period label, build folder, report folder) for ``slug`` or ``slug/period``."""
    slug, period = split_target(target)
    paths.check_slug(slug)
    label = period.label if period else None
    build = paths.build_dir(slug) / label if label else paths.build_dir(slug)
    report = paths.report_dir(slug) / label if label else paths.report_dir(slug)
    return slug, label, build, report


def stale_notebooks(target: str, changed: list[str]) -> list[str]:
    """The notebooks to (re)run: those whose source changed (``changed`` is Make's ``$?``), whose
    executed copy is missing, or all of them when anything else they share changed (the
    processed extract, the package) or nothing has run yet."""
    names = notebook_names()
    _, _, build, _ = target_dirs(target)
    out_dir = build / "notebooks"
    if not changed or not (out_dir / STAMP).exists():
        return names
    changed_nb = {Path(c).stem for c in changed if Path(c).parent.name == "notebooks" and Path(c).suffix == ".py"}
    if len(changed_nb) < len(changed):
        return names
    return [n for n in names if n in changed_nb or not (out_dir / f"{n}.ipynb").exists()]


STAMP = ".executed"


def run_notebooks(target: str, names: list[str]) -> list[Path]:
    """Execute notebooks for a target in one Jupyter kernel (see :mod:`pipeline.execute`)."""
    from .execute import run_notebooks as execute

    slug, label, build, _ = target_dirs(target)
    known = notebook_names()
    for name in names:
        if name not in known:
            raise TargetError(f"no notebook notebooks/{name}.py (have: {', '.join(known)})")
    params = {
        "borough": slug,
        "processed_dir": str(paths.processed_dir(slug).relative_to(paths.ROOT)),
        "fragments_dir": str((build / "fragments").relative_to(paths.ROOT)),
        "period": label,
    }
    out_dir = build / "notebooks"
    jobs = [(paths.NOTEBOOKS / f"{n}.py", out_dir / f"{n}.ipynb", params) for n in names]
    t0 = time.perf_counter()
    done = execute(jobs, cwd=paths.ROOT, log=log, label=target) if jobs else []
    if done:
        log(f"[{target}] {len(done)} notebook{'s' if len(done) != 1 else ''} in {time.perf_counter() - t0:.1f} s")
    return done


def cmd_notebooks(target: str, changed: list[str]) -> None:
    names = stale_notebooks(target, changed)
    run_notebooks(target, names)
    _, _, build, _ = target_dirs(target)
    stamp = build / "notebooks" / STAMP
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.touch()


# --------------------------------------------------------------------------- publish

def publish(target: str, refresh: bool = False) -> Path:
    """``refresh``: render the published report again (the London comparison's markers), keeping its
    results.json as it is."""
    from .config import load_settings
    from .processed import header
    from .publish import publish_report

    slug, label, build, dest = target_dirs(target)
    processed = paths.processed_dir(slug)
    extract = header(processed)  # its configuration and hash; the scan reads the Parquet (no pandas here)
    settings = load_settings(processed)
    executed = [build / "notebooks" / f"{n}.ipynb" for n in notebook_names()]
    t0 = time.perf_counter()
    period = split_target(target)[1]
    keep = tuple(p.name for p in dest.glob("*") if p.is_dir() and _is_period_label(p.name)) if not label else ()
    results = publish_report(slug, extract, settings, executed, build / "fragments", dest,
                             period=period, keep=keep, processed_dir=processed, refresh=refresh)
    if refresh:
        log(f"[{target}] {dest.relative_to(paths.ROOT)}/index.html now shows the London comparison's markers")
        return dest
    log(f"[{target}] published {dest.relative_to(paths.ROOT)}/ ({results['provenance']['renderer']}, "
        f"{', '.join(results['provenance']['formats'])} + results.json) in {time.perf_counter() - t0:.1f} s")
    from .progress import progress_line

    line = None if label else progress_line(slug)
    if line:
        log(line)
    return dest


def _is_period_label(name: str) -> bool:
    try:
        parse_period(name)
        return True
    except PeriodError:
        return False


def report(target: str) -> Path:
    slug, _ = split_target(target)
    process(slug)
    run_notebooks(target, notebook_names())
    return publish(target)


# --------------------------------------------------------------------------- london

def cmd_london(all_areas: bool) -> int:
    from .london import LondonError, build

    try:
        london = build(all_areas=all_areas, log=log)
    except LondonError as e:
        log(f"error: {e}")
        return EXIT_DATA
    # the borough reports compared show the comparison's markers: render each again (its results.json
    # is kept as it is, so Make sees nothing new); one whose build products are gone, or were made by
    # an older set of notebooks, is left as it is
    for slug in london["boroughs"]:
        _, _, build_dir, dest = target_dirs(slug)
        executed = [build_dir / "notebooks" / STAMP] + [build_dir / "notebooks" / f"{n}.ipynb" for n in notebook_names()]
        if (dest / "results.json").exists() and all(p.exists() for p in executed):
            publish(slug, refresh=True)
        elif (dest / "results.json").exists():
            log(f"[{slug}] left without the London markers: its build is gone or out of date "
                f"(make report BOROUGH={slug} shows them)")
    return 0


# --------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    # the Jupyter kernel is started as "python": make it this interpreter
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    parser = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("boroughs", help="list boroughs with an extract")
    p = sub.add_parser("data", help="generate missing synthetic extracts")
    p.add_argument("slugs", nargs="*")
    p.add_argument("--all", action="store_true", help="every built-in synthetic area")
    for name in ("process", "validate"):
        sub.add_parser(name).add_argument("slug")
    for name in ("publish", "report"):
        sub.add_parser(name).add_argument("slug", metavar="target")
    sub.add_parser("period", help="check a reporting period label").add_argument("label")
    p = sub.add_parser("london", help="compare every borough's published results.json in reports/london/")
    p.add_argument("--all-areas", action="store_true", help="include areas outside London")
    sub.add_parser("new-borough", help="scaffold data_raw/<slug>/ for a borough's own data").add_argument("name")
    sub.add_parser("screenshot", help="save the first screen of a built report").add_argument("slug", metavar="target")
    p = sub.add_parser("notebook", help="execute notebooks for a borough in one kernel")
    p.add_argument("slug", metavar="target")
    p.add_argument("names", nargs="*", help="notebook names (default: all)")
    p = sub.add_parser("notebooks", help="execute a borough's stale notebooks (Make passes $?)")
    p.add_argument("slug", metavar="target")
    p.add_argument("changed", nargs="*", help="prerequisites newer than the last run")
    args = parser.parse_args(argv)
    try:
        if args.cmd == "boroughs":
            print("\n".join(available_boroughs()))
        elif args.cmd == "data":
            cmd_data(args.slugs, args.all)
        elif args.cmd == "process":
            process(args.slug)
        elif args.cmd == "validate":
            return validate(args.slug)
        elif args.cmd == "notebook":
            run_notebooks(args.slug, args.names or notebook_names())
        elif args.cmd == "notebooks":
            cmd_notebooks(args.slug, args.changed)
        elif args.cmd == "publish":
            publish(args.slug)
        elif args.cmd == "report":
            report(args.slug)
        elif args.cmd == "london":
            return cmd_london(args.all_areas)
        elif args.cmd == "new-borough":
            from .scaffold import ScaffoldError, new_borough, next_steps

            try:
                print(next_steps(new_borough(args.name)))
            except ScaffoldError as e:
                log(f"error: {e}")
                return EXIT_DATA
        elif args.cmd == "screenshot":
            from .browser import BrowserError, screenshot

            try:
                out = screenshot(paths.REPORTS / args.slug / "index.html")
            except BrowserError as e:
                log(f"error: {e}")
                return EXIT_BUILD
            log(f"[{args.slug}] saved {out.relative_to(paths.ROOT)}")
        elif args.cmd == "period":
            p = parse_period(args.label)
            print(f"{p.label}: {p.description}, {p.start:%Y-%m-%d} to {p.end:%Y-%m-%d}")
    except DataError as e:
        log(f"error: data_raw/{getattr(args, 'slug', '')}: {e.format()}\nNothing was published.")
        return EXIT_DATA
    except TargetError as e:
        log(f"error: {e}")
        return EXIT_DATA
    except BuildError as e:
        log(f"error: {e}\nNothing was published.")
        return EXIT_BUILD
    return 0


if __name__ == "__main__":
    sys.exit(main())
