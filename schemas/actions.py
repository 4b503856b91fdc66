"""Parameters of the public actions, as marshmallow schemas (pure: no database, no Flask).

Each schema reads what a CKAN client sends (JSON values, or strings from a query string or a
form) and loads it into the keyword arguments of the service function registered with it.
CKAN's wire names that are not Python names (``facet.field``) use ``data_key``.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class NoParams(Schema):
    """An action without parameters."""


class HelpShowParams(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
