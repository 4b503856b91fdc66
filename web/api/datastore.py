"""Placeholder: the datastore endpoints are being built."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api_datastore", __name__)
