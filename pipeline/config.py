"""Project settings: ``config/defaults.yml`` merged with an optional per-borough override
``data_raw/<borough>/settings.yml``, validated at load with clear errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from . import paths
from .errors import ConfigError, Problem
from .measures import CLINICAL_MEASURE_RANGES

SETTINGS_FILE = "settings.yml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReportSettings(_Strict):
    title: str = "Social prescribing evaluation"
    organisation: str = "Social prescribing service"


class DisclosureSettings(_Strict):
    enabled: bool = True
    min_count: int = Field(8, ge=1)
    rounding: int = Field(5, ge=1)
    min_base: int = Field(8, ge=1)
    pct_decimals: int = Field(1, ge=0, le=4)


class Target(_Strict):
    """One clinical target. Either a single-measure comparison (``measure``, ``op``, ``value``)
    or the same-day blood pressure pair (``kind: blood_pressure``)."""

    name: str
    kind: Literal["measure", "blood_pressure"] = "measure"
    measure: str | None = None
    op: Literal["<", "<=", "==", ">=", ">"] | None = None
    value: float | None = None
    systolic_max: float | None = None
    diastolic_max: float | None = None

    @model_validator(mode="after")
    def _complete(self) -> "Target":
        if self.kind == "measure":
            if self.measure is None or self.op is None or self.value is None:
                raise ValueError(f"target {self.name!r} needs measure, op and value")
            if self.measure not in CLINICAL_MEASURE_RANGES:
                raise ValueError(f"target {self.name!r}: unknown measure {self.measure!r} "
                                 f"(one of {', '.join(CLINICAL_MEASURE_RANGES)})")
        elif self.systolic_max is None or self.diastolic_max is None:
            raise ValueError(f"blood pressure target {self.name!r} needs systolic_max and diastolic_max")
        return self


class TargetSettings(_Strict):
    window_days: int = Field(365, ge=1)
    cohorts: dict[Literal["diabetes", "severe_mental_illness"], list[Target]]
    small_band_warning: int = Field(30, ge=0)

    @model_validator(mode="after")
    def _names_unique(self) -> "TargetSettings":
        for cohort, targets in self.cohorts.items():
            names = [t.name for t in targets]
            if not targets or len(set(names)) != len(names):
                raise ValueError(f"cohort {cohort!r} needs at least one target and unique target names")
        return self


class GPSettings(_Strict):
    window_days: int = Field(91, ge=1)
    quarters: list[int] = [1, 2, 3, 4]
    # the patient-level model and the matched comparison (pipeline/analyses/gp_appointments/)
    event_quarters: tuple[int, int] = (-8, 4)  # first and last quarter of the event study
    reference_quarter: int = -4
    baseline_window_days: tuple[int, int] = (-365, -183)  # DiD "before": days relative to the index date
    match_window_days: tuple[int, int] = (-547, -366)  # GP use matched on: before, and apart from, the DiD "before"
    after_window_days: tuple[int, int] = (1, 365)
    min_after_days: int = Field(91, ge=1)
    match_age_bands: list[int] = [0, 18, 30, 40, 50, 60, 70, 80]  # lower edges
    match_baseline_use_bins: list[int] = [0, 1, 2, 3, 5, 8]  # lower edges of baseline appointment counts
    matches_per_patient: int = Field(3, ge=1)
    match_seed: int = 20240401

    @model_validator(mode="after")
    def _windows(self) -> "GPSettings":
        if not self.quarters or any(k < 1 for k in self.quarters):
            raise ValueError("quarters must be whole numbers of quarters, 1 or more")
        lo, hi = self.event_quarters
        if not (lo < 0 < hi):
            raise ValueError("event_quarters must run from a negative to a positive quarter")
        if not (lo <= self.reference_quarter <= hi) or self.reference_quarter == 0:
            raise ValueError("reference_quarter must be a non-zero quarter inside event_quarters")
        b0, b1 = self.baseline_window_days
        if not (b0 <= b1 < 0):
            raise ValueError("baseline_window_days must be (first, last) days before the index date, first <= last < 0")
        m0, m1 = self.match_window_days
        if not (m0 <= m1 < 0):
            raise ValueError("match_window_days must be (first, last) days before the index date, first <= last < 0")
        a0, a1 = self.after_window_days
        if not (0 < a0 <= a1):
            raise ValueError("after_window_days must be (first, last) days after the index date, 0 < first <= last")
        for name in ("match_age_bands", "match_baseline_use_bins"):
            e = getattr(self, name)
            if not e or e[0] != 0 or any(x >= y for x, y in zip(e[:-1], e[1:], strict=True)):
                raise ValueError(f"{name} must start at 0 and increase")
        return self


class ReadmissionSettings(_Strict):
    horizons_days: list[int] = [14, 30, 90]
    benchmark_30d_pct: float | None = Field(12.6, ge=0, le=100)


class WellbeingSettings(_Strict):
    min_days_between: int = Field(28, ge=0)


class HospitalSettings(_Strict):
    bed_day_tariff_gbp: float = Field(865, ge=0)
    budget_bins_gbp: list[float] = [0, 50, 100, 250, 500, 1000]
    regression_year: Literal["financial", "calendar"] = "financial"
    regression_min_pcns: int = Field(2, ge=2)
    regression_min_quarters: int = Field(8, ge=2)

    @model_validator(mode="after")
    def _bins_increase(self) -> "HospitalSettings":
        b = self.budget_bins_gbp
        if not b or b[0] != 0 or any(x >= y for x, y in zip(b[:-1], b[1:], strict=True)):
            raise ValueError("budget_bins_gbp must start at 0 and increase")
        return self


class Settings(_Strict):
    report: ReportSettings = ReportSettings()
    disclosure: DisclosureSettings = DisclosureSettings()
    targets: TargetSettings
    gp_appointments: GPSettings = GPSettings()
    readmission: ReadmissionSettings = ReadmissionSettings()
    wellbeing: WellbeingSettings = WellbeingSettings()
    hospital: HospitalSettings = HospitalSettings()


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig")) or {}
    except yaml.YAMLError as e:
        raise ConfigError(Problem(file=path.name, message=f"is not valid YAML: {e}")) from None
    if not isinstance(data, dict):
        raise ConfigError(Problem(file=path.name, message="must be a mapping of settings"))
    return data


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Override mappings key by key; lists and scalars are replaced whole."""
    out = dict(base)
    for k, v in override.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def load_settings(borough_dir: Path | None = None, defaults: Path | None = None) -> Settings:
    """Defaults merged with ``<borough_dir>/settings.yml`` when it exists."""
    defaults = defaults or paths.CONFIG / "defaults.yml"
    data = _read_yaml(defaults)
    source = defaults.name
    if borough_dir is not None and (borough_dir / SETTINGS_FILE).exists():
        data = deep_merge(data, _read_yaml(borough_dir / SETTINGS_FILE))
        source = SETTINGS_FILE
    try:
        return Settings.model_validate(data)
    except ValidationError as e:
        problems = [
            Problem(
                file=source,
                column=".".join(str(p) for p in err["loc"]),
                message=f"{err['msg']} (got {err.get('input')!r})",
            )
            for err in e.errors()
        ]
        raise ConfigError(problems) from None
