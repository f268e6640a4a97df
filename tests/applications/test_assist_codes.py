"""救助码: the URLs behind the QR codes, the images, the posters, and their scoped admin downloads."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any
from urllib.parse import unquote

import pytest
from django.urls import reverse
from PIL import Image

from applications.assist_codes import (
    assist_code_url,
    assist_codes_zip,
    family_url,
    poster_html,
    poster_pdf,
    township_batch,
)
from applications.models import Application
from assist_center.qr import BORDER, qr_matrix, qr_png, qr_svg

from .test_application_form_pdf import embedded_fonts, page_count

SITE = "https://jz.example.gov.cn"


@pytest.fixture(autouse=True)
def _site(settings: Any) -> None:
    settings.SITE_URL = SITE
    settings.COUNTY_NAME = "三门县"


# --- URLs and images -------------------------------------------------------------------------------


def test_the_assist_code_url_carries_only_the_region_code(county_map: Any) -> None:
    assert assist_code_url(county_map.village_a1) == f"{SITE}/apply/331099101201/"
    assert assist_code_url(county_map.county) == f"{SITE}/apply/331099000000/"


def test_the_family_url_carries_only_the_token() -> None:
    app = Application(receipt_code="K7M2Q9XW", family_token="Zq3xY_8-token")
    assert family_url(app) == f"{SITE}/family/Zq3xY_8-token/"


def test_the_png_is_the_qr_code_of_the_url(county_map: Any) -> None:
    url = assist_code_url(county_map.village_a1)
    box = 10

    with Image.open(io.BytesIO(qr_png(url, box_size=box))) as image:
        assert image.format == "PNG"
        pixels = image.convert("L")
        width, height = pixels.size

        matrix = qr_matrix(url)
        n = len(matrix)
        assert width == height == (n + 2 * BORDER) * box
        # Sample the centre of every module: the image is exactly the library's matrix for the URL,
        # which is as good as decoding it (no zbar on this machine).
        for y, row in enumerate(matrix):
            for x, dark in enumerate(row):
                centre = ((x + BORDER) * box + box // 2, (y + BORDER) * box + box // 2)
                assert (pixels.getpixel(centre) < 128) == dark, (x, y)
        # The quiet zone is white.
        assert pixels.getpixel((box, box)) > 200


def test_the_svg_is_inlineable_markup_of_the_same_code(county_map: Any) -> None:
    url = assist_code_url(county_map.village_a1)
    svg = qr_svg(url)
    assert svg.startswith("<svg") and "<?xml" not in svg
    n = len(qr_matrix(url)) + 2 * BORDER
    assert f'viewBox="0 0 {n} {n}"' in svg
    # One unit square per dark module in the path.
    dark = sum(sum(row) for row in qr_matrix(url))
    assert len(re.findall(r"M\d+,\d+H\d+V\d+H\d+z", svg)) == dark


def test_the_zip_holds_one_png_per_region_named_code_and_name(county_map: Any) -> None:
    regions = township_batch(county_map.town_a)
    with zipfile.ZipFile(io.BytesIO(assist_codes_zip(regions))) as archive:
        assert archive.namelist() == [
            "331099101000-海游街道.png",
            "331099101201-上叶村.png",
            "331099101202-下叶村.png",
        ]
        with Image.open(io.BytesIO(archive.read("331099101201-上叶村.png"))) as image:
            assert image.size[0] == image.size[1] > 200


# --- posters ---------------------------------------------------------------------------------------


def test_a_poster_has_the_title_the_region_path_the_steps_and_the_url(county_map: Any) -> None:
    html = poster_html([county_map.village_a1])
    assert "三门县" in html and "困难群众救助 扫码申请" in html
    assert re.search(r"测试县.*海游街道.*上叶村", html, re.S)
    assert "短信验证码" in html and "回执码" in html and "家庭码" in html
    assert f"{SITE}/apply/331099101201/" in html
    assert "data:image/svg+xml;base64," in html


def test_the_poster_pdf_has_one_a4_page_per_region_and_embedded_cjk_fonts(county_map: Any) -> None:
    c = county_map
    pdf = poster_pdf([c.county, c.village_a1])
    assert pdf.startswith(b"%PDF-")
    assert page_count(pdf) == 2
    assert any("Noto-Sans-CJK" in f for f in embedded_fonts(pdf))


def test_a_township_batch_is_the_township_and_each_of_its_villages(county_map: Any) -> None:
    c = county_map
    batch = township_batch(c.town_a)
    assert [r.code for r in batch] == [c.town_a.code, c.village_a1.code, c.village_a2.code]
    assert page_count(poster_pdf(batch)) == 1 + 2


def test_a_region_name_with_markup_is_printed_as_text(county_map: Any) -> None:
    region = county_map.village_b1
    region.name = "<b>沙柳村</b>"
    html = poster_html([region])
    assert "<b>沙柳村</b>" not in html and "&lt;b&gt;沙柳村&lt;/b&gt;" in html


# --- admin -----------------------------------------------------------------------------------------


def _url(name: str, region: Any) -> str:
    return reverse(f"admin:applications_assistcode_{name}", args=[region.pk])


DOWNLOADS = {
    "poster": "application/pdf",
    "qr_png": "image/png",
    "qr_svg": "image/svg+xml",
    "township_posters": "application/pdf",
    "township_zip": "application/zip",
}


def test_the_coordinator_downloads_every_file_as_a_named_attachment(
    county_map: Any, personas: Any, login: Any
) -> None:
    client = login(personas.coordinator)
    for name, content_type in DOWNLOADS.items():
        response = client.get(_url(name, county_map.town_a))
        assert response.status_code == 200, name
        assert response["Content-Type"] == content_type
        disposition = response["Content-Disposition"]
        ascii_name = re.search(r'filename="([^"]+)"', disposition)
        assert ascii_name and ascii_name.group(1).isascii()
        utf8_name = unquote(disposition.split("filename*=UTF-8''")[1])
        assert "331099101000" in utf8_name
        if name != "township_zip":
            assert "海游街道" in utf8_name

    png = client.get(_url("qr_png", county_map.village_a1))
    assert unquote(png["Content-Disposition"].split("''")[1]) == "331099101201-上叶村.png"
    assert page_count(client.get(_url("township_posters", county_map.town_a)).content) == 3
    svg = client.get(_url("qr_svg", county_map.village_a1)).content.decode()
    assert svg.startswith("<?xml") and "<svg" in svg


def test_a_township_assistant_downloads_own_regions_and_gets_404_for_another_township(
    county_map: Any, personas: Any, login: Any
) -> None:
    c = county_map
    own = login(personas.assistant_a)
    for region in (c.town_a, c.village_a1):
        assert own.get(_url("poster", region)).status_code == 200
    other = login(personas.assistant_b)
    for name in DOWNLOADS:
        for region in (c.town_a, c.village_a1, c.county):
            assert other.get(_url(name, region)).status_code == 404, (name, region)


@pytest.mark.parametrize("persona", ["dept_civil", "cadre_a1", "auditor", "org_member_1"])
def test_roles_without_assist_codes_get_404_for_downloads_and_403_for_the_list(
    county_map: Any, personas: Any, login: Any, persona: str
) -> None:
    client = login(getattr(personas, persona))
    for name in DOWNLOADS:
        response = client.get(_url(name, county_map.town_a))
        # An organisation account is not staff: the admin sends it to the login page.
        assert response.status_code in ((302,) if persona == "org_member_1" else (404,)), name
    changelist = client.get(reverse("admin:applications_assistcode_changelist"))
    assert changelist.status_code in ((302,) if persona == "org_member_1" else (403,))


def test_anonymous_downloads_go_to_the_login_page(county_map: Any, client: Any) -> None:
    response = client.get(_url("poster", county_map.town_a))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_township_downloads_of_a_village_are_404(county_map: Any, personas: Any, login: Any) -> None:
    client = login(personas.coordinator)
    assert client.get(_url("township_posters", county_map.village_a1)).status_code == 404
    assert client.get(_url("township_zip", county_map.village_a1)).status_code == 404


def test_the_changelist_lists_the_users_regions_with_download_links(
    county_map: Any, personas: Any, login: Any, django_assert_max_num_queries: Any
) -> None:
    c = county_map
    url = reverse("admin:applications_assistcode_changelist")
    client = login(personas.assistant_a)
    client.get(url)  # the first request of a session also writes the session and axes rows
    with django_assert_max_num_queries(10):
        page = client.get(url).content.decode()
    for region in (c.town_a, c.village_a1, c.village_a2):
        assert (
            _url("poster", region) in page
            and _url("qr_png", region) in page
            and _url("qr_svg", region) in page
        )
    assert _url("township_posters", c.town_a) in page
    assert "沙柳" not in page and _url("poster", c.county) not in page
    assert "海报 PDF" in page

    everything = login(personas.coordinator).get(url).content.decode()
    for region in (c.county, c.town_b, c.village_b1):
        assert _url("poster", region) in everything


def test_the_actions_download_only_selected_regions_in_scope(
    county_map: Any, personas: Any, login: Any
) -> None:
    c = county_map
    url = reverse("admin:applications_assistcode_changelist")
    client = login(personas.assistant_a)
    selected = [c.village_a1.pk, c.village_a2.pk, c.village_b1.pk]  # the last is another township's

    posters = client.post(url, {"action": "download_posters", "_selected_action": selected})
    assert posters.status_code == 200 and posters["Content-Type"] == "application/pdf"
    assert page_count(posters.content) == 2

    codes = client.post(url, {"action": "download_qr_zip", "_selected_action": selected})
    assert codes["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(codes.content)) as archive:
        assert sorted(archive.namelist()) == ["331099101201-上叶村.png", "331099101202-下叶村.png"]


def test_the_assist_code_admin_is_scoped_like_the_regions(county_map: Any, personas: Any, login: Any) -> None:
    c = county_map
    change = reverse("admin:applications_assistcode_change", args=[c.village_a1.pk])
    changelist = reverse("admin:applications_assistcode_changelist")

    assert login(personas.coordinator).get(change).status_code == 200
    own = login(personas.assistant_a)
    assert own.get(change).status_code == 200
    assert own.get(reverse("admin:applications_assistcode_change", args=[c.county.pk])).status_code == 404
    assert login(personas.assistant_b).get(change).status_code == 404
    assert login(personas.dept_civil).get(change).status_code == 404
    assert login(personas.dept_civil).get(changelist).status_code == 403
    # Read-only: no add, no delete, no edit of a region through its assist code.
    assert own.get(reverse("admin:applications_assistcode_add")).status_code == 403
    assert own.get(reverse("admin:applications_assistcode_delete", args=[c.village_a1.pk])).status_code == 403
    response = own.post(change, {"code": "331099101299", "name": "改名"})
    assert response.status_code == 403
    c.village_a1.refresh_from_db()
    assert c.village_a1.name == "上叶村"
