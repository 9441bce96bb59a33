"""Activity and participants on the hand-checked tiny extract (tests/fixtures/tiny/README.md)."""

import pytest

from pipeline import paths
from pipeline.analyses import activity
from pipeline.config import DisclosureSettings
from pipeline.disclosure import SDC
from pipeline.load import load_extract

TINY = paths.ROOT / "tests" / "fixtures" / "tiny"


@pytest.fixture(scope="module")
def raw():
    return activity.compute(load_extract(TINY))


def test_raw_activity_matches_hand_counts(raw):
    assert (raw.referrals, raw.patients, raw.patients_seen) == (12, 11, 10)
    assert (raw.contacts_booked, raw.contacts_attended, raw.contacts_dna, raw.contacts_cancelled) == (32, 23, 5, 4)
    assert sorted(raw.waits_days.tolist()) == [0, 2, 4, 7, 7, 7, 7, 8, 14, 14, 14]
    assert len(raw.referrals_by_month) == 24 and sum(raw.referrals_by_month.values()) == 12
    assert raw.referrals_by_month["2022-08"] == 0 and raw.referrals_by_month["2024-02"] == 1


def test_participants_breakdowns(raw):
    assert raw.participants["gender"] == {"female": 6, "male": 4, "not_stated": 1, "other": 1}
    assert raw.participants["age_band"]["25-34"] == 1  # R008, age 29
    assert raw.participants["age_band"]["75-84"] == 1 and "85+" not in raw.participants["age_band"]
    assert raw.participants["imd_decile"]["1"] == 2
    assert sum(raw.participants["referral_reason"].values()) == 12


def test_published_exact_when_control_is_off(raw):
    out = activity.publish(raw, SDC(DisclosureSettings(enabled=False)))
    assert out["dna_or_cancelled_pct"] == 28.1
    assert out["mean_attended_contacts_per_patient_seen"] == 2.3
    assert out["median_days_referral_to_first_contact"] == 7.0


def test_published_with_default_control_hides_small_numbers(raw):
    sdc = SDC(DisclosureSettings())
    out = activity.publish(raw, sdc.scoped("activity"))
    assert out["referrals"] == 10 and out["patients"] == 10 and out["patients_seen"] == 10
    assert out["contacts_booked"] == 30 and out["contacts_attended"] == 25
    # 9 missed of 32 booked -> rounded 10 of 30
    assert out["dna_or_cancelled_pct"] == 33.3
    assert all(v in (0, None) for v in out["referrals_by_month"].values())
    assert "activity.referrals_by_month.2022-04" in sdc.suppressed
    assert out["participants"]["gender"]["female"] is None


def test_age_bands_follow_the_merton_dashboard():
    import pandas as pd

    bands = activity.age_band(pd.Series([0, 14, 15, 18, 19, 24, 25, 54, 84, 85, 120], dtype="Int64"))
    assert bands.tolist() == ["0-14", "0-14", "15-18", "15-18", "19-24", "19-24", "25-34", "45-54", "75-84", "85+", "85+"]
