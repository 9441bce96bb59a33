"""``extract.yml``: an extract's configuration (borough, ONS code, extract period, registered
population, optional target, benchmark, date format), read and checked with a message for every
invalid or missing key."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError, Problem
from .extract import ExtractConfig
from .paths import SLUG_RE

CONFIG_FILE = "extract.yml"
#: the date format of an extract that gives none
ISO_DATE = "%Y-%m-%d"

_ONS_CODE = re.compile(r"^[EWSN][0-9]{8}$")
_ISO_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_KNOWN_KEYS = (
    "borough",
    "ons_code",
    "extract_start",
    "extract_end",
    "registered_population",
    "referral_target_monthly",
    "readmission_benchmark_30d_pct",
    "date_format",
    "synthetic",
)


class _TextDateLoader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text, so an impossible date gets a clear message."""


_TextDateLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _as_date(v: Any) -> date | None:
    if isinstance(v, datetime):
        return None
    if isinstance(v, date):
        return v
    if isinstance(v, str) and _ISO_DATE_RE.match(v.strip()):
        try:
            return date.fromisoformat(v.strip())
        except ValueError:
            return None
    return None


def human_date_format(fmt: str) -> str:
    """``%d/%m/%Y`` -> ``DD/MM/YYYY``, for messages."""
    for a, b in (("%Y", "YYYY"), ("%y", "YY"), ("%m", "MM"), ("%d", "DD"), ("%b", "Mon"), ("%B", "Month")):
        fmt = fmt.replace(a, b)
    return fmt


def _check_date_format(fmt: str) -> bool:
    probe = date(2021, 4, 30)
    try:
        text = probe.strftime(fmt)
        return datetime.strptime(text, fmt).date() == probe
    except (ValueError, TypeError):
        return False


def read_extract_config(raw_dir: Path) -> ExtractConfig:
    """Parse and validate ``<raw_dir>/extract.yml``. The slug is the folder name.

    Raises :class:`~pipeline.errors.ConfigError` listing every invalid or missing key (file
    ``extract.yml``, the key as the column).
    """
    raw_dir = Path(raw_dir)
    path = raw_dir / CONFIG_FILE
    slug = raw_dir.name
    if not path.is_file():
        raise ConfigError(Problem(file=CONFIG_FILE, message=f"is missing: every extract folder needs one ({raw_dir})"))
    try:
        data = yaml.load(path.read_text(encoding="utf-8-sig"), Loader=_TextDateLoader)  # noqa: S506
    except UnicodeDecodeError:
        raise ConfigError(Problem(file=CONFIG_FILE, message="is not UTF-8 text")) from None
    except (yaml.YAMLError, ValueError) as e:
        raise ConfigError(Problem(file=CONFIG_FILE, message=f"is not valid YAML: {e}")) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(Problem(file=CONFIG_FILE, message="must be a list of 'key: value' settings"))

    problems: list[Problem] = []

    def bad(key: str, message: str, value: Any = None, show: bool = True) -> None:
        problems.append(
            Problem(
                file=CONFIG_FILE, column=key, message=message, values=(value,) if show and value is not None else ()
            )
        )

    if not SLUG_RE.match(slug):
        problems.append(
            Problem(
                file=CONFIG_FILE,
                column="folder name",
                message=f"the folder name {slug!r} is not a valid borough slug: use lower-case letters, "
                "digits and '-' only (e.g. barking-and-dagenham)",
            )
        )
    for key in ("borough", "ons_code", "extract_start", "extract_end", "registered_population"):
        if data.get(key) is None:
            bad(key, "is missing: this key is required")

    borough = data.get("borough")
    if borough is not None and (not isinstance(borough, str) or not borough.strip()):
        bad("borough", "must be the borough's display name (text)", borough)
    ons = data.get("ons_code")
    if ons is not None and (not isinstance(ons, str) or not _ONS_CODE.match(ons.strip())):
        bad("ons_code", "must be an ONS area code: a letter E, W, S or N then 8 digits, e.g. E09000024", ons)

    dates: dict[str, date | None] = {}
    for key in ("extract_start", "extract_end"):
        v = data.get(key)
        if v is None:
            continue
        d = _as_date(v)
        if d is None:
            bad(key, "must be a date written YYYY-MM-DD, e.g. 2021-04-01", v)
        dates[key] = d
    start, end = dates.get("extract_start"), dates.get("extract_end")
    if start and end and end < start:
        bad("extract_end", f"is before extract_start ({start.isoformat()})", end.isoformat())

    pop = data.get("registered_population")
    if pop is not None and not (isinstance(pop, int) and not isinstance(pop, bool) and pop > 0):
        bad("registered_population", "must be a positive whole number (no commas), e.g. 215000", pop)

    target = data.get("referral_target_monthly")
    target_t: tuple[int, int] | None = None
    if target is not None:
        if (
            isinstance(target, (list, tuple))
            and len(target) == 2
            and all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in target)
        ):
            if target[0] > target[1]:
                bad(
                    "referral_target_monthly", "must be [lower, upper] with lower no more than upper", str(list(target))
                )
            else:
                target_t = (int(target[0]), int(target[1]))
        else:
            bad("referral_target_monthly", "must be two whole numbers [lower, upper], e.g. [120, 160]", str(target))

    bench = data.get("readmission_benchmark_30d_pct")
    if bench is not None and not (_is_number(bench) and 0 <= bench <= 100):
        bad("readmission_benchmark_30d_pct", "must be a percentage between 0 and 100", bench)

    fmt = data.get("date_format")
    if fmt is not None and not (isinstance(fmt, str) and _check_date_format(fmt)):
        bad("date_format", 'must be a date format with day, month and year, e.g. "%d/%m/%Y" or "%Y-%m-%d"', fmt)

    synthetic = data.get("synthetic", False)
    if synthetic is None:
        synthetic = False
    if not isinstance(synthetic, bool):
        bad("synthetic", "must be true or false", synthetic)

    if problems:
        raise ConfigError(problems)
    extra = {k: v for k, v in data.items() if k not in _KNOWN_KEYS}
    return ExtractConfig(
        slug=slug,
        borough=borough.strip(),
        ons_code=ons.strip(),
        extract_start=start,  # type: ignore[arg-type]
        extract_end=end,  # type: ignore[arg-type]
        registered_population=int(pop),
        referral_target_monthly=target_t,
        readmission_benchmark_30d_pct=float(bench) if bench is not None else None,
        date_format=fmt,
        synthetic=bool(synthetic),
        extra=extra,
    )

