"""results.json assembly, the identifier scan and atomic publishing."""

import hashlib
import json

import pytest
from conftest import make_executed_notebook

from pipeline import publish as pub
from pipeline.config import load_settings
from pipeline.render import RenderError
from pipeline.sections import SNAPSHOT


def _tree_hash(folder):
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        h.update(str(p.relative_to(folder)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


@pytest.fixture
def build(tmp_path, monkeypatch):
    monkeypatch.setattr(pub, "code_version", lambda: "test-1")
    monkeypatch.setattr("pipeline.render.quarto_path", lambda: None)
    nbs = [make_executed_notebook(tmp_path / "20_activity.ipynb", "Activities")]
    frags = tmp_path / "fragments"
    frags.mkdir()
    (frags / "activity.json").write_text(json.dumps(
        {"section": "activity", "status": "ok", "data": {"referrals": 10}, "suppressed": ["activity.x"]}))
    (frags / "wellbeing.json").write_text(json.dumps(
        {"section": "wellbeing", "status": "not_run", "reason": "this extract has no `outcome_measures` table"}))
    # the registry as the notebook stage saw it: the contract's five sections and one more
    declared = {name: {"title": name, "notebook": f"{order}_{name}", "order": order, "contract": True}
                for order, name in ((20, "activity"), (40, "wellbeing"), (50, "targets"), (60, "gp_appointments"),
                                    (70, "readmission"))}
    declared["data_quality"] = {"title": "Data quality", "notebook": "90_data_quality", "order": 90,
                                "contract": False}
    (frags / SNAPSHOT).write_text(json.dumps(declared))
    return nbs, frags, tmp_path / "reports" / "tiny"


def test_results_json_follows_the_contract(build, small_extract):
    nbs, frags, dest = build
    res = pub.publish_report("tiny", small_extract, load_settings(), nbs, frags, dest)
    on_disk = json.loads((dest / "results.json").read_text())
    assert on_disk == res
    assert on_disk["contract_version"] == 1 and on_disk["borough"] == "tiny"
    assert on_disk["extract"] == {"start": "2022-04-01", "end": "2024-03-31", "sha256": "0" * 64}
    assert on_disk["code_version"] == "test-1"
    assert on_disk["activity"] == {"referrals": 10}
    assert on_disk["wellbeing"] == {"status": "not_run", "reason": "this extract has no `outcome_measures` table"}
    for section in ("targets", "gp_appointments", "readmission", "data_quality"):
        assert on_disk[section]["status"] == "not_run" and on_disk[section]["reason"]
    # the contract's sections in report order, then the others by name, all from the registry's snapshot
    keys = list(on_disk)
    assert keys[keys.index("activity"):keys.index("data_quality") + 1] == [
        "activity", "wellbeing", "targets", "gp_appointments", "readmission", "data_quality"]
    assert on_disk["suppressed"] == ["activity.x"]
    assert on_disk["disclosure"]["enabled"] is True and "not_estimable" in on_disk
    prov = on_disk["provenance"]
    assert prov["renderer"].startswith("nbconvert") and prov["package_versions"]["pandas"]
    assert (dest / "index.html").exists() and (dest / "notebooks" / "20_activity.ipynb").exists()
    assert "SYNTHETIC DATA" in (dest / "index.html").read_text()


def test_two_builds_are_identical_apart_from_build_time(build, small_extract):
    nbs, frags, dest = build
    first = pub.publish_report("tiny", small_extract, load_settings(), nbs, frags, dest)
    html1 = (dest / "index.html").read_text().split("Built")[0]
    second = pub.publish_report("tiny", small_extract, load_settings(), nbs, frags, dest)
    for r in (first, second):
        r["provenance"].pop("build_time")
    assert first == second
    assert (dest / "index.html").read_text().split("Built")[0] == html1


@pytest.mark.parametrize("failure", [RenderError("renderer broke"), KeyboardInterrupt()])
def test_failed_or_interrupted_build_leaves_previous_report_byte_identical(build, small_extract, monkeypatch, failure):
    nbs, frags, dest = build
    pub.publish_report("tiny", small_extract, load_settings(), nbs, frags, dest)
    before = _tree_hash(dest)

    def broken(*a, **k):
        raise failure

    monkeypatch.setattr(pub, "render", broken)
    with pytest.raises(type(failure)):
        pub.publish_report("tiny", small_extract, load_settings(), nbs, frags, dest)
    assert _tree_hash(dest) == before
    assert not [p for p in dest.parent.iterdir() if p.name.startswith(".tmp-")], "staging folder left behind"


def test_identifier_in_output_stops_publication(build, small_extract, tmp_path):
    nbs, frags, dest = build
    leaky = make_executed_notebook(tmp_path / "30_leak.ipynb", "Leak", body_html="<td>P0000002</td>")
    with pytest.raises(pub.PublishError, match="P0000002"):
        pub.publish_report("tiny", small_extract, load_settings(), nbs + [leaky], frags, dest)
    assert not dest.exists()


def test_swap_keeps_named_subfolders(tmp_path):
    dest = tmp_path / "r"
    (dest / "2023-24").mkdir(parents=True)
    (dest / "2023-24" / "results.json").write_text("{}")
    (dest / "old.txt").write_text("old")
    staged = tmp_path / "s"
    staged.mkdir()
    (staged / "new.txt").write_text("new")
    pub.swap_into_place(staged, dest, keep=("2023-24",))
    assert sorted(p.name for p in dest.iterdir()) == ["2023-24", "new.txt"]
    assert not staged.exists()


def test_identifier_scan_finds_the_same_ids_in_memory_and_in_the_processed_parquet(tmp_path, monkeypatch):
    """The scan goes from the published tokens to the extract. Read from the processed Parquet
    (what ``make report`` does, a column and a batch at a time) or from the tables in memory, it
    finds exactly the tokens the independent check in tests/scan.py finds in the raw CSVs: ids in
    any table, and 10-digit numbers that are a whole text value, but not other text."""
    import pandas as pd
    from scan import input_identifiers

    from pipeline import load, synthetic
    from pipeline import processed as processed_mod

    raw = synthetic.generate("city-of-london", tmp_path / "city-of-london", n_referrals=300)
    sign = pd.read_csv(raw / "signposting.csv", dtype=str, keep_default_na=False)
    sign.loc[3, "service_name"] = "1234567890"  # a 10-digit number as a whole text value
    sign.to_csv(raw / "signposting.csv", index=False)
    extract = load.load_extract(raw)
    monkeypatch.setattr(processed_mod, "SCAN_BATCH_ROWS", 1000)  # several batches per table
    processed = load.write_processed(extract, tmp_path / "processed")
    tables = extract.tables
    tokens = {tables["gp_appointments"]["patient_id"].iloc[-1], tables["outcome_measures"]["referral_id"].iloc[0],
              tables["referrals"]["patient_id"].iloc[7], "1234567890",
              tables["referrals"]["practice_code"].dropna().iloc[0], tables["sp_contacts"]["contact_type"].dropna().iloc[0],
              "Merton", "rf-NOTANID1", "9999999999"}
    expected = tokens & input_identifiers(raw)
    assert len(expected) == 4  # three ids and the 10-digit service name
    assert pub.identifiers_among(tokens, extract) == expected
    header = load.read_processed(processed, tables=())
    assert header.tables == {} and header.sha256 == extract.sha256
    assert processed_mod.header(processed) == header  # what publishing reads, without pandas
    assert pub.identifiers_among(tokens, header, processed) == expected
    assert pub.identifiers_among(set(), header, processed) == set()
