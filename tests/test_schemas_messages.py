"""Every error a publisher can get from the metadata schemas reads in Thai as well as English."""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from typing import Any

import pytest
from marshmallow import Schema, ValidationError

from schemas import messages as msg
from schemas.dataset import DatasetSchema, GroupSchema, ResourceSchema
from schemas.organization import OrganizationSchema
from tests.test_schemas_dataset import GEO, OTHER, REC, STAT, dataset

THAI = re.compile("[ก-๙]")
OUR_TEMPLATES = [
    value for name, value in vars(msg).items() if name.isupper() and isinstance(value, str)
]


def sample(template: str) -> dict[str, str]:
    names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    return {n: "12" if n in {"min", "max", "equal"} else "ข้อมูลสถิติ, อื่นๆ" for n in names}


@pytest.mark.parametrize(("en", "th"), msg.MESSAGES, ids=[en[:40] for en, _ in msg.MESSAGES])
def test_every_template_translates_with_its_values(en: str, th: str) -> None:
    values = sample(en)
    assert msg.translate(en.format(**values), "th") == th.format(**values)
    assert THAI.search(th)


def test_our_own_messages_all_have_thai_templates() -> None:
    english = {en for en, _ in msg.MESSAGES}
    assert OUR_TEMPLATES and set(OUR_TEMPLATES) <= english


def test_numbers_choose_the_right_range_template() -> None:
    assert msg.translate("Must be greater than or equal to -180.", "th") == "ต้องมากกว่าหรือเท่ากับ -180"
    assert msg.translate("Must be greater than 0.", "th") == "ต้องมากกว่า 0"
    both = "Must be greater than or equal to -90 and less than or equal to 90."
    assert msg.translate(both, "th") == "ต้องมีค่าตั้งแต่ -90 ถึง 90"


def test_unknown_messages_and_languages_pass_through() -> None:
    assert msg.translate("Something new happened.", "th") == "Something new happened."
    assert msg.translate("Missing data for required field.", "en") == (
        "Missing data for required field."
    )
    assert msg.translate("Missing data for required field.", "lo") == (
        "Missing data for required field."
    )


def test_bilingual_messages_carry_their_thai_text() -> None:
    message = msg.Bilingual("day 31 does not exist", "ไม่มีวันที่ 31")
    assert message == "day 31 does not exist"
    assert msg.translate(message, "th") == "ไม่มีวันที่ 31"
    assert type(msg.translate(message, "en")) is str


def test_localise_errors_walks_nested_errors() -> None:
    errors = {
        "title": ["Missing data for required field."],
        "tags": {1: ["Longer than maximum length 100."]},
        "resources": {0: {"url": ["Not a valid URL."], "x": ["Unknown field."]}},
    }
    assert msg.localise_errors(errors, "th") == {
        "title": ["ต้องระบุข้อมูลในช่องนี้"],
        "tags": {1: ["ยาวเกินกำหนด (ไม่เกิน 100)"]},
        "resources": {0: {"url": ["URL ไม่ถูกต้อง"], "x": ["ไม่รู้จักช่องข้อมูลนี้"]}},
    }
    assert msg.localise_errors(errors, "en") == errors


# Values of the wrong type, size or form, tried on every field of every schema.
BAD_VALUES: list[Any] = [
    12345,
    -5,
    1.5,
    True,
    "ข้อความที่ไม่ใช่ค่าที่ถูกต้อง <>",
    "x" * 100_001,
    {"a": 1},
    [None],
    [12345, "?"],
    ["x"] * 1001,
    float("nan"),
    "1e999",
    "31/02/2567",
    "javascript:alert(1)",
]

SCHEMAS: list[type[Schema]] = [DatasetSchema, ResourceSchema, GroupSchema, OrganizationSchema]


def leaves(errors: Any) -> Iterator[str]:
    if isinstance(errors, dict):
        for value in errors.values():
            yield from leaves(value)
    elif isinstance(errors, list):
        for value in errors:
            yield from leaves(value)
    else:
        yield errors


def emitted(schema: Schema, data: Any, **kwargs: Any) -> list[str]:
    try:
        schema.load(data, **kwargs)
    except ValidationError as error:
        return list(leaves(error.messages))
    return []


def cross_field_cases() -> Iterator[Any]:
    yield {}
    yield ["not", "a", "dict"]
    yield dataset(REC, unknown_field=1)
    yield dataset(REC, objective=["อื่นๆ"], geo_coverage_other="ลุ่มน้ำ", disaggregate=["เพศ"])
    yield dataset(REC, data_category="ข้อมูลส่วนบุคคล", data_classification="เปิดเผย", private=False)
    yield dataset(REC, temporal_start="2567-02-01", temporal_end="2567-01-01")
    yield dataset(GEO, south_bound_longitude=20, north_bound_longitude=10)
    yield dataset(OTHER, data_type_other=None)
    yield dataset(STAT, tag_string=",,")
    yield dataset(STAT, resources=[{"name": "x"}, {"name": "y", "url": "ftp:/bad"}, 5])


def test_every_message_the_schemas_emit_has_a_thai_translation() -> None:
    found: set[str] = set()
    for schema_class in SCHEMAS:
        schema = schema_class()
        for field in schema.fields:
            for bad in BAD_VALUES:
                found.update(emitted(schema, {field: bad}, partial=True))
        found.update(emitted(schema, {}))
    for case in cross_field_cases():
        found.update(emitted(DatasetSchema(), case))
    untranslated = sorted(m for m in found if not THAI.search(msg.translate(m, "th")))
    assert untranslated == []
    # messages never echo a huge input back
    assert max(len(m) for m in found) < 1000
    # the sweep really reached our own rules, not just marshmallow's type errors
    hit = {t for t in OUR_TEMPLATES if any(msg.thai_template(m) == th_of(t) for m in found)}
    assert sorted(set(OUR_TEMPLATES) - hit) == []


def th_of(template: str) -> str:
    return dict(msg.MESSAGES)[template]
