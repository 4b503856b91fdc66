"""Test data built through the services, so it passes the real validation."""

from __future__ import annotations

import itertools
from typing import Any

from catalog import services
from catalog.services import Context

_seq = itertools.count(1)


def dataset_data(owner_org: str, **overrides: Any) -> dict[str, Any]:
    """A complete, valid public dataset dict (record data, Thai titles, BE fiscal year)."""
    n = next(_seq)
    data: dict[str, Any] = {
        "name": f"budget-{n}",
        "title": f"งบประมาณรายจ่ายประจำปี พ.ศ. 2567 ชุดที่ {n}",
        "title_en": f"Annual budget FY2024 no. {n}",
        "notes": "ข้อบัญญัติงบประมาณรายจ่ายประจำปีงบประมาณ พ.ศ. 2567 แยกตามแผนงาน",
        "owner_org": owner_org,
        "tags": ["งบประมาณ", "การคลัง"],
        "license_id": "odc-thai",
        "maintainer": "กองคลัง",
        "maintainer_email": "finance@example.org",
        "data_type": "ข้อมูลระเบียน",
        "objective": ["พันธกิจหน่วยงาน"],
        "update_frequency_unit": "ปี",
        "update_frequency_interval": 1,
        "geo_coverage": "เทศบาล/อบต.",
        "data_source": "กองคลัง",
        "data_format": ["CSV"],
        "data_category": "ข้อมูลสาธารณะ",
        "data_classification": "เปิดเผย",
        "fiscal_year": 2567,
    }
    data.update(overrides)
    return data


def make_org(ctx: Context, name: str | None = None, **overrides: Any) -> dict[str, Any]:
    n = next(_seq)
    data = {
        "name": name or f"org-{n}",
        "title": f"เทศบาลตำบลทดสอบ {n}",
        "title_en": f"Test Subdistrict Municipality {n}",
        "org_type": "municipality",
    }
    data.update(overrides)
    return services.organization_create(ctx, data)


def make_user(ctx: Context, name: str | None = None, *, sysadmin: bool = False) -> str:
    user = name or f"user{next(_seq)}"
    services.user_create(ctx, user, f"{user}@example.org", "correct-horse-2567", sysadmin=sysadmin)
    return user


def make_dataset(ctx: Context, owner_org: str, **overrides: Any) -> dict[str, Any]:
    return services.package_create(ctx, dataset_data(owner_org, **overrides))
