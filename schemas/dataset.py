"""The dataset metadata profile (CKAN names + DCAT-AP + Thai GDC) as marshmallow schemas.

`DatasetSchema().load(data)` takes what the API, the forms or a harvester send and returns a
clean dict of Python values (dates as `datetime.date`, BE years as ints, flags as bools), or
raises `marshmallow.ValidationError` whose `.messages` are field errors (translate them with
`schemas.messages.localise_errors`). Misspelt fields are errors (`unknown=RAISE`).

Choices made here:
- Empty values (None, blank strings, empty lists) count as "not given", as CKAN forms send ""
  for every untouched input.
- Years (fiscal_year, first/last_year_of_data) are stored as Buddhist Era ints, 2400..2700, the
  way GDC catalogues store them; a CE year (1857..2157) is accepted and converted (+543).
- Dates accept ISO, BE ISO, 15/01/2567, 15 ม.ค. 2567 and Thai digits; they are stored in CE.
- `private` left out defaults to False for ข้อมูลสาธารณะ and True for the other data
  categories; an explicit `private: false` on a non-public category is refused.
- `tag_string` ("a,b,c") replaces `tags` when both are sent, as in CKAN. Errors are under `tags`.
- license_id accepts our ids and the titles GDC catalogues store ("Open Data Common") and
  returns our id; state "active" (CKAN) is read as "published".
- Cross-field rules are skipped by a `partial=True` load, which cannot see the stored dataset;
  use `validate_dataset(patch, partial_base=stored)` for package_patch.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import (
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates_schema,
)

from schemas import messages as msg
from schemas import vocab
from schemas.fields import (
    LANGUAGE_RE,
    LONG,
    MARKDOWN,
    MAX_GROUPS,
    MAX_RESOURCES,
    MIMETYPE_RE,
    ORG_REF_RE,
    SHORT,
    BEYear,
    BoundedList,
    Flag,
    Format,
    LicenseId,
    Names,
    ProfileSchema,
    Spatial,
    TableSchema,
    Tags,
    Text,
    ThaiDate,
    choice_field,
    drop_empty,
    email_field,
    is_empty,
    multi_choice,
    slug_field,
    url_field,
)


def _add(errors: dict[str, Any], field: str, message: str) -> None:
    # One cross-field error per field is enough to tell the user what to fix.
    errors.setdefault(field, [message])


def _has(value: Any) -> bool:
    # A hidden flag left at False (the GDC form's default) is not a value worth refusing.
    return not is_empty(value) and value is not False


def profile_errors(
    data: Mapping[str, Any],
    *,
    data_type: str | None,
    shown_for: Mapping[str, frozenset[str]],
    companions: Mapping[str, tuple[str, str]],
) -> dict[str, list[str]]:
    """GDC form rules on loaded data: fields hidden for `data_type`, and `*_other` companions."""
    errors: dict[str, list[str]] = {}
    if data_type in vocab.values(vocab.DATA_TYPES):
        for field, types in shown_for.items():
            if data_type not in types and _has(data.get(field)):
                _add(errors, field, msg.NOT_FOR_DATA_TYPE.format(data_type=data_type))
    for field, (other, trigger) in companions.items():
        value = data.get(field)
        chosen = trigger in value if isinstance(value, list) else value == trigger
        if chosen and not _has(data.get(other)):
            _add(errors, other, msg.OTHER_REQUIRED.format(field=field, value=trigger))
        elif not chosen and _has(data.get(other)) and field in data:
            _add(errors, other, msg.OTHER_UNUSED.format(field=field, value=trigger))
    return errors


def _order_errors(
    data: Mapping[str, Any], pairs: tuple[tuple[str, str], ...], message: str
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for low, high in pairs:
        if data.get(low) is not None and data.get(high) is not None and data[high] < data[low]:
            _add(errors, high, message.format(other=low))
    return errors


class ResourceSchema(ProfileSchema):
    """A resource (distribution). Data-type rules need the dataset: see `validate_resource`."""

    id = Text(100)
    package_id = Text(100)
    name = Text(SHORT, required=True)
    name_en = Text(SHORT)
    description = Text(MARKDOWN, multiline=True)
    format = Format()
    mimetype = Text(200, validate=validate.Regexp(MIMETYPE_RE, error=msg.MIMETYPE))
    url = Text(2000)
    url_type = Text(20, validate=validate.OneOf(("upload",)))
    size = fields.Integer(validate=validate.Range(min=0))
    hash = Text(200)
    schema = TableSchema()
    private = Flag()
    resource_accessible_condition = Text(10000, multiline=True)
    resource_data_collect = choice_field(vocab.DATA_COLLECT)
    resource_data_collect_other = Text(SHORT)
    resource_first_year_of_data = BEYear()
    resource_last_year_of_data = BEYear()
    resource_disaggregate = multi_choice(vocab.DISAGGREGATE)
    resource_disaggregate_other = Text(SHORT)
    resource_unit_of_measure = Text(200)
    resource_unit_of_multiplier = choice_field(vocab.UNIT_OF_MULTIPLIER)
    resource_unit_of_multiplier_other = Text(SHORT)
    resource_geographic_data_set = choice_field(vocab.GEOGRAPHIC_DATA_SETS)
    resource_equivalent_scale = choice_field(vocab.EQUIVALENT_SCALES)
    resource_equivalent_scale_other = Text(SHORT)
    resource_positional_accuracy = Text(SHORT)
    resource_created_date = ThaiDate()
    resource_last_updated_date = ThaiDate()
    resource_data_release_calendar = ThaiDate()
    resource_official_statistics = Flag()
    resource_data_release_date = ThaiDate()
    resource_cdp = choice_field(vocab.RESOURCE_CDP)

    @validates_schema(skip_on_field_errors=False)
    def _rules(self, data: dict[str, Any], partial: Any = None, **kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        link = data.get("url_type") != "upload"
        if link and "url" in data:
            try:
                validate.URL(schemes={"http", "https", "ftp", "ftps"})(data["url"])
            except ValidationError as error:
                errors["url"] = list(error.messages)
        elif link and not partial:
            errors["url"] = [msg.URL_OR_UPLOAD]
        if not partial:
            errors.update(
                profile_errors(
                    data, data_type=None, shown_for={}, companions=vocab.RESOURCE_OTHER_COMPANIONS
                )
            )
            years = (("resource_first_year_of_data", "resource_last_year_of_data"),)
            errors.update(_order_errors(data, years, msg.NOT_BEFORE))
        if errors:
            raise ValidationError(errors)


class DatasetSchema(ProfileSchema):
    """A dataset: CKAN package fields, DCAT-AP additions and every GDC field of reference B.1."""

    # CKAN / DCAT-AP
    id = Text(100)
    name = slug_field(required=True)
    title = Text(SHORT, required=True)
    title_en = Text(SHORT)
    notes = Text(MARKDOWN, multiline=True, required=True)
    notes_en = Text(MARKDOWN, multiline=True)
    owner_org = Text(100, required=True, validate=validate.Regexp(ORG_REF_RE, error=msg.ORG_REF))
    private = Flag()
    state = choice_field(vocab.STATES, load_default="published")
    tags = Tags(required=True)
    groups = Names(MAX_GROUPS)
    license_id = LicenseId(required=True)
    license_id_other = Text(SHORT)
    maintainer = Text(200, required=True)
    maintainer_email = email_field(required=True)
    author = Text(200)
    author_email = email_field()
    url = url_field()
    version = Text(100)
    issued = ThaiDate()
    modified = ThaiDate()
    temporal_start = ThaiDate()
    temporal_end = ThaiDate()
    spatial = Spatial()
    access_rights = choice_field(vocab.ACCESS_RIGHTS)
    language = BoundedList(
        Text(20, validate=validate.Regexp(LANGUAGE_RE, error=msg.LANGUAGE)),
        max_items=20,
        scalar=True,
        unique=True,
        load_default=lambda: ["th"],
    )
    fiscal_year = BEYear()
    resources = BoundedList(fields.Nested(ResourceSchema), max_items=MAX_RESOURCES)
    # Thai GDC (reference B.1, in form order)
    data_type = choice_field(vocab.DATA_TYPES, required=True)
    data_type_other = Text(SHORT)
    allow_harvest = Flag()
    reference_url_catalog = url_field()
    objective = multi_choice(vocab.OBJECTIVES, required=True)
    objective_other = Text(SHORT)
    update_frequency_unit = choice_field(vocab.UPDATE_FREQUENCY_UNITS, required=True)
    update_frequency_unit_other = Text(SHORT)
    update_frequency_interval = fields.Integer(validate=validate.Range(min=1, max=10000))
    geo_coverage = choice_field(vocab.GEO_COVERAGE, required=True)
    geo_coverage_other = Text(SHORT)
    data_source = Text(LONG, required=True)
    data_format = multi_choice(vocab.DATA_FORMATS, required=True)
    data_format_other = Text(SHORT)
    data_category = choice_field(vocab.DATA_CATEGORIES, required=True)
    data_classification = choice_field(vocab.DATA_CLASSIFICATIONS)
    accessible_condition = Text(10000, multiline=True)
    data_support = choice_field(vocab.DATA_SUPPORT)
    data_support_other = Text(SHORT)
    data_collect = choice_field(vocab.DATA_COLLECT)
    data_collect_other = Text(SHORT)
    data_language = multi_choice(vocab.DATA_LANGUAGES)
    data_language_other = Text(SHORT)
    created_date = ThaiDate()
    last_updated_date = ThaiDate()
    data_release_calendar = ThaiDate()
    first_year_of_data = BEYear()
    last_year_of_data = BEYear()
    disaggregate = multi_choice(vocab.DISAGGREGATE)
    disaggregate_other = Text(SHORT)
    unit_of_measure = Text(200)
    unit_of_multiplier = choice_field(vocab.UNIT_OF_MULTIPLIER)
    unit_of_multiplier_other = Text(SHORT)
    calculation_method = Text(10000, multiline=True)
    standard = Text(LONG)
    geographic_data_set = choice_field(vocab.GEOGRAPHIC_DATA_SETS)
    equivalent_scale = choice_field(vocab.EQUIVALENT_SCALES)
    equivalent_scale_other = Text(SHORT)
    west_bound_longitude = fields.Float(validate=validate.Range(min=-180, max=180))
    east_bound_longitude = fields.Float(validate=validate.Range(min=-180, max=180))
    # The GDC names say "longitude", but these two are latitudes.
    north_bound_longitude = fields.Float(validate=validate.Range(min=-90, max=90))
    south_bound_longitude = fields.Float(validate=validate.Range(min=-90, max=90))
    positional_accuracy = Text(SHORT)
    reference_period = Text(SHORT)
    data_release_date = ThaiDate()
    high_value_dataset = Flag()
    reference_data = Flag()
    official_statistics = Flag()

    @pre_load
    def _prepare(self, data: Any, **kwargs: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        out = drop_empty(data)
        if "tag_string" in out:
            out["tags"] = out.pop("tag_string")
        if out.get("state") == "active":
            out["state"] = "published"
        return out

    @validates_schema(skip_on_field_errors=False)
    def _rules(self, data: dict[str, Any], partial: Any = None, **kwargs: Any) -> None:
        if partial:
            return
        errors = dataset_rule_errors(data)
        if errors:
            raise ValidationError(errors)

    @post_load
    def _fill(self, data: dict[str, Any], partial: Any = None, **kwargs: Any) -> dict[str, Any]:
        if partial:
            return data
        category = data["data_category"]
        allowed = vocab.CLASSIFICATION_RULE[category]
        if "data_classification" not in data and len(allowed) == 1:
            data["data_classification"] = allowed[0]
        data.setdefault("private", category != vocab.PUBLIC_CATEGORY)
        return data


def dataset_rule_errors(data: Mapping[str, Any]) -> dict[str, Any]:
    """The cross-field errors of a loaded dataset (GDC form logic, B.3, date order)."""
    data_type = data.get("data_type")
    errors: dict[str, Any] = profile_errors(
        data,
        data_type=data_type,
        shown_for=vocab.DATASET_FIELD_TYPES,
        companions=vocab.DATASET_OTHER_COMPANIONS,
    )
    category = data.get("data_category")
    if category in vocab.CLASSIFICATION_RULE:
        allowed = vocab.CLASSIFICATION_RULE[category]
        chosen = data.get("data_classification")
        if chosen is not None and chosen not in allowed:
            text = msg.CLASSIFICATION.format(category=category, allowed=", ".join(allowed))
            _add(errors, "data_classification", text)
        if category != vocab.PUBLIC_CATEGORY and data.get("private") is False:
            _add(errors, "private", msg.NOT_PUBLIC.format(category=category))
    dates = (("temporal_start", "temporal_end"), ("first_year_of_data", "last_year_of_data"))
    for field, message in _order_errors(data, dates, msg.NOT_BEFORE).items():
        errors.setdefault(field, message)
    bounds = (("south_bound_longitude", "north_bound_longitude"),)
    for field, message in _order_errors(data, bounds, msg.NOT_LESS).items():
        errors.setdefault(field, message)
    resource_errors: dict[int, Any] = {}
    for index, resource in enumerate(data.get("resources") or []):
        if not isinstance(resource, Mapping):
            continue
        found = profile_errors(
            resource, data_type=data_type, shown_for=vocab.RESOURCE_FIELD_TYPES, companions={}
        )
        if found:
            resource_errors[index] = found
    if resource_errors:
        errors["resources"] = resource_errors
    return errors


def _merge(base: Mapping[str, Any] | None, patch: Mapping[str, Any]) -> dict[str, Any]:
    # A None in the patch clears the stored value (pre_load drops empty values).
    return {**(base or {}), **patch}


def validate_dataset(
    data: Mapping[str, Any], *, partial_base: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Validate a dataset; with `partial_base` (the stored dataset) `data` is a patch.

    The patch is merged over the base and the whole is validated, so cross-field rules see the
    result (package_patch). Returns the clean dataset dict.

    :raises marshmallow.ValidationError: with field errors.
    """
    return DatasetSchema().load(_merge(partial_base, data))


def validate_resource(
    data: Mapping[str, Any],
    *,
    data_type: str | None = None,
    partial_base: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Validate a resource alone (resource_create/patch); `data_type` is its dataset's.

    :raises marshmallow.ValidationError: with field errors.
    """

    def hidden(loaded: Any) -> dict[str, list[str]]:
        if not isinstance(loaded, Mapping):
            return {}
        return profile_errors(
            loaded, data_type=data_type, shown_for=vocab.RESOURCE_FIELD_TYPES, companions={}
        )

    try:
        loaded = ResourceSchema().load(_merge(partial_base, data))
    except ValidationError as error:
        extra = hidden(error.valid_data)
        if extra and isinstance(error.messages, dict):
            raise ValidationError({**extra, **error.messages}) from error
        raise
    errors = hidden(loaded)
    if errors:
        raise ValidationError(errors)
    return loaded


class GroupSchema(ProfileSchema):
    """A group (theme) of one of the seven GDC group families."""

    id = Text(100)
    name = slug_field(required=True)
    title = Text(SHORT, required=True)
    title_en = Text(SHORT)
    description = Text(MARKDOWN, multiline=True)
    family = choice_field(vocab.GROUP_FAMILIES)
    image_url = url_field()
