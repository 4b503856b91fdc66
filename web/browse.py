"""Public pages: the home page, datasets, organisations and file downloads."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
)
from werkzeug.wrappers import Response as BaseResponse

from catalog import services

bp = Blueprint("browse", __name__)


def ctx() -> services.Context:
    from web.context import context

    return context()


@bp.get("/")
def home() -> str:
    context = ctx()
    organizations = services.organization_list(context, all_fields=True)
    datasets = services.dataset_list(context, limit=20)
    return render_template(
        "browse/home.html",
        organizations=organizations,
        datasets=datasets,
        total=services.dataset_count(context),
    )


@bp.get("/dataset/<name>")
def dataset(name: str) -> BaseResponse:
    from web.api.dcat import dataset_document, negotiated_format

    # Linked-data clients asking for RDF (Accept) get the DCAT-AP document at the same URL.
    fmt = negotiated_format(request)
    if fmt is not None:
        return dataset_document(name, fmt)
    page = render_template("browse/dataset.html", ds=services.package_show(ctx(), name))
    response = make_response(page)
    response.vary.add("Accept")
    return response


@bp.get("/organization/<name>")
def organization(name: str) -> str:
    context = ctx()
    org = services.organization_show(context, name)
    datasets = services.dataset_list(context, organization=name, limit=200)
    return render_template("browse/organization.html", org=org, datasets=datasets)


@bp.get("/dataset/<dataset_id>/resource/<resource_id>/download/<path:filename>")
@bp.get("/dataset/<dataset_id>/resource/<resource_id>/download")
def download(dataset_id: str, resource_id: str, filename: str = "") -> BaseResponse:
    info, stream, url = services.resource_download(ctx(), resource_id)
    if info["package_id"] != dataset_id:
        raise services.NotFound(f"Not found: resource {resource_id}")
    if url:
        return redirect(url, code=302)
    if stream is None:
        return redirect(info["url"], code=302)
    response: Response = send_file(
        stream,
        mimetype=info["mimetype"] or "application/octet-stream",
        as_attachment=True,
        download_name=info["filename"] or filename or "download",
        max_age=3600,
    )
    return response


def template_globals() -> dict[str, Any]:
    from web.i18n import gettext, lang, localized

    settings = current_app.config["KHLANG"]
    title = settings.SITE_TITLE_EN if lang() == "en" else settings.SITE_TITLE_TH
    return {"_": gettext, "lang": lang, "localized": localized, "site_title": title}
