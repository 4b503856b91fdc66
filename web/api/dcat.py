"""Placeholder: the dcat endpoints are being built."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api_dcat", __name__)
