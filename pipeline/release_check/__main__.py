"""``python -m pipeline.release_check <folder-or-slug>``: the release check behind
``make check-release BOROUGH=x``. Prints the verdict; exit status 0 for PASS, 1 for FAIL, 2 when
there is no published report to check."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import paths
from .published import load
from .verdict import run, scan_identifiers


def _folder(arg: str) -> Path | None:
    p = Path(arg)
    if (p / "results.json").is_file():
        return p
    if paths.SLUG_RE.match(arg) and (paths.report_dir(arg) / "results.json").is_file():
        return paths.report_dir(arg)
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pipeline.release_check",
                                 description="Attack a published report as a reader would; PASS or FAIL.")
    ap.add_argument("report", help="a published report folder (reports/merton) or a borough slug (merton)")
    ap.add_argument("--processed", help="processed extract for the identifier scan (default data_processed/<slug>/)")
    ap.add_argument("--no-identifier-scan", action="store_true",
                    help="skip the identifier scan (the verdict says so); for a report checked away from its data")
    ap.add_argument("--verbose", action="store_true", help="also list catalogue relations that were set aside")
    args = ap.parse_args(argv)
    folder = _folder(args.report)
    if folder is None:
        print(f"release check: no published report at {args.report!r} (expected a folder with results.json, "
              "or a borough slug with reports/<slug>/results.json; build it with make report)", file=sys.stderr)
        return 2
    report = load(folder)
    verdict = run(report)
    if args.no_identifier_scan:
        verdict.scan_note = "skipped (--no-identifier-scan)"
    else:
        slug = folder.name if folder.resolve().parent == paths.REPORTS.resolve() else str(report.results.get("borough"))
        processed = Path(args.processed) if args.processed else paths.processed_dir(slug)
        scan_identifiers(verdict, folder, processed)
        if verdict.identifiers is None:
            verdict.scan_note = ""
            print(f"release check: no processed extract at {processed}/ to scan for identifiers "
                  "(run make report first, or pass --processed or --no-identifier-scan)", file=sys.stderr)
    print(verdict.text(verbose=args.verbose))
    return 0 if verdict.passed else 1


if __name__ == "__main__":
    sys.exit(main())
