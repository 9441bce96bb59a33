"""Publishing a folder atomically: everything is written into a staging folder beside the
destination, then swapped into place in one step, so a reader (or a failed build) never sees a
half-written report. Used by the borough reports (:mod:`pipeline.publish`) and the London
comparison (:mod:`pipeline.london`)."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import tempfile
from pathlib import Path

RENAME_EXCHANGE = 2  # renameat2 flag: swap the two paths


def exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2 RENAME_EXCHANGE). False when unsupported."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    AT_FDCWD = -100
    res = fn(AT_FDCWD, os.fsencode(str(a)), AT_FDCWD, os.fsencode(str(b)), RENAME_EXCHANGE)
    return res == 0


def swap_into_place(staged: Path, dest: Path, keep: tuple[str, ...] = ()) -> None:
    """Replace ``dest`` by ``staged`` in one step; ``keep`` names subfolders of the old report to
    carry over (e.g. period reports published separately)."""
    if dest.exists():
        for name in keep:
            if (dest / name).exists() and not (staged / name).exists():
                shutil.copytree(dest / name, staged / name)
        if exchange(staged, dest):
            shutil.rmtree(staged)  # staged now holds the old report
            return
        old = dest.with_name(f".old-{dest.name}-{os.getpid()}")
        os.rename(dest, old)
        os.rename(staged, dest)
        shutil.rmtree(old)
    else:
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.rename(staged, dest)


def staging_dir(dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=f".tmp-{dest.name}-", dir=dest.parent))
    staged.chmod(0o755)  # mkdtemp makes it private; a published report is readable
    return staged
