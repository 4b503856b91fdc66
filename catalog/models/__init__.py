"""SQLAlchemy models of the catalogue. Import from here so every table is registered."""

from catalog.models.account import ApiToken, Membership, User
from catalog.models.activity import Activity
from catalog.models.base import Base
from catalog.models.change import CatalogueChange
from catalog.models.dataset import (
    Dataset,
    DatasetVersion,
    Resource,
    Tag,
    dataset_group,
    dataset_tag,
)
from catalog.models.harvest import HarvestJob, HarvestMap, HarvestObject, HarvestSource
from catalog.models.organization import Group, Organization
from catalog.models.outbox import SearchOutbox

__all__ = [
    "Activity",
    "ApiToken",
    "Base",
    "CatalogueChange",
    "Dataset",
    "DatasetVersion",
    "Group",
    "HarvestJob",
    "HarvestMap",
    "HarvestObject",
    "HarvestSource",
    "Membership",
    "Organization",
    "Resource",
    "SearchOutbox",
    "Tag",
    "User",
    "dataset_group",
    "dataset_tag",
]
