"""The action registry: every public service operation, registered once under its CKAN name.

A registered action carries what the doors need to serve it without an adapter of their own:
the function, a marshmallow schema of its parameters (which also turns CKAN's wire forms into
the function's typed keyword arguments), the permission it needs, whether it is safe to call
with GET, the type of its result and its docstring. The CKAN Action API, ``help_show``, the
OpenAPI document and the pages' JSON twins are all generated from this table.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar, get_type_hints

from marshmallow import EXCLUDE, Schema, ValidationError

from catalog.services.context import Context
from catalog.services.errors import NotAuthorized, ServiceError, ValidationFailed

F = TypeVar("F", bound=Callable[..., Any])

#: Who may call an action at all; the service still checks each object it touches.
PERMISSIONS = {
    "anyone": "Anyone, signed in or not; private objects stay hidden from those who may not read them.",
    "signed-in": "A signed-in user or an API token.",
    "sysadmin": "A system administrator.",
}

#: Modules whose import registers actions (kept here so the registry is complete on first use).
_MODULES = (
    "catalog.services.site",
    "catalog.services.datasets",
    "catalog.services.search",
    "catalog.services.resources",
    "catalog.services.organizations",
    "catalog.services.datastore",
)


_FIELD = re.compile(r"^:(?P<kind>param|returns|raises)\s*(?P<name>[\w.]+)?:\s*(?P<text>.*)$")


@dataclass(frozen=True)
class HelpParts:
    """An action's help split for display: paragraphs, parameters, result and errors."""

    description: list[str]
    params: list[tuple[str, str]]
    returns: str
    raises: list[str]


class UnknownAction(ServiceError):
    """No action has that name."""


@dataclass(frozen=True)
class Action:
    """One registered operation."""

    name: str
    func: Callable[..., Any]
    params: type[Schema]
    permission: str
    side_effect_free: bool

    @property
    def doc(self) -> str:
        """The function's docstring: the action's help text."""
        return inspect.getdoc(self.func) or ""

    @property
    def summary(self) -> str:
        return self.doc.split("\n\n", 1)[0].replace("\n", " ")

    def help_parts(self) -> HelpParts:
        """The docstring in parts: description, ``:param:`` lines, returns and raises."""
        description: list[str] = []
        fields: list[list[str]] = []
        for line in self.doc.splitlines():
            match = _FIELD.match(line)
            if match:
                fields.append([match["kind"], match["name"] or "", match["text"].strip()])
            elif fields and line.startswith(" "):  # a field's text goes on
                fields[-1][2] += " " + line.strip()
            else:
                description.append(line)
        text = "\n".join(description).strip()
        return HelpParts(
            description=[p.replace("\n", " ") for p in text.split("\n\n") if p],
            params=[(name, t) for kind, name, t in fields if kind == "param"],
            returns=" ".join(t for kind, _, t in fields if kind == "returns"),
            raises=[f"{name}: {t}" for kind, name, t in fields if kind == "raises"],
        )

    @property
    def result_type(self) -> Any:
        """The function's annotated return type (a TypedDict, a list of one, ...)."""
        return get_type_hints(self.func).get("return", Any)

    def call(self, ctx: Context, data: Mapping[str, Any]) -> Any:
        """Run the action with wire parameters: validated, permission-checked, then called.

        :raises ValidationFailed: a parameter is missing or malformed (field errors).
        :raises NotAuthorized: the caller may not call this action at all.
        """
        kwargs = self.load(data)
        check_permission(ctx, self.permission)
        return self.func(ctx, **kwargs)

    def load(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Validate and convert wire parameters into the function's keyword arguments."""
        try:
            return self.params(unknown=EXCLUDE).load(dict(data))
        except ValidationError as exc:
            messages = exc.messages if isinstance(exc.messages, dict) else {"_": exc.messages}
            raise ValidationFailed(messages) from None


_ACTIONS: dict[str, Action] = {}


def action(
    name: str,
    params: type[Schema],
    *,
    permission: str = "anyone",
    side_effect_free: bool = True,
) -> Callable[[F], F]:
    """Register the decorated service function as the action `name`."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")

    def register(func: F) -> F:
        if name in _ACTIONS and _ACTIONS[name].func is not func:
            raise ValueError(f"action {name} is registered twice")
        _ACTIONS[name] = Action(name, func, params, permission, side_effect_free)
        return func

    return register


@cache
def actions() -> dict[str, Action]:
    """Every registered action by name, in name order (its modules imported on first use)."""
    for module in _MODULES:
        importlib.import_module(module)
    return dict(sorted(_ACTIONS.items()))


def get_action(name: str) -> Action:
    """The action called `name`.

    :raises UnknownAction: no action has that name.
    """
    found = actions().get(name)
    if found is None:
        raise UnknownAction(f"Action name not known: {name}")
    return found


def check_permission(ctx: Context, permission: str) -> None:
    """Refuse a caller who cannot call an action of this permission at all."""
    if ctx.system or permission == "anyone":
        return
    if ctx.user is None:
        raise NotAuthorized("Access denied: sign in or send an API token")
    if permission == "sysadmin":
        from catalog.services import auth

        with ctx.catalog.reader() as session:
            if not auth.is_sysadmin(ctx, session):
                raise NotAuthorized("Access denied: system administrators only")


def call_action(ctx: Context, name: str, data: Mapping[str, Any]) -> Any:
    """Call an action with wire parameters: validated, permission-checked, then run.

    :raises UnknownAction: no such action.
    :raises ValidationFailed: a parameter is missing or malformed (field errors).
    """
    return get_action(name).call(ctx, data)
