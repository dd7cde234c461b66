"""The trial page, error pages and redirects, through the ASGI app over real records from ../shared/data."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest

from test_web_fixtures import (  # noqa: F401
    REFERENCE_ID, XSS_ID, in_order, visible_text, web, web_app, web_data_dir, web_services,
)


def test_reference_trial_page_shows_every_section_in_order(web):
    response = web.get(f"/study/{REFERENCE_ID}")
    assert response.status_code == 200
    text = visible_text(response.text)
    assert in_order(
        text,
        "Study of Human Bone Marrow Mesenchymal Stem Cells in APAP", "Jiuzhitang",
        "Status and phase", "Active, not recruiting", "Phase 2",
        "Conditions", "Autoimmune Pulmonary Alveolar Proteinosis",
        "Treatments", "Drug: human Bone Marrow Mesenchymal Stem Cell (hBMMSC)",
        "Study type", "Interventional", "Funder types", "Other",
        "Identifiers", "NCT06111846", "MKMSC-CT-001",
        "Details and patient eligibility", "About", "The purpose of this open-label phase IIa",
        "Full description", "Autoimmune pulmonary alveolar proteinosis (aPAP) is a rare lung disease",
        "Enrollment", "10 estimated patients", "Sex", "All", "Ages", "18+ years old",
        "Volunteers", "No Healthy Volunteers",
        "Inclusion criteria", "Male or female aged 18 years or older", "Voluntary signed informed consent",
        "Exclusion criteria", "Diagnosed with hereditary PAP", "plan to become pregnant during the trial",
        "Trial design", "Primary purpose", "Treatment", "Allocation", "N/A",
        "Interventional model", "Sequential Assignment", "Masking", "None (Open label)",
        "10 participants in 1 patient group", "Experimental: hBMMSC", "Experimental group", "Description:",
        "1.0×10^6/kg hBMMSC", "Treatment:", "Drug: human Bone Marrow Mesenchymal Stem Cell (hBMMSC)",
        "Trial contacts and locations", "1 site",
        "Data sourced from clinicaltrials.gov", "Last updated June 10, 2024",
    )
    assert "\\^" not in text and "\\" not in text


def test_reference_criteria_are_real_lists(web):
    html = web.get(f"/study/{REFERENCE_ID}").text
    for section, count in (("inclusion", 6), ("exclusion", 11)):
        block = re.search(rf'<section class="criteria criteria-{section}".*?</section>', html, re.S).group(0)
        assert len(re.findall(r"<li>", block)) == count


def test_reference_page_links_to_clinicaltrials_gov_and_maps_its_site(web):
    html = web.get(f"/study/{REFERENCE_ID}").text
    assert 'href="https://clinicaltrials.gov/study/NCT06111846"' in html
    data = json.loads(unescape(re.search(r"data-map='([^']*)'", html).group(1)))
    assert data["sites"] == [{"lat": 39.9075, "lon": 116.39723, "title": "Study site (stand-in)",
                              "detail": "Beijing, China", "approximate": False}]
    assert data["tiles"] == "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


def test_nested_criteria_and_markdown_escapes(web):
    html = web.get("/study/NCT05923281").text
    block = re.search(r'<section class="criteria criteria-inclusion".*?</section>', html, re.S).group(0)
    assert "<ul><li>Low risk for primary prevention: LDL-C &gt;=160 mg/dL</li>" in block
    assert "\\&lt;" not in html and "\\&gt;" not in html and "\\[" not in html


@pytest.mark.parametrize("nct_id", ["NCT03475563", "NCT05594173", "NCT00465816", "NCT05832827", "NCT00763412"])
def test_real_v2_records_render(web, nct_id):
    response = web.get(f"/study/{nct_id}")
    assert response.status_code == 200
    text = visible_text(response.text)
    assert nct_id in text and "Data sourced from clinicaltrials.gov" in text
    assert "None" not in re.findall(r"\bNone\b(?! \(Open label\))", text)


def test_observational_study_shows_observational_design(web):
    text = visible_text(web.get("/study/NCT03475563").text)
    assert "Observational model" in text and "Time perspective" in text
    assert "Interventional model" not in text


def test_outcomes_dates_collaborators_and_results(web, web_services):
    nct_id = next(i for i in ("NCT05594173", "NCT00763412", "NCT03475563")
                  if web_services.store.study(i).has_results)
    text = visible_text(web.get(f"/study/{nct_id}").text)
    assert "Primary outcomes" in text and "Time frame:" in text
    assert "Key dates" in text and "Study start" in text and "First posted" in text
    assert "see the results on ClinicalTrials.gov" in text


def test_contacts_and_locations_follow_the_design_as_on_the_reference(web, web_services):
    """The reference page goes from the trial design to contacts and locations; what it lacks comes after."""
    nct_id = next(i for i in ("NCT05594173", "NCT00763412", "NCT03475563")
                  if web_services.store.study(i).contacts_locations.locations)
    text = visible_text(web.get(f"/study/{nct_id}").text)
    assert in_order(text, "Details and patient eligibility", "Trial design", "Trial contacts and locations",
                    "Outcomes", "Sponsors, dates and results", "Data sourced from clinicaltrials.gov")


def test_site_contacts_are_tel_and_mailto_links(web, web_services):
    study_id = next(
        nct_id for nct_id in web_services.store.nct_ids()
        if (s := web_services.store.study(nct_id)) and any(c.email and c.phone for loc in s.contacts_locations.locations
                                                             for c in loc.contacts)
    )
    html = web.get(f"/study/{study_id}").text
    assert re.search(r'href="tel:\+?\d{5,}', html) and re.search(r'href="mailto:[^"]+@', html)


@pytest.mark.parametrize("nct_id", ["NCT00003135", "NCT00001177", "NCT01339988", "NCT02591940"])
def test_sparse_and_legacy_records_render_without_empty_sections(web, nct_id):
    response = web.get(f"/study/{nct_id}")
    assert response.status_code == 200
    html = response.text
    article = html[html.index("<article"):html.index("</article>")]
    for chunk in article.split('<section id="')[1:]:
        heading, _, body = chunk.partition("</h2>")
        assert visible_text(body).strip(), f"empty section {visible_text(heading)!r}"
    for heading, body in re.findall(r"<h3[^>]*>(.*?)</h3>\s*(<h[23]|</section>)", article):
        raise AssertionError(f"empty sub-section {heading!r}")
    assert "<dd></dd>" not in html and "<ul></ul>" not in html and "<ul class=\"plain\"></ul>" not in html


def test_sparse_record_has_no_status_design_or_locations(web):
    html = web.get("/study/NCT00003135").text
    text = visible_text(html)
    assert "Trial design" not in text and "Trial contacts and locations" not in text and "Key dates" not in text
    assert "badge-" not in html  # no status to show, so no status badge
    assert "Inclusion criteria" in text and "Histologically confirmed metastatic breast" in text
    assert "PURPOSE: This phase II trial" in text


def _start_tags(html: str) -> list[tuple[str, dict]]:
    from html.parser import HTMLParser

    tags: list[tuple[str, dict]] = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs) -> None:
            tags.append((tag, dict(attrs)))

    Collector().feed(html)
    return tags


def test_hostile_record_is_escaped_everywhere(web):
    html = web.get(f"/study/{XSS_ID}").text
    tags = _start_tags(html)
    assert not [tag for tag, _ in tags if tag in ("img", "iframe", "object", "b")]
    assert not [(tag, name) for tag, attrs in tags for name in attrs if name.startswith("on")]
    assert all("src" in attrs or "nonce" in attrs for tag, attrs in tags if tag == "script")
    hrefs = [attrs["href"] for _, attrs in tags if "href" in attrs]
    assert all(re.match(r"(/|#|https?://|mailto:|tel:\+?\d)", href) for href in hrefs), hrefs
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Title &lt;script&gt;" in html  # the title is shown, as text


def test_hostile_contacts_get_no_links(web):
    html = web.get(f"/study/{XSS_ID}").text
    assert 'href="tel:javascript' not in html and "mailto:x@y.z" not in html
    assert 'href="mailto:ok@example.org"' in html and 'href="tel:+16175550100"' in html


@pytest.mark.parametrize(("path", "target"), [
    ("/study/nct6111846", "/study/NCT06111846"),
    ("/study/NCT6111846", "/study/NCT06111846"),
    ("/study/nct06111846", "/study/NCT06111846"),
    ("/locations/United%20States", "/locations/united-states"),
])
def test_noncanonical_urls_redirect_permanently(web, path, target):
    response = web.get(path)
    assert response.status_code in (301, 308) and response.headers["location"] == target


@pytest.mark.parametrize("path", ["/study/NCT99999999", "/study/not-an-id", "/no/such/page", "/locations/atlantis",
                                  "/sitemaps/studies-99.xml"])
def test_unknown_pages_are_404_with_a_search_box(web, path):
    response = web.get(path)
    assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")
    assert '<form class="inline-search" action="/search"' in response.text
    assert '<label for="nf-q">' in response.text


def test_unknown_trial_prefills_the_search_box(web):
    assert 'value="NCT99999999"' in web.get("/study/NCT99999999").text


def test_api_paths_keep_the_api_error_shape(web):
    response = web.get("/api/no/such/thing")
    assert response.status_code == 404 and response.headers["content-type"] == "application/json"


def test_security_headers_and_nonce(web):
    first, second = web.get(f"/study/{REFERENCE_ID}"), web.get(f"/study/{REFERENCE_ID}")
    policy = first.headers["content-security-policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    assert nonce != re.search(r"'nonce-([^']+)'", second.headers["content-security-policy"]).group(1)
    assert "frame-ancestors 'none'" in policy and "https://tile.openstreetmap.org" in policy
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert first.headers["x-content-type-options"] == "nosniff"
    assert first.headers["x-frame-options"] == "DENY" and first.headers["referrer-policy"]
    inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", first.text)
    assert all(f'nonce="{nonce}"' in tag for tag in inline)
    assert not re.search(r"\sstyle=", first.text) and "<style" not in first.text


def test_tile_server_is_configurable(web_services, monkeypatch):
    from fastapi.testclient import TestClient

    from trialfinder.server import create_app

    monkeypatch.setenv("TRIALFINDER_TILE_URL", "https://tiles.example.org/{z}/{x}/{y}.png")
    with TestClient(create_app(web_services.settings, web_services)) as client:
        response = client.get(f"/study/{REFERENCE_ID}")
    assert "img-src 'self' data: https://tiles.example.org" in response.headers["content-security-policy"]
    assert "https://tiles.example.org/{z}/{x}/{y}.png" in response.text


def test_head_requests_are_answered(web):
    assert web.head(f"/study/{REFERENCE_ID}").status_code == 200
