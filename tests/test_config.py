"""Settings: defaults, per-borough overrides, and clear errors for bad values."""

import pytest

from pipeline.config import load_settings
from pipeline.errors import ConfigError


def test_defaults_hold_the_contract_targets():
    s = load_settings()
    diab = {t.name: t for t in s.targets.cohorts["diabetes"]}
    assert diab["hba1c"].op == "<=" and diab["hba1c"].value == 58
    assert diab["cholesterol"].op == "<" and diab["cholesterol"].value == 5
    assert diab["blood_pressure"].systolic_max == 140 and diab["blood_pressure"].diastolic_max == 80
    assert len(s.targets.cohorts["severe_mental_illness"]) == 4
    assert s.disclosure.min_count == 8 and s.disclosure.rounding == 5


def test_borough_override_merges_key_by_key(tmp_path):
    (tmp_path / "settings.yml").write_text("report:\n  title: Kingston SP review\ndisclosure:\n  rounding: 10\n")
    s = load_settings(tmp_path)
    assert s.report.title == "Kingston SP review"
    assert s.disclosure.rounding == 10
    assert s.disclosure.min_count == 8  # untouched keys keep the default


@pytest.mark.parametrize("text,where", [
    ("disclosure:\n  rounding: -5\n", "disclosure.rounding"),
    ("disclosure:\n  enabled: perhaps\n", "disclosure.enabled"),
    ("hospital:\n  bed_day_tarif_gbp: 400\n", "hospital.bed_day_tarif_gbp"),
    ("targets:\n  cohorts:\n    diabetes:\n      - {name: hba1c, measure: hba1c, op: '<='}\n", "targets.cohorts.diabetes.0"),
])
def test_bad_override_names_file_and_key(tmp_path, text, where):
    (tmp_path / "settings.yml").write_text(text)
    with pytest.raises(ConfigError) as e:
        load_settings(tmp_path)
    msg = str(e.value)
    assert "settings.yml" in msg and where in msg


def test_invalid_yaml_is_a_message(tmp_path):
    (tmp_path / "settings.yml").write_text("report: [unclosed\n")
    with pytest.raises(ConfigError, match="settings.yml: is not valid YAML"):
        load_settings(tmp_path)
