"""95% confidence intervals cover the planted truth about 95% of the time (a reduced run of
``bench/coverage.py``; the full run uses 400+ replicates and targets 93-97%).

With R replicates the coverage estimate has SE sqrt(0.95 * 0.05 / R); for R = 300 that is
1.26 points, so the tolerance 95% +/- 3.5 points is about 2.8 SE (and seeds are fixed, so the
result is deterministic)."""

import importlib.util
from pathlib import Path

import pytest

REPS = 300
TOL = 0.035


def _bench():
    path = Path(__file__).resolve().parent.parent / "bench" / "coverage.py"
    spec = importlib.util.spec_from_file_location("bench_coverage", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow
def test_ons4_mean_change_ci_coverage():
    r = _bench().ons4_coverage(reps=REPS)
    assert abs(r["coverage"] - 0.95) <= TOL, r


@pytest.mark.slow
def test_cif_30d_ci_coverage():
    r = _bench().cif_coverage(reps=REPS)
    assert abs(r["coverage"] - 0.95) <= TOL, r
    assert abs(r["death_90d"]["coverage"] - 0.95) <= TOL, r


@pytest.mark.slow
def test_workforce_wild_bootstrap_ci_coverage():
    """The workforce regression with 6 PCNs: the wild-cluster-bootstrap interval it publishes covers
    the planted FTE coefficient at about the nominal 95%."""
    r = _bench().wcb_coverage(reps=REPS)
    assert r["unbounded"] == 0 and abs(r["coverage"] - 0.95) <= TOL, r


def test_ons4_truth_by_enumeration_is_sane():
    b = _bench()
    # without clipping the mean latent change is sum(v * p)
    # = -3(.04) - 2(.08) - 1(.16) + 1(.22) + 2(.14) + 3(.08) + 4(.04) = 0.46; clipping at 0 and 10 pulls it in
    raw_mean = float((b.CHANGE_VALUES * b.CHANGE_PROBS).sum())
    assert raw_mean == pytest.approx(0.46)
    assert 0.4 < b.ons4_truth() < raw_mean
