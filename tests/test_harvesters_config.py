"""The agency's harvest config: what loads, and how a mistake is pointed out (path + line)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from harvesters.config import ConfigError, ConfigProblem, load_config

FIXTURES = Path(__file__).resolve().parent / "data" / "harvest" / "tabular"


def problems(text: str, **kwargs) -> list[ConfigProblem]:
    with pytest.raises(ConfigError) as caught:
        load_config(textwrap.dedent(text), **kwargs)
    return caught.value.errors


def where(found: list[ConfigProblem]) -> list[tuple[str, int | None]]:
    return [(p.path, p.line) for p in found]


MINIMAL = """\
organization: ban-suan
sources:
  - id: budget
    kind: tabular
    path: budget.csv
    table_schema: budget
"""


def test_the_example_config_loads_with_paths_resolved_against_its_folder():
    config = load_config(FIXTURES / "harvest.yaml")

    assert config.organization == "ban-suan"
    assert config.base_dir == FIXTURES
    assert config.defaults["license_id"] == "odc-thai"
    assert [s.id for s in config.sources] == [
        "budget-2567",
        "projects",
        "provinces",
        "national-portal",
    ]
    budget, projects, provinces, portal = config.sources
    assert budget.settings["path"] == str(FIXTURES / "budget_2567.csv")
    assert budget.settings["table_schema"] == "budget"  # a built-in name stays a name
    assert projects.settings["glob"] == str(FIXTURES / "*_2567.csv")
    assert projects.settings["pii"] == {"allow": ["contact_phone"], "mask": ["citizen_id"]}
    assert provinces.settings["table_schema"] == str(FIXTURES / "province_budget.schema.json")
    assert provinces.settings["columns"] == {"จงหวด/ตางประเทศ": "province"}
    # the per-source override wins over the top-level default
    assert (budget.delete_missing, projects.delete_missing) == (True, False)
    assert (budget.line, portal.line) == (10, 38)


def test_a_kind_gets_its_keys_plus_organization_defaults_and_base_dir():
    config = load_config(FIXTURES / "harvest.yaml")
    portal = config.sources[3].as_mapping()

    # keys of the remote kinds are kept as they are, for their own modules to check
    assert portal["url"] == "https://catalog.example.go.th"
    assert portal["organization"] == "ban-suan" and portal["rows"] == 100
    assert portal["owner_org"] == "ban-suan"
    assert portal["defaults"]["data_category"] == "ข้อมูลสาธารณะ"
    assert portal["base_dir"] == str(FIXTURES)


def test_text_configs_resolve_against_the_given_folder(tmp_path):
    config = load_config(MINIMAL, base_dir=tmp_path)

    assert config.sources[0].settings["path"] == str(tmp_path / "budget.csv")
    assert config.delete_missing is False and config.defaults == {}


def test_unknown_keys_are_named_with_their_line_in_english_and_thai():
    found = problems(
        """\
        organization: ban-suan
        delete_missng: true
        sources:
          - id: budget
            kind: tabular
            path: budget.csv
            table_schema: budget
            encodng: cp874
        """
    )

    assert where(found) == [("delete_missng", 2), ("sources[0].encodng", 8)]
    assert found[0].message_en == "Unknown field."
    assert found[0].message_th == "ไม่รู้จักช่องข้อมูลนี้"


def test_bad_values_are_reported_where_they_are():
    found = problems(
        """\
        organization: Ban Suan
        sources:
          - id: budget
            kind: tabular
            path: budget.csv
            table_schema: budget
            encoding: latin-1
            header_row: 0
            header_rows: 3
          - id: x
            kind: sftp
        """
    )

    assert where(found) == [
        ("organization", 1),
        ("sources[0].encoding", 7),
        ("sources[0].header_row", 8),
        ("sources[0].header_rows", 9),
        ("sources[1].id", 10),
        ("sources[1].kind", 11),
    ]
    by_path = {p.path: p for p in found}
    assert by_path["sources[0].encoding"].message_en.startswith("Must be one of: auto, utf-8")
    assert by_path["sources[0].encoding"].message_th.startswith("ต้องเป็นค่าใดค่าหนึ่งต่อไปนี้")
    assert by_path["sources[0].header_row"].message_th.startswith("ใช้ auto, none")


def test_missing_required_keys_point_at_the_enclosing_entry():
    found = problems(
        """\
        sources:
          - kind: tabular
            path: a.csv
        """
    )

    assert where(found) == [("organization", 1), ("sources[0].id", 2)]
    assert found[0].message_th == "ต้องระบุข้อมูลในช่องนี้"


def test_every_problem_of_a_file_is_reported_at_once(tmp_path):
    (tmp_path / "broken.json").write_text('{"fields": "not a list"}', encoding="utf-8")
    found = problems(
        """\
        organization: ban-suan
        defaults:
          data_category: ข้อมูลลับ
        sources:
          - id: budget
            kind: tabular
            path: budget.csv
            url: https://example.go.th/budget.csv
            table_schema: budget
          - id: budget
            kind: tabular
            folder: data
            fq: "organization:x"
            table_schema: broken.json
            pii: {allow: [phone], mask: [phone]}
            dataset:
              name: ban-suan-{stem}
              titel: งบประมาณ
          - id: scans
            kind: tabular
            s3: s3://bucket/scans/
        """,
        base_dir=tmp_path,
    )

    assert where(found) == [
        ("defaults.data_category", 3),
        ("sources[0]", 5),  # both path and url
        ("sources[1].id", 10),  # duplicate id
        ("sources[1].fq", 13),  # a ckan key on a tabular source
        ("sources[1].table_schema", 14),
        ("sources[1].pii", 15),
        ("sources[1].dataset", 16),  # {stem} with several files but no per_file
        ("sources[1].dataset.titel", 18),
        ("sources[2].table_schema", 19),  # required for tabular
    ]
    by_path = {p.path: p for p in found}
    assert "found: path, url" in by_path["sources[0]"].message_en
    assert by_path["sources[0]"].message_th.startswith("ต้องระบุอย่างใดอย่างหนึ่งเท่านั้น")
    assert "already used by sources[0]" in by_path["sources[1].id"].message_en
    assert (
        "broken.json is not a valid Table Schema" in by_path["sources[1].table_schema"].message_en
    )
    assert "{stem}" in by_path["sources[1].dataset"].message_th


def test_an_agency_table_schema_is_loaded_from_beside_the_config(tmp_path):
    schema = {"fields": [{"name": "province", "type": "string"}]}
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "provinces.json").write_text(json.dumps(schema), encoding="utf-8")
    (tmp_path / "harvest.yaml").write_text(
        MINIMAL.replace("table_schema: budget", "table_schema: schemas/provinces.json"),
        encoding="utf-8",
    )

    config = load_config(str(tmp_path / "harvest.yaml"))

    assert config.sources[0].settings["table_schema"] == str(tmp_path / "schemas/provinces.json")


def test_yaml_syntax_errors_and_duplicate_keys_have_lines():
    found = problems("organization: ban-suan\nsources:\n  - id: [unclosed\n")
    assert found[0].line is not None and found[0].line >= 3
    assert found[0].message_en.startswith("Not valid YAML")
    assert found[0].message_th.startswith("ไฟล์ YAML ไม่ถูกต้อง")

    duplicated = problems(MINIMAL + "    table_schema: regulation\n")
    assert where(duplicated) == [("sources[0].table_schema", 7)]
    assert duplicated[0].message_en == "Duplicate key 'table_schema'."


def test_column_labels_that_yaml_reads_as_numbers_stay_labels():
    config = load_config(MINIMAL + '    columns: {2567: amount, "จังหวัด": province}\n')

    assert config.sources[0].settings["columns"] == {"2567": "amount", "จังหวัด": "province"}


def test_keys_of_another_kind_are_refused():
    found = problems(
        """\
        organization: ban-suan
        sources:
          - id: portal
            kind: ckan
            url: https://catalog.example.go.th
            sheet: Sheet1
        """
    )

    assert where(found) == [("sources[0].sheet", 6)]
    assert found[0].message_en == "Not used by sources of kind ckan."


def test_the_error_lists_every_problem_in_its_message():
    with pytest.raises(ConfigError) as caught:
        load_config("organization: ban-suan\nsources: []\n")

    assert "line 2, sources: Shorter than minimum length 1." in str(caught.value)


def test_a_missing_config_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_config(str(tmp_path / "harvest.yaml"))

    [problem] = caught.value.errors
    assert problem.message_en.startswith(f"cannot read {tmp_path / 'harvest.yaml'}")
    assert problem.message_th.startswith("อ่านไฟล์")
