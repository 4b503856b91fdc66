"""The GDC dataset profile as a publisher meets it: what loads, what is refused and why."""

from __future__ import annotations

import copy
import datetime

import pytest
from marshmallow import ValidationError

from schemas import messages as msg
from schemas import vocab
from schemas.dataset import (
    DatasetSchema,
    GroupSchema,
    ResourceSchema,
    validate_dataset,
    validate_resource,
)
from schemas.messages import localise_errors
from schemas.organization import OrganizationSchema

REC, STAT, GEO, MULTI, OTHER = (vocab.DATA_TYPE_CODES[c] for c in "RSGMO")
REQUIRED = "Missing data for required field."

# Fields of each data type, as a publisher of a Thai PAO would fill them in.
TYPE_FIELDS = {
    REC: {
        "data_support": "หน่วยงานของรัฐ",
        "data_collect": "บุคคล",
        "created_date": "1 ต.ค. 2566",
        "high_value_dataset": "True",
        "reference_data": "False",
    },
    STAT: {
        "first_year_of_data": "2553",
        "last_year_of_data": "๒๕๖๗",
        "disaggregate": ["ขอบเขตเชิงภูมิศาสตร์หรือเชิงพื้นที่"],
        "unit_of_measure": "บาท",
        "unit_of_multiplier": "ล้าน",
        "calculation_method": "ผลรวมงบประมาณตามข้อบัญญัติ\n\nแยกตามแผนงาน",
        "standard": "มาตรฐานสำนักงบประมาณ",
        "official_statistics": "True",
        "data_release_calendar": "2567-10-01",
    },
    GEO: {
        "geographic_data_set": "ชั้นข้อมูลขอบเขตการปกครอง",
        "equivalent_scale": "1:50,000",
        "west_bound_longitude": 97.3,
        "east_bound_longitude": "105.6",
        "north_bound_longitude": 20.5,
        "south_bound_longitude": 5.6,
        "positional_accuracy": "±5 เมตร",
        "reference_period": "2567",
        "data_release_date": "15/01/2567",
        "data_release_calendar": "2567-12-31",
    },
    MULTI: {"data_support": "ไม่มี", "data_collect": "ครัวเรือน/ครอบครัว", "reference_data": True},
    OTHER: {
        "data_type_other": "ข้อมูลเอกสาร",
        "data_collect": "ไม่ทราบ",
        "created_date": "2024-01-15",
    },
}

RESOURCE_FIELDS = {
    REC: {"resource_data_collect": "บุคคล", "resource_created_date": "2567-01-15"},
    STAT: {
        "resource_first_year_of_data": 2565,
        "resource_last_year_of_data": 2567,
        "resource_disaggregate": ["เพศ", "อายุ/กลุ่มอายุ"],
        "resource_unit_of_measure": "คน",
        "resource_unit_of_multiplier": "พัน",
        "resource_official_statistics": "False",
        "resource_data_release_calendar": "2567-06-30",
    },
    GEO: {
        "resource_geographic_data_set": "ชั้นข้อมูลแหล่งน้ำ",
        "resource_equivalent_scale": "1:4,000",
        "resource_positional_accuracy": "1 เมตร",
        "resource_data_release_date": "2567-02-01",
        "resource_created_date": "2566-12-01",
    },
    MULTI: {"resource_data_collect": "ไม่มี"},
    OTHER: {"resource_created_date": "2567-01-15"},
}


def dataset(data_type: str = REC, /, **changes: object) -> dict:
    """A complete, valid dataset of `data_type` with `changes` applied."""
    data = {
        "name": "pao-chiangmai-budget-2567",
        "title": "ข้อบัญญัติงบประมาณรายจ่ายประจำปี พ.ศ. 2567 อบจ.เชียงใหม่",
        "title_en": "Chiang Mai PAO budget ordinance FY2567",
        "notes": "งบประมาณรายจ่ายจำแนกตามแผนงาน\n\n* ที่มา: ข้อบัญญัติ",
        "owner_org": "pao-chiangmai",
        "tag_string": "งบประมาณ,อบจ.,เชียงใหม่",
        "groups": ["economy"],
        "license_id": "odc-thai",
        "maintainer": "กองคลัง",
        "maintainer_email": "finance@chiangmaipao.go.th",
        "url": "https://www.chiangmaipao.go.th/budget",
        "issued": "2567-01-15",
        "temporal_start": "1 ต.ค. 2566",
        "temporal_end": "30/09/2567",
        "fiscal_year": 2567,
        "access_rights": "public",
        "data_type": data_type,
        "allow_harvest": "True",
        "objective": ["พันธกิจหน่วยงาน", "เพื่อการให้บริการประชาชน"],
        "update_frequency_unit": "ปี",
        "update_frequency_interval": 1,
        "geo_coverage": "จังหวัด",
        "data_source": "กองคลัง องค์การบริหารส่วนจังหวัดเชียงใหม่",
        "data_format": ["CSV", "XLS"],
        "data_category": "ข้อมูลสาธารณะ",
        "data_classification": "เปิดเผย",
        "data_language": ["ไทย"],
        "last_updated_date": "2567-01-20",
        "resources": [
            {
                "name": "งบประมาณ 2567 (CSV)",
                "url": "https://www.chiangmaipao.go.th/files/budget-2567.csv",
                "format": "csv",
                **RESOURCE_FIELDS[data_type],
            }
        ],
        **TYPE_FIELDS[data_type],
    }
    data.update(changes)
    return data


def errors_of(data: dict, **kwargs: object) -> dict:
    with pytest.raises(ValidationError) as caught:
        DatasetSchema(**kwargs).load(data)
    return caught.value.messages


@pytest.mark.parametrize("data_type", [REC, STAT, GEO, MULTI, OTHER])
def test_full_dataset_of_each_data_type_loads(data_type: str) -> None:
    loaded = DatasetSchema().load(dataset(data_type))
    assert loaded["data_type"] == data_type
    assert loaded["tags"] == ["งบประมาณ", "อบจ.", "เชียงใหม่"]
    assert loaded["issued"] == datetime.date(2024, 1, 15)
    assert loaded["temporal_start"] == datetime.date(2023, 10, 1)
    assert loaded["private"] is False and loaded["state"] == "published"
    assert loaded["resources"][0]["format"] == "CSV"
    # a loaded dataset loads again unchanged (validate_dataset merges stored and patch values)
    assert DatasetSchema().load(copy.deepcopy(loaded)) == loaded


def test_type_specific_values_are_converted() -> None:
    stat = DatasetSchema().load(dataset(STAT))
    assert (stat["first_year_of_data"], stat["last_year_of_data"]) == (2553, 2567)
    assert stat["official_statistics"] is True
    geo = DatasetSchema().load(dataset(GEO))
    assert geo["east_bound_longitude"] == 105.6
    assert geo["data_release_date"] == datetime.date(2024, 1, 15)
    record = DatasetSchema().load(dataset(REC))
    assert record["high_value_dataset"] is True and record["reference_data"] is False


REQUIRED_FIELDS = [
    "name",
    "title",
    "notes",
    "owner_org",
    "license_id",
    "maintainer",
    "maintainer_email",
    "data_type",
    "objective",
    "update_frequency_unit",
    "geo_coverage",
    "data_source",
    "data_format",
    "data_category",
]


@pytest.mark.parametrize("field", REQUIRED_FIELDS)
@pytest.mark.parametrize("blank", ["missing", "", None, "  "])
def test_every_required_field_missing_or_blank_is_a_field_error(field: str, blank: object) -> None:
    data = dataset(REC)
    if blank == "missing":
        del data[field]
    else:
        data[field] = blank
    assert errors_of(data)[field] == [REQUIRED]


@pytest.mark.parametrize("tags", [None, "", " , ,", [], [{"name": " "}]])
def test_at_least_one_tag_is_required(tags: object) -> None:
    data = dataset(REC, tag_string=tags)
    assert errors_of(data) == {"tags": [msg.TAGS_REQUIRED]}


CONTROLLED = {
    "data_type": "ข้อมูลลับ",
    "update_frequency_unit": "ทุกวัน",
    "geo_coverage": "จักรวาล",
    "data_category": "ข้อมูลเปิด",
    "data_classification": "ลับสุดยอด",
    "data_support": "บริษัท",
    "data_collect": "ประชาชน",
    "license_id": "cc-by-4.0-th",
    "state": "active-ish",
    "access_rights": "open",
}
CONTROLLED_LISTS = {
    "objective": ["พันธกิจหน่วยงาน", "วิสัยทัศน์"],
    "data_format": ["CSV", "XLSX"],
    "data_language": ["ไทย", "Thai"],
}


@pytest.mark.parametrize("field", sorted(CONTROLLED))
def test_values_outside_a_controlled_list_are_refused(field: str) -> None:
    errors = errors_of(dataset(REC, **{field: CONTROLLED[field]}))
    assert errors[field][0].startswith("Must be one of: ")


@pytest.mark.parametrize("field", sorted(CONTROLLED_LISTS))
def test_multi_choice_fields_name_the_bad_item(field: str) -> None:
    errors = errors_of(dataset(REC, **{field: CONTROLLED_LISTS[field]}))
    assert list(errors[field]) == [1]
    assert errors[field][1][0].startswith("Must be one of: ")


def test_multi_choice_accepts_ckan_json_text_and_a_single_value() -> None:
    loaded = DatasetSchema().load(dataset(REC, objective="มติคณะรัฐมนตรี", data_format='["PDF"]'))
    assert loaded["objective"] == ["มติคณะรัฐมนตรี"]
    assert loaded["data_format"] == ["PDF"]


RULE_CASES = [
    (category, classification, classification in allowed)
    for category, allowed in vocab.CLASSIFICATION_RULE.items()
    for classification in vocab.values(vocab.DATA_CLASSIFICATIONS)
]


@pytest.mark.parametrize(("category", "classification", "allowed"), RULE_CASES)
def test_classification_must_be_allowed_for_the_category(
    category: str, classification: str, allowed: bool
) -> None:
    data = dataset(REC, data_category=category, data_classification=classification, private=True)
    if allowed:
        assert DatasetSchema().load(data)["data_classification"] == classification
    else:
        message = errors_of(data)["data_classification"][0]
        assert category in message
        for value in vocab.CLASSIFICATION_RULE[category]:
            assert value in message


@pytest.mark.parametrize("category", list(vocab.CLASSIFICATION_RULE))
def test_missing_classification_is_filled_only_when_the_category_allows_one(category: str) -> None:
    data = dataset(REC, data_category=category, private=True)
    del data["data_classification"]
    allowed = vocab.CLASSIFICATION_RULE[category]
    loaded = DatasetSchema().load(data)
    assert loaded.get("data_classification") == (allowed[0] if len(allowed) == 1 else None)


def test_non_public_category_cannot_be_public() -> None:
    data = dataset(REC, data_category="ข้อมูลส่วนบุคคล", data_classification="ลับ", private=False)
    message = errors_of(data)["private"][0]
    assert "ข้อมูลส่วนบุคคล" in message and "private" in message
    thai = localise_errors(errors_of(data), "th")["private"][0]
    assert "ไม่สามารถเผยแพร่ต่อสาธารณะได้" in thai
    # left out, private follows the category
    del data["private"]
    assert DatasetSchema().load(data)["private"] is True
    assert DatasetSchema().load(dataset(REC))["private"] is False


COMPANIONS = [
    ("data_type", OTHER, OTHER),
    ("objective", REC, ["อื่นๆ"]),
    ("update_frequency_unit", REC, "อื่นๆ"),
    ("geo_coverage", REC, "อื่นๆ"),
    ("data_format", REC, ["CSV", "อื่นๆ"]),
    ("license_id", REC, "other"),
    ("data_support", REC, "อื่นๆ"),
    ("data_collect", MULTI, "อื่นๆ"),
    ("data_language", REC, ["อื่นๆ"]),
    ("disaggregate", STAT, ["อื่นๆ"]),
    ("unit_of_multiplier", STAT, "อื่นๆ"),
    ("equivalent_scale", GEO, "อื่นๆ"),
]


@pytest.mark.parametrize(("field", "data_type", "value"), COMPANIONS)
def test_other_value_needs_its_companion(field: str, data_type: str, value: object) -> None:
    other, trigger = vocab.DATASET_OTHER_COMPANIONS[field]
    data = dataset(data_type, **{field: value})
    data.pop(other, None)
    assert errors_of(data)[other] == [f"Required when {field} is {trigger}."]
    data[other] = "ระบุเอง"
    assert DatasetSchema().load(data)[other] == "ระบุเอง"


def test_other_companion_without_other_value_is_refused() -> None:
    errors = errors_of(dataset(REC, geo_coverage_other="ลุ่มน้ำปิง", license_id_other="ของเรา"))
    assert errors["geo_coverage_other"] == ["Only used when geo_coverage is อื่นๆ."]
    assert errors["license_id_other"] == ["Only used when license_id is other."]


def test_license_titles_from_gdc_catalogues_map_to_ids() -> None:
    assert (
        DatasetSchema().load(dataset(REC, license_id="Open Data Common"))["license_id"]
        == "odc-thai"
    )
    loaded = DatasetSchema().load(dataset(REC, license_id="อื่นๆ", license_id_other="สัญญาเฉพาะ"))
    assert loaded["license_id"] == "other"


@pytest.mark.parametrize(
    ("data_type", "field", "value"),
    [
        (STAT, "data_collect", "บุคคล"),
        (REC, "disaggregate", ["เพศ"]),
        (REC, "geographic_data_set", "ชั้นข้อมูลป่าไม้"),
        (GEO, "first_year_of_data", 2567),
        (MULTI, "official_statistics", True),
        (STAT, "high_value_dataset", "True"),
        (REC, "data_type_other", "อะไรก็ได้"),
    ],
)
def test_field_not_shown_for_the_data_type_is_refused(
    data_type: str, field: str, value: object
) -> None:
    assert errors_of(dataset(data_type, **{field: value}))[field] == [
        f"Not used for data type {data_type}."
    ]
    # empty (as CKAN forms send hidden inputs) is fine
    DatasetSchema().load(dataset(data_type, **{field: ""}))


def test_resource_field_not_shown_for_the_data_type_is_refused() -> None:
    data = dataset(REC)
    data["resources"][0]["resource_disaggregate"] = ["เพศ"]
    errors = errors_of(data)
    assert errors == {
        "resources": {0: {"resource_disaggregate": [f"Not used for data type {REC}."]}}
    }


@pytest.mark.parametrize(
    "written",
    ["2024-01-15", "2567-01-15", "15/01/2567", "15 ม.ค. 2567", "๑๕/๐๑/๒๕๖๗", "15 มกราคม พ.ศ. 2567"],
)
def test_buddhist_era_and_thai_digit_dates_become_iso_dates(written: str) -> None:
    loaded = DatasetSchema().load(dataset(REC, issued=written, modified=written))
    assert loaded["issued"] == loaded["modified"] == datetime.date(2024, 1, 15)


def test_bad_dates_are_refused_in_both_languages() -> None:
    errors = errors_of(dataset(REC, issued="31/02/2567", modified=20240115, created_date="1" * 500))
    assert "31" in errors["issued"][0]
    assert errors["modified"] == errors["created_date"] == ["Not a valid date."]
    thai = localise_errors(errors, "th")
    assert "กุมภาพันธ์" in thai["issued"][0]
    assert thai["modified"] == ["วันที่ไม่ถูกต้อง"]


def test_temporal_end_before_start_is_refused() -> None:
    errors = errors_of(dataset(REC, temporal_start="2567-10-01", temporal_end="2567-09-30"))
    assert errors == {"temporal_end": ["Must not be before temporal_start."]}


@pytest.mark.parametrize(
    ("written", "stored"), [(2567, 2567), ("๒๕๖๗", 2567), ("พ.ศ. 2567", 2567), (2024, 2567)]
)
def test_fiscal_year_is_stored_in_the_buddhist_era(written: object, stored: int) -> None:
    assert DatasetSchema().load(dataset(REC, fiscal_year=written))["fiscal_year"] == stored


@pytest.mark.parametrize("written", [1500, 3000, "ปีหน้า", True, "67"])
def test_impossible_years_are_refused(written: object) -> None:
    assert errors_of(dataset(REC, fiscal_year=written)) == {"fiscal_year": [msg.YEAR]}


def test_tags_with_thai_letters_and_marks_are_accepted() -> None:
    tags = ["น้ำท่วม", "การศึกษา", "ปี ๒๕๖๗", "ผู้สูงอายุ", "open-data", "v1.0"]
    loaded = DatasetSchema().load(dataset(REC, tag_string=None, tags=[{"name": t} for t in tags]))
    assert loaded["tags"] == tags


@pytest.mark.parametrize("bad", ["<script>", "a;b", "x/y", "ข้อมูล&สถิติ"])
def test_tags_with_markup_or_symbols_are_refused(bad: str) -> None:
    errors = errors_of(dataset(REC, tag_string=None, tags=["ดี", bad]))
    assert errors == {"tags": {1: [msg.TAG_CHARS]}}


@pytest.mark.parametrize(
    ("field", "limit"),
    [("title", 500), ("title_en", 500), ("notes", 20000), ("maintainer", 200), ("version", 100)],
)
def test_oversized_strings_are_refused(field: str, limit: int) -> None:
    DatasetSchema().load(dataset(REC, **{field: "ก" * limit}))
    assert errors_of(dataset(REC, **{field: "ก" * (limit + 1)})) == {
        field: [f"Longer than maximum length {limit}."]
    }


def test_oversized_lists_are_refused() -> None:
    errors = errors_of(dataset(REC, tag_string=None, tags=[f"t{i}" for i in range(51)]))
    assert errors == {"tags": ["Longer than maximum length 50."]}
    too_long_tag = errors_of(dataset(REC, tag_string="ก" * 101))
    assert too_long_tag == {"tags": {0: ["Longer than maximum length 100."]}}


@pytest.mark.parametrize("name", ["A-Upper", "x", "ชื่อไทย", "-lead", "a" * 101, "with space"])
def test_bad_dataset_names_are_refused(name: str) -> None:
    assert errors_of(dataset(REC, name=name)) == {"name": [msg.SLUG]}


def test_misspelt_field_is_refused() -> None:
    assert errors_of(dataset(REC, maintainer_emial="a@b.go.th")) == {
        "maintainer_emial": ["Unknown field."]
    }


def test_errors_are_localised_into_thai() -> None:
    data = dataset(REC, title="ก" * 501, maintainer_email="ไม่ใช่อีเมล", extra=1)
    del data["data_source"]
    thai = localise_errors(errors_of(data), "th")
    assert thai == {
        "title": ["ยาวเกินกำหนด (ไม่เกิน 500)"],
        "maintainer_email": ["อีเมลไม่ถูกต้อง"],
        "extra": ["ไม่รู้จักช่องข้อมูลนี้"],
        "data_source": ["ต้องระบุข้อมูลในช่องนี้"],
    }


def test_patch_is_validated_against_the_stored_dataset() -> None:
    stored = DatasetSchema().load(dataset(REC))
    patched = validate_dataset({"title": "ชื่อใหม่"}, partial_base=stored)
    assert patched["title"] == "ชื่อใหม่" and patched["name"] == stored["name"]
    # the stored classification and visibility break the new category's rules
    errors = errors_of_patch({"data_category": "ข้อมูลความมั่นคง"}, stored)
    assert set(errors) == {"data_classification", "private"}
    ok = validate_dataset(
        {"data_category": "ข้อมูลความมั่นคง", "data_classification": "ลับมาก", "private": None},
        partial_base=stored,
    )
    assert ok["private"] is True and ok["data_classification"] == "ลับมาก"
    # changing the data type makes the stored record-only fields invalid until cleared
    errors = errors_of_patch({"data_type": STAT}, stored)
    assert errors["data_collect"] == [f"Not used for data type {STAT}."]


def errors_of_patch(patch: dict, stored: dict) -> dict:
    with pytest.raises(ValidationError) as caught:
        validate_dataset(patch, partial_base=stored)
    return caught.value.messages


def test_partial_load_checks_only_the_given_fields() -> None:
    assert DatasetSchema(partial=True).load({"title": "ชื่อ"}) == {"title": "ชื่อ"}
    assert errors_of({"title": "ก" * 501}, partial=True) == {
        "title": ["Longer than maximum length 500."]
    }


def test_resource_needs_a_url_unless_uploaded() -> None:
    schema = ResourceSchema()
    assert schema.load({"name": "ไฟล์", "url_type": "upload"}) == {
        "name": "ไฟล์",
        "url_type": "upload",
    }
    with pytest.raises(ValidationError) as caught:
        schema.load({"name": "ไฟล์"})
    assert caught.value.messages == {"url": [msg.URL_OR_UPLOAD]}
    with pytest.raises(ValidationError) as caught:
        schema.load({"name": "ไฟล์", "url": "javascript:alert(1)"})
    assert caught.value.messages == {"url": ["Not a valid URL."]}


def test_resource_fields_are_cleaned_and_checked() -> None:
    loaded = ResourceSchema().load(
        {
            "name": "ตาราง",
            "url": "https://example.go.th/a.xlsx",
            "format": ".xlsx",
            "mimetype": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "size": "2048",
            "schema": '{"fields": [{"name": "amount", "type": "number"}]}',
        }
    )
    assert loaded["format"] == "XLSX" and loaded["size"] == 2048
    assert loaded["schema"] == {"fields": [{"name": "amount", "type": "number"}]}
    with pytest.raises(ValidationError) as caught:
        ResourceSchema().load(
            {"name": "x", "url": "https://a.go.th/x", "schema": {"fields": [{}]}, "size": -1}
        )
    assert caught.value.messages == {
        "schema": [msg.TABLE_SCHEMA],
        "size": ["Must be greater than or equal to 0."],
    }


def test_resource_alone_is_checked_against_its_dataset_type() -> None:
    resource = {
        "name": "ชั้นข้อมูล",
        "url": "https://a.go.th/x.shp",
        "resource_equivalent_scale": "อื่นๆ",
    }
    with pytest.raises(ValidationError) as caught:
        validate_resource(resource, data_type=REC)
    assert caught.value.messages == {
        "resource_equivalent_scale": [f"Not used for data type {REC}."],
        "resource_equivalent_scale_other": ["Required when resource_equivalent_scale is อื่นๆ."],
    }
    resource["resource_equivalent_scale_other"] = "1:1,000"
    assert (
        validate_resource(resource, data_type=GEO)["resource_equivalent_scale_other"] == "1:1,000"
    )


def test_organization_schema() -> None:
    loaded = OrganizationSchema().load(
        {
            "name": "pao-chiangmai",
            "title": "องค์การบริหารส่วนจังหวัดเชียงใหม่",
            "title_en": "Chiang Mai Provincial Administrative Organization",
            "org_type": "pao",
            "email": "saraban@chiangmaipao.go.th",
            "phone": "053-112-233 ต่อ 12",
            "website": "https://www.chiangmaipao.go.th",
            "address": "ถนนโชตนา\nอำเภอเมืองเชียงใหม่",
        }
    )
    assert loaded["org_type"] == "pao" and loaded["address"].count("\n") == 1
    assert vocab.label(vocab.ORGANIZATION_TYPES, "sao", "th").startswith("องค์การบริหารส่วนตำบล")
    with pytest.raises(ValidationError) as caught:
        OrganizationSchema().load(
            {"name": "x1", "org_type": "company", "phone": "call me", "ok": 1}
        )
    assert set(caught.value.messages) == {"title", "org_type", "phone", "ok"}


def test_group_schema() -> None:
    loaded = GroupSchema().load({"name": "economy", "title": "ด้านเศรษฐกิจ", "family": "category04"})
    assert loaded["family"] == "category04"
    with pytest.raises(ValidationError) as caught:
        GroupSchema().load({"name": "economy", "title": "x", "family": "category08"})
    assert list(caught.value.messages) == ["family"]
