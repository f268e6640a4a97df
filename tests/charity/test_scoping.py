"""Organisation scoping: another organisation's claim and delivery details are 404 in the portal, the
API and the admin; delivery details only with sharing consent, hidden 30 days after completion, each
view in the household's access log. The centre's pages: another township's need or claim is 404."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from applications.models.access import AccessPurpose, HouseholdAccess
from assist_center.models import AuditEvent
from charity.models import Claim, Need, Organisation
from charity.services.claims import (
    claim_confirm,
    claim_report_completion,
    claim_resident_answer,
    need_claim,
)
from charity.services.needs import need_withdraw_consent

from .helpers import draft_need, org_with_member, published_need, vetted

pytestmark = pytest.mark.django_db


def _orgs(personas: Any) -> tuple[Organisation, Organisation]:
    org1 = vetted(Organisation.objects.get(members=personas.org_member_1))
    org2 = vetted(Organisation.objects.get(members=personas.org_member_2))
    return org1, org2


def _claimed(personas: Any, county_map: Any, **kwargs: Any) -> Claim:
    need = published_need(personas.coordinator, county_map.village_a1, phone="13800138001", **kwargs)
    return need_claim(actor=personas.org_member_1, public_id=need.public_id)


def _accesses(claim: Claim) -> int:
    return HouseholdAccess.objects.filter(
        household_id=claim.need.household_id, purpose=AccessPurpose.CLAIM_DELIVERY
    ).count()


def test_another_organisations_claim_and_delivery_details_are_404_in_the_portal(
    personas: Any, county_map: Any, login: Any
) -> None:
    _orgs(personas)
    claim = _claimed(personas, county_map)
    own, other = login(personas.org_member_1), login(personas.org_member_2)
    claim_url = f"/charity/portal/claims/{claim.pk}/"
    delivery_url = f"{claim_url}delivery/"

    assert own.get(claim_url).status_code == 200
    assert claim.need.public_id in own.get("/charity/portal/").content.decode()

    assert other.get(claim_url).status_code == 404
    assert other.get(delivery_url).status_code == 404
    assert other.post(claim_url, {"action": "contacted"}).status_code == 404
    done = {"action": "complete", "text": "已送达", "in_kind": "轮椅"}
    assert other.post(claim_url, done).status_code == 404
    assert claim.need.public_id not in other.get("/charity/portal/").content.decode()
    # A missing claim looks the same as another organisation's.
    assert other.get("/charity/portal/claims/999999/").status_code == 404
    claim.refresh_from_db()
    assert claim.status == Claim.Status.ACTIVE
    assert _accesses(claim) == 0

    # Staff never act for an organisation; the portal is not theirs.
    for persona in ("coordinator", "assistant_a", "cadre_a1", "dept_civil", "auditor"):
        for url in ("/charity/portal/", claim_url, delivery_url):
            assert login(getattr(personas, persona)).get(url).status_code == 403, (persona, url)
    # Not signed in: the members' login, not the staff one.
    for url in ("/charity/portal/", claim_url, delivery_url):
        r = Client().get(url)
        assert r.status_code == 302 and r["Location"].startswith("/charity/login/"), url


def test_the_claim_api_is_for_members_of_a_vetted_unexpired_organisation(
    personas: Any, county_map: Any, login: Any
) -> None:
    org1, org2 = _orgs(personas)
    need = published_need(personas.coordinator, county_map.village_a1)
    url = f"/api/v1/charity/needs/{need.public_id}/claim/"

    assert Client().post(url).status_code == 401
    for persona in ("coordinator", "assistant_a", "cadre_a1", "dept_civil", "auditor"):
        assert login(getattr(personas, persona)).post(url).status_code == 403, persona

    _waiting, waiting_member = org_with_member(is_vetted=False)
    r = login(waiting_member).post(url)
    assert r.status_code == 403 and "尚未通过审核" in r.json()["message"]

    org2.vetting, org2.vetting_reason = Organisation.Vetting.SUSPENDED, "多次认领后未完成"
    org2.save()
    r = login(personas.org_member_2).post(url)
    assert r.status_code == 403 and "多次认领后未完成" in r.json()["message"]

    vetted(org2, until=timezone.localdate() - dt.timedelta(days=1))
    r = login(personas.org_member_2).post(url)
    assert r.status_code == 403 and "已过期" in r.json()["message"]
    assert not Claim.objects.filter(need=need).exists()

    # A draft, a withdrawn or an unknown need is a 404 like a missing one.
    draft = draft_need(personas.coordinator, county_map.village_a1)
    withdrawn = published_need(personas.coordinator, county_map.village_a1)
    need_withdraw_consent(actor=personas.coordinator, need_id=withdrawn.pk)
    member = login(personas.org_member_1)
    for public_id in (draft.public_id, withdrawn.public_id, "no-such-need"):
        assert member.post(f"/api/v1/charity/needs/{public_id}/claim/").status_code == 404, public_id

    r = member.post(url)
    assert r.status_code == 201
    claim = Claim.objects.get(need=need)
    assert r.json() == {"claim": claim.pk, "need": need.public_id, "status": "active"}
    assert claim.organisation == org1 and claim.claimed_by == personas.org_member_1
    assert AuditEvent.objects.filter(action="claim.create", subject_id=str(claim.pk)).count() == 1

    vetted(org2)
    r = login(personas.org_member_2).post(url)
    assert r.status_code == 409 and "该需求已被认领" in r.json()["message"]
    assert Claim.objects.filter(need=need).count() == 1


def test_the_admin_keeps_organisation_members_out_and_theirs_claims_too(
    personas: Any, county_map: Any, login: Any
) -> None:
    org1, org2 = _orgs(personas)
    _claimed(personas, county_map)
    member = login(personas.org_member_2)
    for url in (
        "/admin/",
        f"/admin/charity/organisation/{org1.pk}/change/",
        f"/admin/charity/organisation/{org2.pk}/change/",
        "/admin/charity/organisation/",
    ):
        r = member.get(url)
        assert r.status_code == 302 and r["Location"].startswith("/admin/login/"), url


def test_delivery_details_show_only_with_sharing_consent_and_each_view_is_logged(
    personas: Any, county_map: Any, login: Any
) -> None:
    _orgs(personas)
    claim = _claimed(personas, county_map)
    client = login(personas.org_member_1)
    url = f"/charity/portal/claims/{claim.pk}/delivery/"
    head = claim.need.household.members.get(relation="head")

    page = client.get(url).content.decode()
    assert head.name in page and "13800138001" in page and county_map.village_a1.name in page
    # Nothing but what delivery needs: no ID number, no internal text.
    assert head.id_number not in page and claim.need.internal_text not in page
    client.get(url)
    assert _accesses(claim) == 2
    row = HouseholdAccess.objects.filter(household_id=claim.need.household_id).latest("time")
    assert (row.actor, row.organisation_id, row.subject_id) == (
        personas.org_member_1,
        claim.organisation_id,
        str(claim.pk),
    )
    reads = AuditEvent.objects.filter(action="household.read", subject_id=str(claim.pk))
    assert reads.filter(actor=personas.org_member_1).count() == 2

    # Without sharing consent the township assistant arranges the contact: nothing shown, nothing logged.
    no_share = published_need(personas.coordinator, county_map.village_a1, share=False, phone="13800138002")
    claim2 = need_claim(actor=personas.org_member_1, public_id=no_share.public_id)
    detail = client.get(f"/charity/portal/claims/{claim2.pk}/").content.decode()
    assert "乡镇助理员将为您安排联系" in detail
    page = client.get(f"/charity/portal/claims/{claim2.pk}/delivery/").content.decode()
    assert "13800138002" not in page and "不可查看" in page
    assert _accesses(claim2) == 0


def test_delivery_details_hide_again_thirty_days_after_completion(
    personas: Any, county_map: Any, login: Any
) -> None:
    _orgs(personas)
    with time_machine.travel(dt.datetime(2026, 11, 2, 10, tzinfo=dt.UTC), tick=False):
        claim = _claimed(personas, county_map)
        claim_report_completion(actor=personas.org_member_1, claim_id=claim.pk, text="已送达", in_kind="轮椅")
        claim_resident_answer(actor=None, token=claim.resident_token, answer="received")
        claim_confirm(actor=personas.assistant_a, claim_id=claim.pk)
    url = f"/charity/portal/claims/{claim.pk}/delivery/"
    # A fresh sign-in each time: the session's idle timeout is shorter than the jumps.
    with time_machine.travel(dt.datetime(2026, 11, 30, 10, tzinfo=dt.UTC), tick=False):
        assert "13800138001" in login(personas.org_member_1).get(url).content.decode()
    with time_machine.travel(dt.datetime(2026, 12, 3, 10, tzinfo=dt.UTC), tick=False):
        client = login(personas.org_member_1)
        page = client.get(url).content.decode()
        assert "13800138001" not in page and "不可查看" in page
        assert "查看交付所需信息" not in client.get(f"/charity/portal/claims/{claim.pk}/").content.decode()
    assert _accesses(claim) == 1


def test_the_centres_claim_page_is_404_for_another_township_and_403_for_roles_without_claims(
    personas: Any, county_map: Any, login: Any
) -> None:
    _orgs(personas)
    claim = _claimed(personas, county_map)
    url = f"/charity/staff/claims/{claim.pk}/"
    assert login(personas.assistant_a).get(url).status_code == 200
    assert login(personas.coordinator).get(url).status_code == 200
    other = login(personas.assistant_b)
    assert other.get(url).status_code == 404
    assert other.post(url, {"action": "confirm"}).status_code == 404
    assert other.get("/charity/staff/claims/999999/").status_code == 404
    for persona in ("cadre_a1", "dept_civil", "auditor", "org_member_1", "org_member_2"):
        assert login(getattr(personas, persona)).get(url).status_code == 403, persona
    assert Client().get(url).status_code == 302
    claim.refresh_from_db()
    assert claim.status == Claim.Status.ACTIVE


def test_the_centres_need_page_is_404_for_another_township_and_403_for_roles_without_publishing(
    personas: Any, county_map: Any, login: Any
) -> None:
    need = draft_need(personas.coordinator, county_map.village_a1)
    url = f"/charity/staff/needs/{need.pk}/"
    assert login(personas.assistant_a).get(url).status_code == 200
    other = login(personas.assistant_b)
    assert other.get(url).status_code == 404
    r = other.post(url, {"action": "publish", "public_text": "老人行动不便，需要一台轮椅。"})
    assert r.status_code == 404
    for persona in ("cadre_a1", "dept_civil", "auditor", "org_member_1"):
        assert login(getattr(personas, persona)).get(url).status_code == 403, persona
    assert Client().get(url).status_code == 302
    assert Need.objects.get(pk=need.pk).status == Need.Status.DRAFT


def test_another_organisations_project_is_404_in_the_portal_even_when_public(
    personas: Any, county_map: Any, login: Any
) -> None:
    from charity.models import Project

    from . import funds_builders as b

    org1, _org2 = _orgs(personas)
    public = b.project(
        coordinator=personas.coordinator, member=personas.org_member_1, organisation=org1, title="公开的项目"
    )
    draft = b.project(
        coordinator=personas.coordinator,
        member=personas.org_member_1,
        organisation=org1,
        status=Project.Status.DRAFT,
        title="还在起草的项目",
    )
    own = login(personas.org_member_1)
    listing = own.get("/charity/portal/projects/").content.decode()
    assert "公开的项目" in listing and "还在起草的项目" in listing
    page = own.get(f"/charity/portal/projects/{draft.public_id}/")
    assert page.status_code == 200 and "还在起草的项目" in page.content.decode()

    other = login(personas.org_member_2)
    assert "公开的项目" not in other.get("/charity/portal/projects/").content.decode()
    for project in (public, draft):
        assert other.get(f"/charity/portal/projects/{project.public_id}/").status_code == 404
    assert other.get(f"/charity/portal/projects/{public.pk}/").status_code == 404
    # The public page of an approved project stays public; a draft has none.
    assert Client().get(f"/charity/projects/{public.public_id}/").status_code == 200
    assert Client().get(f"/charity/projects/{draft.public_id}/").status_code == 404
    for persona in ("coordinator", "assistant_a", "dept_civil", "auditor"):
        r = login(getattr(personas, persona)).get(f"/charity/portal/projects/{public.public_id}/")
        assert r.status_code == 403, persona
    r = Client().get("/charity/portal/projects/")
    assert r.status_code == 302 and r["Location"].startswith("/charity/login/")


def test_the_centres_worklist_lists_the_users_township_only_and_is_403_for_other_roles(
    personas: Any, county_map: Any, login: Any
) -> None:
    _orgs(personas)
    draft_a = draft_need(personas.coordinator, county_map.village_a1)
    draft_b = draft_need(personas.coordinator, county_map.village_b1)
    claim_a = _claimed(personas, county_map)
    claim_report_completion(actor=personas.org_member_1, claim_id=claim_a.pk, text="已送达", in_kind="轮椅")
    need_b = published_need(personas.coordinator, county_map.village_b1)
    claim_b = need_claim(actor=personas.org_member_2, public_id=need_b.public_id)
    claim_report_completion(actor=personas.org_member_2, claim_id=claim_b.pk, text="已送达", in_kind="米面")
    links = {
        "a": (f"/charity/staff/needs/{draft_a.pk}/", f"/charity/staff/claims/{claim_a.pk}/"),
        "b": (f"/charity/staff/needs/{draft_b.pk}/", f"/charity/staff/claims/{claim_b.pk}/"),
    }
    url = "/charity/staff/"
    for persona, own, other in (("assistant_a", "a", "b"), ("assistant_b", "b", "a")):
        r = login(getattr(personas, persona)).get(url)
        assert r.status_code == 200
        page = r.content.decode()
        assert all(link in page for link in links[own]), persona
        assert not any(link in page for link in links[other]), persona
        assert "待确认的认领（1）" in page
    everything = login(personas.coordinator).get(url).content.decode()
    assert all(link in everything for pair in links.values() for link in pair)
    for persona in ("cadre_a1", "dept_civil", "auditor", "org_member_1", "org_member_2"):
        assert login(getattr(personas, persona)).get(url).status_code == 403, persona
    assert Client().get(url).status_code == 302
