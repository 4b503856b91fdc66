"""The organisation (publisher) schema: Thai public agencies, from ministries to อบต."""

from __future__ import annotations

import re

from marshmallow import ValidationError, validate

from schemas import messages as msg
from schemas import vocab
from schemas.fields import (
    MARKDOWN,
    ORG_REF_RE,
    SHORT,
    ProfileSchema,
    Text,
    choice_field,
    email_field,
    slug_field,
    url_field,
)

# Digits (Thai or Arabic), spaces and the usual separators, with an optional extension
# ("02 123 4567 ต่อ 89"); several numbers may be listed with commas.
_PHONE = re.compile(r"[0-9๐-๙+()./, -]+(?:\s*(?:ต่อ|ext\.?|x)\s*[0-9๐-๙]+)*", re.IGNORECASE)


def _check_phone(value: str) -> str:
    digits = sum(ch.isdigit() for ch in value)
    if digits < 3 or not _PHONE.fullmatch(value):
        raise ValidationError(msg.PHONE)
    return value


class OrganizationSchema(ProfileSchema):
    """An organisation (CKAN organization) with its Thai administrative type."""

    id = Text(100)
    name = slug_field(required=True)
    title = Text(SHORT, required=True)
    title_en = Text(SHORT)
    description = Text(MARKDOWN, multiline=True)
    description_en = Text(MARKDOWN, multiline=True)
    org_type = choice_field(vocab.ORGANIZATION_TYPES)
    parent = Text(100, validate=validate.Regexp(ORG_REF_RE, error=msg.ORG_REF))
    email = email_field()
    phone = Text(50, validate=_check_phone)
    website = url_field()
    image_url = url_field()
    address = Text(2000, multiline=True)
