"""The built-in Table Schemas and the one wrapper around frictionless."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from schemas.tables import (
    BUILTIN_SCHEMAS,
    MESSAGES,
    check_table_schema,
    frictionless_validate,
    load_table_schema,
    make_finding,
)

THAI = re.compile("[\u0e00-\u0e7f]")


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return path


@pytest.mark.parametrize("name", BUILTIN_SCHEMAS)
def test_builtin_schema_is_valid_and_bilingual(name: str) -> None:
    schema = load_table_schema(name)
    assert check_table_schema(schema) == []
    for key in ("title", "description"):
        assert THAI.search(schema[key]), key
        assert schema[f"{key}_en"] and not THAI.search(schema[f"{key}_en"].split("(")[0])
    for field in schema["fields"]:
        assert THAI.search(field["title"]), field["name"]
        assert THAI.search(field["description"]), field["name"]
        assert field["title_en"] and field["description_en"], field["name"]


def test_builtin_schemas_declare_the_expected_rules() -> None:
    budget = {f["name"]: f for f in load_table_schema("budget")["fields"]}
    assert budget["fiscal_year"]["constraints"] == {"required": True, "minimum": 2400}
    assert "งบลงทุน" in budget["budget_type"]["constraints"]["enum"]
    assert budget["amount"]["type"] == "number"
    progress = load_table_schema("project_progress")
    assert progress["primaryKey"] == ["project_id"]
    fields = {f["name"]: f for f in progress["fields"]}
    assert fields["progress_percent"]["constraints"] == {"minimum": 0, "maximum": 100}
    assert {f["name"] for f in progress["fields"] if f["type"] == "date"} == {
        "contract_date",
        "planned_start",
        "planned_end",
        "actual_start",
        "actual_end",
    }
    regulation = {f["name"]: f for f in load_table_schema("regulation")["fields"]}
    assert regulation["document_url"]["format"] == "uri"
    assert "มีผลบังคับใช้" in regulation["status"]["constraints"]["enum"]


def test_load_an_agency_schema_from_a_path(tmp_path: Path) -> None:
    own = {"fields": [{"name": "เลขที่", "type": "integer"}], "title": "ของหน่วยงาน"}
    path = tmp_path / "own.json"
    path.write_text(json.dumps(own, ensure_ascii=False), encoding="utf-8")
    assert load_table_schema(path) == own
    assert load_table_schema(str(path)) == own


def test_load_rejects_unknown_names_and_invalid_schemas(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="budget"):
        load_table_schema("no-such-schema")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"fields": [{"name": "a", "type": "integer"}], "primaryKey": ["b"]}))
    with pytest.raises(ValueError, match="primary key"):
        load_table_schema(bad)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(ValueError, match="not JSON"):
        load_table_schema(broken)


def test_check_table_schema_reports_frictionless_errors() -> None:
    assert check_table_schema([]) == ["a Table Schema must be a JSON object"]
    problems = check_table_schema(
        {"fields": [{"name": "n", "type": "integer", "constraints": {"pattern": "[0-9]+"}}]}
    )
    assert len(problems) == 1 and "pattern" in problems[0]
    assert check_table_schema({"fields": [{"name": "x", "type": "string", "title_en": "X"}]}) == []


def test_frictionless_validate_numbers_rows_from_the_header(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "budget.csv",
        [
            ["fiscal_year", "agency", "ministry", "plan", "output", "project", "budget_type"]
            + ["category", "item", "amount", "obliged", "note"],
            ["2567", "กรมทางหลวง", "", "", "", "", "งบลงทุน", "", "ถนน", "1000.50", "ใช่", ""],
            ["2024", "กรมทางหลวง", "", "", "", "", "งบลงทุน", "", "ถนน", "-1", "ไม่ใช่", ""],
            ["2567", "", "", "", "", "", "งบอื่น", "", "", "สิบบาท", "maybe", ""],
        ],
    )
    findings = frictionless_validate(path, load_table_schema("budget"))
    assert [f.key() for f in findings] == [
        (3, "fiscal_year", "constraint-error"),
        (3, "amount", "constraint-error"),
        (4, "agency", "constraint-error"),
        (4, "budget_type", "constraint-error"),
        (4, "amount", "type-error"),
        (4, "obliged", "type-error"),
    ]
    first = findings[0]
    assert first.value == "2024" and first.position == 1
    assert first.note == 'constraint "minimum" is "2400"'
    assert "2400" in first.message_th and THAI.search(first.message_th)


def test_frictionless_validate_limits_errors_like_frictionless(tmp_path: Path) -> None:
    rows = [["n"]] + [["x"]] * 30
    path = write_csv(tmp_path / "n.csv", rows)
    schema = {"fields": [{"name": "n", "type": "integer"}]}
    assert len(frictionless_validate(path, schema)) == 30
    assert [f.row for f in frictionless_validate(path, schema, limit_errors=5)] == [2, 3, 4, 5, 6]


def test_every_error_type_has_a_thai_message() -> None:
    for error_type in MESSAGES:
        finding = make_finding(error_type, 2, "amount", "x", position=3, note="n")
        assert THAI.search(finding.message_th), error_type
        assert finding.message_en and not THAI.search(finding.message_en), error_type
