"""Placeholder: the openapi endpoints are being built."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api_openapi", __name__)
