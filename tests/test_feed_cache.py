"""The catalogue's per-dataset fragment cache (catalog.services.feed_cache, web.api.dcat): a
kept fragment is used only while everything it shows is unchanged, never for a dataset that
is no longer public, never with another host's URLs; the cache failing never fails a
request."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from rdflib import Graph
from rdflib.compare import isomorphic

from catalog import services
from catalog.demo import load_demo
from catalog.services import Context, feed_cache
from tests.factories import make_dataset, make_org
from tests.feeds_support import shacl_violations
from web import create_app
from web.api import dcat as dcat_api

RDF_FORMATS = {"ttl": "turtle", "jsonld": "json-ld", "rdf": "xml"}

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:rdflib.*")


@pytest.fixture
def app(catalog: services.Catalog) -> Flask:
    return create_app(catalog.settings, catalog=catalog)


def _cache(catalog: services.Catalog) -> feed_cache.FragmentCache:
    return feed_cache.fragment_cache(catalog.settings.data_dir)


def _kept(catalog: services.Catalog, fmt: str) -> int:
    db = _cache(catalog)._db()
    return db.execute("SELECT count(*) FROM fragment WHERE fmt = ?", (fmt,)).fetchone()[0]


def _body(app: Flask, url: str, base_url: str = "http://localhost") -> str:
    response = app.test_client().get(url, base_url=base_url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


@pytest.mark.parametrize("fmt", sorted(RDF_FORMATS))
def test_a_warm_catalogue_is_the_same_graph_as_a_cold_one(
    app: Flask, catalog: services.Catalog, system: Context, fmt: str
) -> None:
    load_demo(system)
    cold = _body(app, f"/catalog.{fmt}?page_size=1000")
    kept = _kept(catalog, fmt)
    assert kept == services.dataset_count(system)
    warm = _body(app, f"/catalog.{fmt}?page_size=1000")
    assert _kept(catalog, fmt) == kept
    graphs = [Graph().parse(data=text, format=RDF_FORMATS[fmt]) for text in (cold, warm)]
    # The same triples (blank-node labels are kept with the fragments, so even the text is).
    assert isomorphic(graphs[0], graphs[1])
    assert cold == warm
    assert shacl_violations(graphs[1]) == []
    assert dcat_api.BASE_TOKEN not in warm


def test_an_edited_dataset_is_rebuilt_in_every_process(
    app: Flask, catalog: services.Catalog, system: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_org(system, "ban-suan")
    ds = make_dataset(system, "ban-suan", name="cached", title="ชื่อเดิมของชุดข้อมูล")
    make_dataset(system, "ban-suan", name="other", title="ชุดข้อมูลอื่น")
    for fmt in RDF_FORMATS:
        assert "ชื่อเดิมของชุดข้อมูล" in _body(app, f"/catalog.{fmt}")
    services.package_patch(system, ds["id"], {"title": "ชื่อใหม่ของชุดข้อมูล"})
    # Another server process: its own store object and connection on the same file.
    monkeypatch.setattr(feed_cache, "_CACHES", {})
    other_app = create_app(catalog.settings, catalog=catalog)
    for fmt in RDF_FORMATS:
        for server in (other_app, app):
            body = _body(server, f"/catalog.{fmt}")
            assert "ชื่อใหม่ของชุดข้อมูล" in body and "ชื่อเดิมของชุดข้อมูล" not in body
            assert "ชุดข้อมูลอื่น" in body


def test_a_change_to_the_organisation_or_a_resource_is_rebuilt(
    app: Flask, catalog: services.Catalog, system: Context
) -> None:
    org = make_org(system, "ban-suan", title="เทศบาลตำบลบ้านสวน")
    ds = make_dataset(
        system,
        "ban-suan",
        name="cached",
        resources=[{"name": "ไฟล์เดิม", "url": "https://example.org/a.csv", "format": "CSV"}],
    )
    assert "เทศบาลตำบลบ้านสวน" in _body(app, "/catalog.ttl")
    services.organization_patch(system, org["id"], {"title": "เทศบาลเมืองบ้านสวน"})
    body = _body(app, "/catalog.ttl")
    assert "เทศบาลเมืองบ้านสวน" in body and "เทศบาลตำบลบ้านสวน" not in body
    res = services.package_show(system, ds["id"])["resources"][0]
    services.resource_patch(system, res["id"], {"name": "ไฟล์ที่เปลี่ยนชื่อ"})
    body = _body(app, "/catalog.ttl")
    assert "ไฟล์ที่เปลี่ยนชื่อ" in body and "ไฟล์เดิม" not in body


@pytest.mark.parametrize("change", ["private", "draft", "deleted"])
def test_a_dataset_no_longer_public_disappears(
    app: Flask, catalog: services.Catalog, system: Context, change: str
) -> None:
    make_org(system, "ban-suan")
    ds = make_dataset(system, "ban-suan", name="soon-hidden", title="ชุดข้อมูลที่จะถูกซ่อน")
    make_dataset(system, "ban-suan", name="stays", title="ชุดข้อมูลที่ยังอยู่")
    for fmt in RDF_FORMATS:
        assert ds["id"] in _body(app, f"/catalog.{fmt}")
    assert _kept(catalog, "ttl") == 2
    if change == "private":
        services.package_patch(system, ds["id"], {"private": True})
    elif change == "draft":
        services.package_patch(system, ds["id"], {"state": "draft"})
    else:
        services.package_delete(system, ds["id"])
    for fmt in RDF_FORMATS:
        body = _body(app, f"/catalog.{fmt}")
        assert ds["id"] not in body and "ชุดข้อมูลที่จะถูกซ่อน" not in body, (fmt, change)
        assert "ชุดข้อมูลที่ยังอยู่" in body


def test_two_hosts_never_mix(app: Flask, catalog: services.Catalog, system: Context) -> None:
    make_org(system, "ban-suan")
    make_dataset(system, "ban-suan", name="hosts")
    hosts = ["https://data.example.go.th", "http://intranet.local:8080", "http://[::1]:5000"]
    for _ in range(2):  # cold, then warm
        for fmt in RDF_FORMATS:
            for host in hosts:
                body = _body(app, f"/catalog.{fmt}", base_url=host)
                assert f"{host}/dataset/" in body
                assert dcat_api.BASE_TOKEN not in body
                for other in hosts:
                    assert other == host or other not in body


def test_a_host_needing_escapes_is_built_for_the_request_and_not_kept(
    app: Flask, catalog: services.Catalog, system: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_org(system, "ban-suan")
    make_dataset(system, "ban-suan", name="odd")
    # Werkzeug already refuses most odd Host headers; whatever the pattern does not accept
    # is written by the mappers with the request's own base, and not kept.
    monkeypatch.setattr(dcat_api, "_cacheable", lambda base: False)
    body = _body(app, "/catalog.jsonld", base_url="http://odd.example")
    assert "http://odd.example/dataset/" in body and dcat_api.BASE_TOKEN not in body
    Graph().parse(data=body, format="json-ld")
    assert _kept(catalog, "jsonld") == 0


def test_a_new_mapping_version_misses(
    app: Flask, catalog: services.Catalog, system: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_org(system, "ban-suan")
    ds = make_dataset(system, "ban-suan", name="versioned")
    _body(app, "/catalog.ttl")
    cache = _cache(catalog)
    key = f"{dcat_api.mapping_version()}|"
    (stamp,) = (
        cache._db().execute("SELECT stamp FROM fragment WHERE id = ?", (ds["id"],)).fetchone()
    )
    assert stamp.startswith(key)
    monkeypatch.setattr(dcat_api, "_MAPPING_VERSION", ["another"])
    _body(app, "/catalog.ttl")
    (stamp,) = (
        cache._db().execute("SELECT stamp FROM fragment WHERE id = ?", (ds["id"],)).fetchone()
    )
    assert stamp.startswith("another|")


def test_a_broken_cache_never_fails_the_request(
    app: Flask, catalog: services.Catalog, system: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_org(system, "ban-suan")
    ds = make_dataset(system, "ban-suan", name="unkept")
    folder = Path(catalog.settings.data_dir) / "not-a-database"
    (folder / "feed_cache.db").mkdir(parents=True)  # a folder where the file would be
    broken = feed_cache.FragmentCache(folder / "feed_cache.db")
    monkeypatch.setattr(feed_cache, "fragment_cache", lambda data_dir: broken)
    for fmt in RDF_FORMATS:
        body = _body(app, f"/catalog.{fmt}")
        assert ds["id"] in body
        Graph().parse(data=body, format=RDF_FORMATS[fmt])


def test_the_store_is_bounded_oldest_first(tmp_path: Path) -> None:
    cache = feed_cache.FragmentCache(tmp_path / "feed_cache.db", max_bytes=200_000)
    noise = __import__("random").Random(1)
    for batch in range(10):
        rows = []
        for n in range(100):
            text = "".join(noise.choice("abcdefghij") for _ in range(500))
            rows.append((f"d{batch:02d}-{n:03d}", "s1", text))
        cache.put_many("ttl", rows)
    assert cache.total_bytes() > 200_000
    assert cache.evict() > 0
    assert cache.total_bytes() <= 200_000
    left = cache.get_many("ttl", {f"d{b:02d}-000": "s1" for b in range(10)})
    assert "d09-000" in left and "d00-000" not in left
    # A fragment is only answered for the stamp it was made with.
    assert cache.get_many("ttl", {"d09-000": "s2"}) == {}


def test_pieces_pack_and_unpack() -> None:
    pieces = ["a\nb", "", "ไทย,1\n", "x" * 1000]
    assert feed_cache.unpack(feed_cache.pack(pieces)) == pieces
