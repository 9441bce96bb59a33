"""The activity section as an attacker reads it: every sum a reader can form from the published
figures (a PCN and its practices, a total and its parts under another name, a count and the share
built on it) leaves no small count exactly recoverable. Each test builds a small extract on which
the section published before the disclosure layer gave such a count away."""

from dataclasses import replace

import pandas as pd

from pipeline.analyses import activity
from pipeline.config import DisclosureSettings
from pipeline.disclosure import release
from pipeline.extract import Extract

MIN_COUNT = DisclosureSettings().min_count


def extract(tiny, groups, contacts=None, signposts=None, target=None, pool=False):
    """Referrals copied from tiny's first one: ``groups`` is a list of (n, {column: value}) blocks;
    each referral its own patient unless the block sets ``patient_id``. ``contacts`` /
    ``signposts``: lists of (n, {column: value}) rows for the first referral."""
    blocks = []
    for n, values in groups:
        block = pd.concat([tiny["referrals"].iloc[[0]]] * n, ignore_index=True)
        for k, v in values.items():
            block[k] = v
        blocks.append(block)
    ref = pd.concat(blocks, ignore_index=True)
    ref["referral_id"] = [f"X{i:05d}" for i in range(len(ref))]
    own = ref["patient_id"] == tiny["referrals"]["patient_id"].iloc[0]
    ref.loc[own, "patient_id"] = [f"Q{i:05d}" for i in range(int(own.sum()))]

    def rows(table, spec):
        template = tiny[table].iloc[[0]]
        out = []
        for n, values in spec or []:
            block = pd.concat([template] * n, ignore_index=True)
            for k, v in values.items():
                block[k] = v
            out.append(block)
        df = pd.concat(out, ignore_index=True) if out else template.iloc[0:0].copy()
        df["referral_id"] = ref["referral_id"].iloc[0]
        return df

    tables = {"referrals": ref, "sp_contacts": rows("sp_contacts", contacts)}
    if signposts is not None:
        tables["signposting"] = rows("signposting", signposts)
    if pool:
        tables["comparison_patients"] = tiny["comparison_patients"]
    cfg = replace(tiny.config, referral_target_monthly=target)
    return Extract(cfg, tables, "0" * 64)


def publish(ex, rules=None):
    return release(activity.publish, activity.compute(ex), rules or DisclosureSettings()).data


def recoverable(total, shown, exact_rest):
    """Can a reader who knows ``total`` and the ``shown`` parts work out a small rest exactly?"""
    return total is not None and all(v is not None for v in shown) and 0 < exact_rest < MIN_COUNT


def test_practices_within_a_pcn_cannot_give_away_a_hidden_practice(tiny):
    # PCN A: A00001 40 + A00002 3; PCN B: B00001 10. Practices alone: A00002 and the smallest other
    # (B00001) were hidden, and PCN A (43) less A00001 (40) gave A00002's 3 away.
    ex = extract(tiny, [(40, {"pcn": "PCN A", "practice_code": "A00001"}),
                        (3, {"pcn": "PCN A", "practice_code": "A00002"}),
                        (10, {"pcn": "PCN B", "practice_code": "B00001"})])
    out = publish(ex)
    pcn, practice = out["referrals_by_pcn"], out["referrals_by_practice"]
    assert practice["A00002"] is None
    assert not recoverable(pcn["PCN A"], [practice["A00001"]], 3)
    assert not recoverable(pcn["PCN B"], [], 0)  # (trivially)
    # a PCN hidden in referrals_by_pcn is hidden under its other names too
    for p, v in pcn.items():
        assert out["referral_rates"]["by_pcn"] is None or out["referral_rates"]["by_pcn"][p]["referrals"] == v


def test_core20_and_imd_recorded_are_sums_of_the_decile_cells(tiny):
    # deciles 1: 3, 2: 40, 5: 30, not recorded: 3. Core20 (43) less decile 2 (40) gave decile 1 away;
    # referrals (76) less "IMD recorded" (73) gave the 3 not recorded away.
    ex = extract(tiny, [(3, {"imd_decile": 1}), (40, {"imd_decile": 2}), (30, {"imd_decile": 5}),
                        (3, {"imd_decile": pd.NA})])
    out = publish(ex)
    imd, s = out["participants"]["imd_decile"], out["participants_summary"]
    assert imd["1"] is None and imd["not_recorded"] is None
    assert not recoverable(s["core20_referrals"], [imd["2"]], 3)
    assert not recoverable(out["referrals"], [s["imd_recorded"]], 3)
    # Core20 % is a share of the rounded counts it rests on
    if s["core20_pct"] is not None:
        assert s["core20_pct"] == round(s["core20_referrals"] / s["imd_recorded"] * 100, 1)


def test_patients_are_the_new_referrals_in_the_whole_extract(tiny):
    # 40 people, 3 of them referred twice: hiding the 3 re-referrals (and, next to them, the 40 new
    # ones) is pointless if the 40 patients are published: referrals less patients = 3
    ex = extract(tiny, [(40, {}), (3, {"patient_id": "Q00000"})])
    out = publish(ex)
    assert out["new_vs_rereferrals"]["re_referral"] is None
    assert not recoverable(out["referrals"], [out["patients"]], 3)
    assert out["participants_vs_registered"]["referred_people"] == out["patients"]


def test_people_seen_are_part_of_the_people_referred(tiny):
    # 20 people referred, 17 seen: the 3 never seen must not be referrals less seen
    ex = extract(tiny, [(17, {}), (3, {})], contacts=[(1, {"status": "attended"})])
    raw = activity.compute(ex)
    seen_ids = set(ex["referrals"]["referral_id"].iloc[:17])
    con = pd.concat([ex["sp_contacts"].iloc[[0]]] * 17, ignore_index=True)
    con["referral_id"] = sorted(seen_ids)
    ex.tables["sp_contacts"] = con
    raw = activity.compute(ex)
    assert (raw.patients, raw.patients_seen) == (20, 17)
    out = release(activity.publish, raw, DisclosureSettings()).data
    assert not recoverable(out["patients"], [out["patients_seen"]], 3)


def test_services_within_their_category(tiny):
    # food: Food bank 10 + Soup kitchen 3; housing: Shelter 9; befriending: Befriend 30. Named: Befriend,
    # Food bank; the rest pooled. The food category (13) less Food bank (10) gave Soup kitchen's 3 away.
    sp = [(10, {"service_name": "Food bank", "service_category": "food"}),
          (3, {"service_name": "Soup kitchen", "service_category": "food"}),
          (9, {"service_name": "Shelter", "service_category": "housing"}),
          (30, {"service_name": "Befriend", "service_category": "befriending"})]
    out = publish(extract(tiny, [(20, {})], signposts=sp))["signposting"]
    named = {t["service"]: t["signposts"] for t in out["top_services"]}
    assert "Food bank" in named and "Soup kitchen" not in named
    assert not recoverable(out["by_category"]["food"], [named["Food bank"]], 3)


def test_signposted_referrals_are_part_of_the_referrals(tiny):
    sp = [(17, {"service_name": "Befriend", "service_category": "befriending"})]
    ex = extract(tiny, [(20, {})], signposts=sp)
    ex.tables["signposting"]["referral_id"] = ex["referrals"]["referral_id"].iloc[:17].to_numpy()
    out = publish(ex)
    assert not recoverable(out["referrals"], [out["signposting"]["referrals_signposted"]], 3)


def test_a_groups_referrals_hold_its_people(tiny):
    # gender other: 12 people, 3 of them referred twice (15 referrals). Referrals (15) less people (12,
    # from 12 / 52 people as a %) gave the 3 later referrals of the group away.
    ex = extract(tiny, [(40, {"gender": "female"}), (12, {"gender": "other"}),
                        (3, {"gender": "other", "patient_id": "Q00041"})], pool=True)
    ex.tables["referrals"].loc[52:, "patient_id"] = ["Q00041", "Q00042", "Q00043"]
    raw = activity.compute(ex)
    assert raw.participants.people_by["gender"]["other"] == 12 and raw.participants["gender"]["other"] == 15
    out = release(activity.publish, raw, DisclosureSettings()).data
    pct = out["participants_vs_registered"]["columns"]["gender"]["referred_pct"]["other"]
    assert not recoverable(out["participants"]["gender"]["other"], [pct], 3)


def test_minutes_recorded_are_part_of_the_attended_contacts(tiny):
    contacts = [(17, {"status": "attended", "contact_type": "telephone", "duration_minutes": 30}),
                (3, {"status": "attended", "contact_type": "telephone", "duration_minutes": pd.NA})]
    row = publish(extract(tiny, [(10, {})], contacts=contacts))["contacts_by_type"]["telephone"]
    assert not recoverable(row["attended"], [row["minutes_recorded"]], 3)


def test_a_month_hidden_next_to_a_small_one_is_not_judged_below_the_target(tiny):
    # April 2022: 3 referrals (small), May 2022: 25 (above a band of 8-20), hidden next to April
    ex = extract(tiny, [(3, {"referral_date": pd.Timestamp("2022-04-11")}),
                        (25, {"referral_date": pd.Timestamp("2022-05-11")})], target=(8, 20))
    out = publish(ex)
    assert out["referrals_by_month"]["2022-04"] is None and out["referrals_by_month"]["2022-05"] is None
    t = out["referral_target"]
    assert (t["months_below"], t["months_within"], t["months_above"], t["months_unknown"]) == (23, 0, 0, 1)
    exact = publish(ex, DisclosureSettings(enabled=False))["referral_target"]
    assert (exact["months_below"], exact["months_above"]) == (23, 1)


def test_monthly_booked_appointments_add_up_to_the_total(tiny):
    # April 30 attended + 10 missed, May 3 attended, June 20 attended + 10 missed: hiding May alone
    # would leave it as the total less April and June
    contacts = [(30, {"contact_date": pd.Timestamp("2022-04-20"), "status": "attended"}),
                (10, {"contact_date": pd.Timestamp("2022-04-21"), "status": "dna"}),
                (3, {"contact_date": pd.Timestamp("2022-05-20"), "status": "attended"}),
                (20, {"contact_date": pd.Timestamp("2022-06-20"), "status": "attended"}),
                (10, {"contact_date": pd.Timestamp("2022-06-21"), "status": "cancelled"})]
    out = publish(extract(tiny, [(10, {})], contacts=contacts))
    m = out["monthly"]
    assert m["2022-05"]["contacts_booked"] is None
    shown = [v["contacts_booked"] for k, v in m.items() if k != "2022-05"]
    assert not recoverable(out["contacts_booked"], shown, 3)
    # a month's % missed comes from its rounded counts and goes with them
    assert m["2022-04"]["contacts_booked"] == 40 and m["2022-04"]["dna_or_cancelled_pct"] == 25.0
    assert m["2022-06"]["contacts_booked"] is None and m["2022-06"]["dna_or_cancelled_pct"] is None
    assert out["dna_or_cancelled_pct"] == round(20 / 75 * 100, 1)  # 20 of 73 booked, rounded 75


def test_appointments_by_type_and_status_of_a_lone_small_cell(tiny):
    """Norfolk & Waveney 2022-23's appointments table: a hidden cell pinned down through its neighbours'
    sums once every sum it is in is hidden through (the layer's protection follows the chain)."""
    table = {"face_to_face": {"attended": 91, "dna": 5, "cancelled": 8},
             "telephone": {"attended": 54, "dna": 10, "cancelled": 2},
             "home_visit": {"attended": 6, "dna": 0, "cancelled": 0},
             "not_recorded": {"attended": 12, "dna": 1, "cancelled": 0}}
    contacts = [(n, {"status": s, "contact_type": None if t == "not_recorded" else t})
                for t, row in table.items() for s, n in row.items() if n]
    out = publish(extract(tiny, [(40, {})], contacts=contacts))["contacts_by_type"]
    assert {t: {s: r[s] for s in ("attended", "dna", "cancelled")} for t, r in out.items()}["not_recorded"]["dna"] is None
