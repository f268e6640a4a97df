"""Claims beyond the race: the open-claims cap, no reclaim for 30 days after a lapse, and the centre's
reassign and cancel with a reason."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client

from assist_center.models import AuditEvent
from charity.models import Claim, Need, Organisation
from charity.services.claims import claim_sweep, need_claim

from .helpers import org_with_member, published_need, vetted, visible_need

MONDAY = dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC)


def _claim_api(client: Client, need: Need) -> Any:
    return client.post(f"/api/v1/charity/needs/{need.public_id}/claim/")


@pytest.mark.django_db
def test_an_organisation_at_its_open_claims_cap_gets_409_until_one_ends(
    personas: Any, county_map: Any, login: Any, settings: Any
) -> None:
    settings.CHARITY_MAX_OPEN_CLAIMS = 2
    org, member = org_with_member()
    client = login(member)
    needs = [published_need(personas.coordinator, county_map.village_a1) for _ in range(3)]
    assert _claim_api(client, needs[0]).status_code == 201
    assert _claim_api(client, needs[1]).status_code == 201
    r = _claim_api(client, needs[2])
    assert r.status_code == 409 and "已达上限（2件）" in r.json()["message"]
    assert Need.objects.get(pk=needs[2].pk).status == Need.Status.PUBLISHED
    assert not Claim.objects.filter(need=needs[2]).exists()

    # Another organisation is not held by this one's cap.
    _other, other_member = org_with_member()
    assert _claim_api(login(other_member), needs[2]).status_code == 201

    # A claim that ends (here cancelled by the centre) frees a place.
    fourth = published_need(personas.coordinator, county_map.village_a1)
    first = Claim.objects.get(need=needs[0])
    r = login(personas.coordinator).post(
        f"/charity/staff/claims/{first.pk}/", {"action": "cancel", "reason": "组织无法按期交付"}
    )
    assert r.status_code == 302
    assert _claim_api(client, fourth).status_code == 201
    assert Claim.objects.filter(organisation=org, status__in=Claim.OPEN_STATUSES).count() == 2


@pytest.mark.django_db(transaction=True)
def test_the_cap_holds_when_one_organisations_members_claim_at_once(
    personas: Any, county_map: Any, settings: Any
) -> None:
    settings.CHARITY_MAX_OPEN_CLAIMS = 3
    org, first_member = org_with_member()
    members = [first_member]
    from assist_center.models import Role
    from tests import factories as f

    for i in range(7):
        user = f.staff_user(f"capm{i}", Role.ORGANISATION)
        org.members.add(user)
        members.append(user)
    needs = [published_need(personas.coordinator, county_map.village_a1) for _ in members]
    barrier = threading.Barrier(len(members))
    statuses: list[int] = []
    lock = threading.Lock()

    def press(user: Any, need: Need) -> None:
        try:
            c = Client()
            c.force_login(user)
            barrier.wait(timeout=30)
            status = _claim_api(c, need).status_code
            with lock:
                statuses.append(status)
        finally:
            connection.close()

    threads = [threading.Thread(target=press, args=pair) for pair in zip(members, needs, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(statuses) == [201] * 3 + [409] * 5, statuses
    assert Claim.objects.filter(organisation=org, status=Claim.Status.ACTIVE).count() == 3
    assert Need.objects.filter(status=Need.Status.CLAIMED).count() == 3


@pytest.mark.django_db
def test_an_organisation_whose_claim_lapsed_cannot_claim_that_need_again_for_thirty_days(
    personas: Any, county_map: Any, login: Any
) -> None:
    org, member = org_with_member()
    with time_machine.travel(MONDAY, tick=False):
        need = published_need(personas.coordinator, county_map.village_a1)
        claim = need_claim(actor=member, public_id=need.public_id)
    # Donation: contact within 3 working days (Thu 5 Nov); released by the sweep on Fri 6 Nov.
    with time_machine.travel(MONDAY + dt.timedelta(days=4), tick=False):
        assert claim_sweep().released == 1
        claim.refresh_from_db()
        assert claim.status == Claim.Status.RELEASED
        r = _claim_api(login(member), need)
        assert r.status_code == 403 and "30天内不能再次认领" in r.json()["message"]
    with time_machine.travel(MONDAY + dt.timedelta(days=33), tick=False):
        r = _claim_api(login(member), need)
        assert r.status_code == 403, "29 days after the release: still refused"
        # Only that need: a different one is open to the organisation.
        other_need = published_need(personas.coordinator, county_map.village_a1)
        assert _claim_api(login(member), other_need).status_code == 201
    with time_machine.travel(MONDAY + dt.timedelta(days=35), tick=False):
        assert _claim_api(login(member), need).status_code == 201
    assert list(Claim.objects.filter(need=need).values_list("organisation", "status").order_by("id")) == [
        (org.pk, Claim.Status.RELEASED),
        (org.pk, Claim.Status.ACTIVE),
    ]


@pytest.mark.django_db
def test_the_centre_cancels_a_claim_with_a_reason_and_the_need_returns_to_the_board(
    personas: Any, county_map: Any, login: Any
) -> None:
    org, member = org_with_member()
    need = visible_need(personas.coordinator, county_map.village_a1)
    claim = need_claim(actor=member, public_id=need.public_id)
    url = f"/charity/staff/claims/{claim.pk}/"
    client = login(personas.assistant_a)

    r = client.post(url, {"action": "cancel", "reason": ""})
    assert r.status_code == 400 and "请填写" in r.content.decode()
    assert Claim.objects.get(pk=claim.pk).status == Claim.Status.ACTIVE
    # Another township's assistant cannot, even by calling the action directly.
    assert login(personas.assistant_b).post(url, {"action": "cancel", "reason": "x"}).status_code == 404

    assert client.post(url, {"action": "cancel", "reason": "家庭已搬离本县"}).status_code == 302
    claim.refresh_from_db()
    assert (claim.status, claim.end_reason) == (Claim.Status.CANCELLED, "家庭已搬离本县")
    assert Need.objects.get(pk=need.pk).status == Need.Status.PUBLISHED
    event = AuditEvent.objects.get(action="claim.cancel", subject_id=str(claim.pk))
    assert (event.actor, event.reason) == (personas.assistant_a, "家庭已搬离本县")
    assert need.public_id in Client().get("/charity/?status=published").content.decode()
    # The organisation sees why.
    assert "家庭已搬离本县" in login(member).get(f"/charity/portal/claims/{claim.pk}/").content.decode()
    # A cancelled claim is not a lapse: the organisation may claim it again at once.
    assert _claim_api(login(member), need).status_code == 201
    assert org.pk == claim.organisation_id


@pytest.mark.django_db
def test_the_coordinator_reassigns_a_claim_with_a_reason_to_another_vetted_organisation(
    personas: Any, county_map: Any, login: Any, settings: Any
) -> None:
    org1, member1 = org_with_member()
    org2, member2 = org_with_member()
    waiting, _waiting_member = org_with_member(is_vetted=False)
    need = published_need(personas.coordinator, county_map.village_a1)
    claim = need_claim(actor=member1, public_id=need.public_id)
    url = f"/charity/staff/claims/{claim.pk}/"
    client = login(personas.coordinator)

    page = client.get(url).content.decode()
    assert org2.name in page and waiting.name not in page

    for data, message in (
        ({"organisation": org2.pk, "reason": ""}, "请填写"),
        ({"organisation": waiting.pk, "reason": "改派"}, "尚未通过审核"),
        ({"organisation": "", "reason": "改派"}, "请选择接手的组织"),
        ({"organisation": org1.pk, "reason": "改派"}, "已属于这个组织"),
    ):
        r = client.post(url, {"action": "reassign", **data})
        assert r.status_code == 400 and message in r.content.decode(), data
    settings.CHARITY_MAX_OPEN_CLAIMS = 1
    busy = published_need(personas.coordinator, county_map.village_a1)
    need_claim(actor=member2, public_id=busy.public_id)
    r = client.post(url, {"action": "reassign", "organisation": org2.pk, "reason": "改派"})
    assert r.status_code == 400 and "已达上限" in r.content.decode()
    assert Claim.objects.get(pk=claim.pk).status == Claim.Status.ACTIVE
    settings.CHARITY_MAX_OPEN_CLAIMS = 10

    r = client.post(url, {"action": "reassign", "organisation": org2.pk, "reason": "原组织人手不足"})
    assert r.status_code == 302
    claim.refresh_from_db()
    assert (claim.status, claim.end_reason) == (Claim.Status.CANCELLED, "原组织人手不足")
    new = Claim.objects.get(need=need, status=Claim.Status.ACTIVE)
    assert new.organisation == org2 and new.contact_due >= claim.contact_due
    assert Need.objects.get(pk=need.pk).status == Need.Status.CLAIMED
    event = AuditEvent.objects.get(action="claim.reassign", subject_id=str(new.pk))
    assert event.reason == "原组织人手不足"
    assert event.new_values == {"from": org1.name, "to": org2.name}
    # The new organisation has it in its portal; the old one no longer can work on it.
    assert login(member2).get(f"/charity/portal/claims/{new.pk}/").status_code == 200
    assert login(member1).get(f"/charity/portal/claims/{new.pk}/").status_code == 404
    r = login(member1).post(f"/charity/portal/claims/{claim.pk}/", {"action": "contacted"})
    assert r.status_code == 400 and "已取消" in r.content.decode()


@pytest.mark.django_db
def test_a_suspended_organisation_keeps_its_portal_but_cannot_claim(
    personas: Any, county_map: Any, login: Any
) -> None:
    org, member = org_with_member()
    need = published_need(personas.coordinator, county_map.village_a1)
    claim = need_claim(actor=member, public_id=need.public_id)
    org.vetting, org.vetting_reason = Organisation.Vetting.SUSPENDED, "交付照片不实"
    org.save()
    portal = login(member).get("/charity/portal/").content.decode()
    assert need.public_id in portal and "交付照片不实" in portal
    assert login(member).get(f"/charity/portal/claims/{claim.pk}/").status_code == 200
    other = visible_need(personas.coordinator, county_map.village_a1)
    r = login(member).post(f"/charity/needs/{other.public_id}/")
    assert r.status_code == 403 and "交付照片不实" in r.content.decode()
    vetted(org)
    assert login(member).post(f"/charity/needs/{other.public_id}/").status_code == 302


@pytest.mark.django_db
def test_a_withdrawn_consent_takes_a_claimed_need_off_the_board_and_tells_the_claimant(
    personas: Any, county_map: Any, login: Any
) -> None:
    from charity.services.claims import claim_confirm, claim_report_completion, claim_resident_answer
    from charity.services.needs import need_withdraw_consent

    _org, member = org_with_member()
    need = visible_need(personas.coordinator, county_map.village_a1, phone="13800138077")
    claim = need_claim(actor=member, public_id=need.public_id)
    public = Client()
    assert public.get(f"/charity/needs/{need.public_id}/").status_code == 200

    need_withdraw_consent(actor=personas.assistant_a, need_id=need.pk, reason="家属不愿公开")
    assert public.get(f"/charity/needs/{need.public_id}/").status_code == 404
    assert need.public_id not in public.get("/charity/").content.decode()
    assert need.public_id not in public.get("/api/v1/public/charity/needs/").content.decode()
    claim.refresh_from_db()
    assert claim.status == Claim.Status.ACTIVE and claim.consent_withdrawn_notice
    portal = login(member)
    assert "家庭已撤回公开同意" in portal.get("/charity/portal/").content.decode()
    page = portal.get(f"/charity/portal/claims/{claim.pk}/").content.decode()
    assert "已撤回公开同意" in page and "查看交付所需信息" not in page
    assert "13800138077" not in portal.get(f"/charity/portal/claims/{claim.pk}/delivery/").content.decode()

    # The claim is still the organisation's to finish, and the help is still recorded.
    claim_report_completion(actor=member, claim_id=claim.pk, text="已送达", in_kind="轮椅")
    claim_resident_answer(actor=None, token=claim.resident_token, answer="received")
    claim_confirm(actor=personas.assistant_a, claim_id=claim.pk)
    assert Claim.objects.get(pk=claim.pk).status == Claim.Status.CONFIRMED
    assert Need.objects.get(pk=need.pk).status == Need.Status.WITHDRAWN
    assert public.get(f"/charity/needs/{need.public_id}/").status_code == 404
