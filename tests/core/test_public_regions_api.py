from __future__ import annotations

from typing import Any

from django.test import Client


def test_region_tree_lists_every_level_with_its_parent(
    county_map: Any, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(3):
        response = Client().get("/api/v1/public/regions/")
    assert response.status_code == 200
    rows = {r["code"]: r for r in response.json()}
    assert rows[county_map.county.code] == {
        "code": county_map.county.code,
        "name": county_map.county.name,
        "level": "county",
        "parent": None,
    }
    assert rows[county_map.village_b1.code]["parent"] == county_map.town_b.code
    assert rows[county_map.town_a.code]["level"] == "township"
    assert response["Cache-Control"].startswith("no-store")


def test_unknown_api_path_answers_json_404_in_the_error_format(db: Any) -> None:
    response = Client(raise_request_exception=False).get("/api/v1/public/nothing-here/")
    assert response.status_code == 404
    assert response.json() == {"message": "未找到。", "extra": {}}


def test_schema_and_docs_are_served_without_a_cdn(db: Any) -> None:
    client = Client()
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/public/regions/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "cdn" not in html.lower() and "https://" not in html
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.content.decode()
