"""Search through the service: the index follows the catalogue, and visibility rules hold."""

from __future__ import annotations

from typing import Any

import pytest

from catalog import services
from catalog.services import Context
from catalog.services.search import drain_outbox, enqueue, package_search, reindex, search_check
from tests.factories import make_dataset, make_org, make_user


@pytest.fixture
def org(system: Context) -> dict[str, Any]:
    return make_org(
        system, "ayutthaya-pao", title="องค์การบริหารส่วนจังหวัดพระนครศรีอยุธยา", org_type="pao"
    )


def names(result: dict[str, Any]) -> list[str]:
    return [r["name"] for r in result["results"]]


def test_new_datasets_are_found_in_thai_right_after_the_commit(system: Context, org: dict) -> None:
    make_dataset(system, org["name"], name="road-projects", title="โครงการก่อสร้างถนนคอนกรีตเสริมเหล็ก")
    make_dataset(system, org["name"], name="water", title="แหล่งน้ำเพื่อการเกษตร")
    anonymous = Context(system.catalog)
    assert names(package_search(anonymous, "คอนกรีต")) == ["road-projects"]
    assert names(package_search(anonymous, "ถนน")) == ["road-projects"]
    result = package_search(anonymous, "", facet_fields=["organization"])
    assert result["count"] == 2
    assert result["facets"]["organization"] == {"ayutthaya-pao": 2}
    assert names(package_search(anonymous, "อบจ. อยุธยา", rows=5))  # acronym + short province name


def test_changes_and_withdrawals_reach_the_index(system: Context, org: dict) -> None:
    ds = make_dataset(system, org["name"], name="budget", title="งบประมาณรายจ่าย")
    anonymous = Context(system.catalog)
    services.package_patch(system, ds["name"], {"title": "ข้อบัญญัติงบประมาณรายจ่ายประจำปี"})
    assert names(package_search(anonymous, "ข้อบัญญัติ")) == ["budget"]
    services.package_delete(system, ds["name"])
    assert package_search(anonymous, "ข้อบัญญัติ")["count"] == 0
    services.organization_patch(system, org["name"], {"title_en": "Ayutthaya Provincial Office"})
    services.package_restore(system, ds["name"])
    assert names(package_search(anonymous, "Provincial")) == ["budget"]


def test_private_datasets_only_for_members(
    catalog: services.Catalog, system: Context, org: dict
) -> None:
    make_dataset(
        system,
        org["name"],
        name="internal-budget",
        title="งบประมาณภายใน",
        data_category="ข้อมูลใช้ภายใน",
        data_classification="ชั้นเผยแพร่ภายในองค์กร",
        private=True,
    )
    assert package_search(Context(catalog), "งบประมาณ")["count"] == 0
    member = make_user(system, "member1")
    services.member_create(system, org["name"], member, "member")
    assert names(package_search(Context(catalog, user=member), "งบประมาณ")) == ["internal-budget"]
    outsider = make_user(system, "outsider1")
    assert package_search(Context(catalog, user=outsider), "งบประมาณ")["count"] == 0


def test_a_crash_between_commit_and_indexing_is_repaired(system: Context, org: dict) -> None:
    ds = make_dataset(system, org["name"], name="budget", title="งบประมาณรายจ่าย")
    catalog = system.catalog
    catalog.search.delete([ds["id"]])  # the index lost it, as after a crash mid-indexing
    with catalog.transaction(index=False) as session:
        enqueue(session, [ds["id"]])  # the outbox row written with the change survives
    assert package_search(system, "งบประมาณ")["count"] == 0
    assert drain_outbox(catalog) == 1  # what the next start or write does
    assert names(package_search(system, "งบประมาณ")) == ["budget"]


def test_reindex_and_drift_check(system: Context, org: dict) -> None:
    a = make_dataset(system, org["name"], name="a-budget", title="งบประมาณ ก")
    make_dataset(system, org["name"], name="b-budget", title="งบประมาณ ข")
    catalog = system.catalog
    catalog.search.delete([a["id"]])
    report = search_check(system)
    assert report["missing"] == [a["id"]] and report["orphans"] == []
    repaired = search_check(system, repair=True)
    assert repaired["repaired"] and search_check(system)["missing"] == []
    assert reindex(system) == 2
    assert package_search(system, "งบประมาณ")["count"] == 2
    with pytest.raises(services.NotAuthorized):
        reindex(Context(catalog))


def test_bad_sort_or_filter_is_a_field_error(system: Context, org: dict) -> None:
    with pytest.raises(services.ValidationFailed):
        package_search(system, "x", sort="loudest")
    with pytest.raises(services.ValidationFailed):
        package_search(system, "x", filters={"colour": ["red"]})
    assert package_search(system, 'งบ "ประมาณ AND OR (')["count"] == 0  # malformed syntax is fine
