"""seed_demo's county stage builds a complete, valid, idempotent county; demo_banner shows how to sign in."""

from __future__ import annotations

import io
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count
from django.test import override_settings
from stdnum.cn import uscc

from applications.models import Household, Person, RegistryEvent
from assist_center.identity import parse_id_number
from assist_center.models import Department, Region, Role, StaffProfile
from assist_center.phones import normalise_mobile
from assist_center.pii import id_number_index, phone_index
from charity.models import Organisation
from demo.password import FILE_NAME
from eligibility.models import ImportJob, PoolRecord

REPO = Path(__file__).resolve().parent.parent
HOUSEHOLDS = 50


@pytest.fixture
def var_dir(tmp_path: Path) -> Any:
    with override_settings(VAR_DIR=tmp_path, DEMO_PASSWORD="", DEBUG=True):
        yield tmp_path


@pytest.fixture
def seeded(db: Any, var_dir: Path) -> Path:
    call_command("seed_demo", stage=["county"], households=HOUSEHOLDS, seed=7, stdout=io.StringIO())
    return var_dir


def _snapshot() -> dict[str, Any]:
    return {
        "regions": list(Region.objects.values_list("code", "name", "parent__code", "township__code")),
        "departments": list(Department.objects.values_list("code", "name", "takes_referrals")),
        "users": list(get_user_model().objects.values_list("username", "password", "is_staff")),
        "profiles": list(
            StaffProfile.objects.values_list("user__username", "role", "region_id", "department_id")
        ),
        "organisations": list(Organisation.objects.values_list("name", "credit_code", "kind")),
        "households": Household.objects.count(),
        "persons": list(Person.objects.values_list("id", "id_number_hash")),
        "region_history": Region.history.count(),
        "user_history": StaffProfile.history.count(),
    }


def test_departments_are_the_19_with_13_taking_referrals(seeded: Path) -> None:
    assert Department.objects.count() == 19
    assert Department.objects.filter(takes_referrals=True).count() == 13
    assert set(Department.objects.filter(takes_referrals=True).values_list("code", flat=True)) >= {
        "civil_affairs",
        "medical_security",
        "education",
        "human_resources",
        "housing",
        "disabled_federation",
        "emergency",
        "power_supply",
    }


def test_the_departments_stay_as_the_migration_and_the_admin_made_them(db: Any, var_dir: Path) -> None:
    # An administrator renames one department and takes another off referrals: seeding follows
    # the rows (its accounts, the banner) and changes none of them.
    Department.objects.filter(code="civil_affairs").update(name="三门县民政局（新）", short_name="民政局")
    Department.objects.filter(code="veterans").update(takes_referrals=False)
    columns = ("code", "name", "short_name", "takes_referrals", "sort_order")
    rows = list(Department.objects.order_by("code").values_list(*columns))
    call_command("seed_demo", stage=["county"], households=0, stdout=io.StringIO())
    assert list(Department.objects.order_by("code").values_list(*columns)) == rows
    User = get_user_model()
    assert User.objects.get(username="dept_civil_affairs").profile.title == "民政局联络员"
    assert not User.objects.filter(username="dept_veterans").exists()
    out = io.StringIO()
    call_command("demo_banner", stdout=out)
    assert "dept_civil_affairs" in out.getvalue() and "dept_veterans" not in out.getvalue()


def test_region_tree_has_townships_and_villages_with_12_digit_codes(seeded: Path) -> None:
    county = Region.objects.get(level=Region.Level.COUNTY)
    assert county.code == "331022000000"
    assert county.parent is None
    townships = Region.objects.filter(level=Region.Level.TOWNSHIP)
    villages = Region.objects.filter(level=Region.Level.VILLAGE).select_related("parent", "township")
    assert townships.count() >= 10
    assert villages.count() >= 100
    assert {t.kind for t in townships} == {"subdistrict", "town", "township"}
    for t in townships:
        assert t.parent_id == county.pk
        assert (
            len(t.code) == 12 and t.code.isdigit() and t.code.startswith("331022") and t.code.endswith("000")
        )
    for v in villages:
        assert len(v.code) == 12 and v.code.isdigit()
        assert v.parent is not None and v.parent.level == Region.Level.TOWNSHIP
        assert v.township_id == v.parent_id
        assert v.code[:9] == v.parent.code[:9]
        # Statistical scheme: residents' committees 0xx, villagers' committees 2xx.
        assert v.code[9] == ("0" if v.kind == "community" else "2")
    assert Region.objects.values("code").annotate(n=Count("id")).filter(n__gt=1).count() == 0


def test_every_role_has_a_user_and_every_user_a_profile(seeded: Path) -> None:
    for role in Role:
        assert StaffProfile.objects.filter(role=role).exists(), role
    users = get_user_model().objects.all()
    assert not users.filter(profile__isnull=True).exists()
    assert users.get(username="admin").is_superuser
    assert users.get(username="coordinator").profile.role == Role.COORDINATOR
    assert users.get(username="auditor").profile.role == Role.AUDITOR
    assert users.get(username="assistant_1").profile.region.name == "海游街道"
    for dept in Department.objects.filter(takes_referrals=True):
        assert users.get(username=f"dept_{dept.code}").profile.department == dept
    assert not Department.objects.filter(takes_referrals=False, staffprofile__isnull=False).exists()
    cadre = users.get(username="cadre_1")
    assert cadre.profile.role == Role.VILLAGE_CADRE
    assert cadre.profile.region.level == Region.Level.VILLAGE
    org_users = users.filter(username__startswith="org_")
    assert org_users.exists()
    assert not org_users.filter(is_staff=True).exists()


def test_demo_password_is_generated_private_and_not_in_the_repository(seeded: Path) -> None:
    path = seeded / FILE_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    password = path.read_text().strip()
    assert len(password) >= 16
    user = get_user_model().objects.get(username="assistant_1")
    assert user.check_password(password)
    tracked = subprocess.run(
        ["git", "grep", "-I", "-l", "-F", "-e", password], cwd=REPO, capture_output=True, text=True
    )
    assert tracked.stdout == ""
    # A second run reuses the stored password instead of generating another.
    call_command("seed_demo", stage=["county"], households=HOUSEHOLDS, stdout=io.StringIO())
    assert path.read_text().strip() == password


def test_demo_password_setting_wins_over_the_file(db: Any, var_dir: Path) -> None:
    with override_settings(DEMO_PASSWORD="a-configured-demo-password"):
        call_command("seed_demo", stage=["county"], households=0, stdout=io.StringIO())
    assert not (var_dir / FILE_NAME).exists()
    assert get_user_model().objects.get(username="coordinator").check_password("a-configured-demo-password")


def test_households_have_members_with_valid_ids_and_phones(seeded: Path) -> None:
    assert Household.objects.count() == HOUSEHOLDS
    households = Household.objects.select_related("village").prefetch_related("members")
    for h in households:
        members = list(h.members.all())
        assert 1 <= len(members) <= 6
        assert sum(m.relation == Person.Relation.HEAD for m in members) == 1
        assert h.township_id == h.village.township_id
        assert h.address.endswith("号")
        for m in members:
            parsed = parse_id_number(m.id_number)
            assert parsed.number == m.id_number
            assert parsed.sex == m.sex
            assert parsed.birth_date == m.birth_date
            assert m.id_number_hash == id_number_index(m.id_number)
            if m.phone:
                assert normalise_mobile(m.phone) == m.phone
                assert m.phone_hash == phone_index(m.phone)
            else:
                assert m.phone_hash == ""
    hashes = list(Person.objects.values_list("id_number_hash", flat=True))
    assert len(hashes) == len(set(hashes))


def test_the_county_is_registered_through_the_hukou_import_not_written_directly(seeded: Path) -> None:
    jobs = ImportJob.objects.filter(category="hukou", status=ImportJob.Status.DONE)
    assert jobs.exists() and not jobs.exclude(rows_rejected=0).exists()
    persons = Person.objects.count()
    # Each person: a 户籍 record in the pool under their blind index and one "registered" change
    # naming that record and its import; the household is the record's 户号.
    hukou = PoolRecord.objects.filter(category="hukou")
    assert hukou.count() == persons
    assert set(hukou.values_list("person_hash", flat=True)) == set(
        Person.objects.values_list("id_number_hash", flat=True)
    )
    events = RegistryEvent.objects.filter(kind="registered", source_category="hukou")
    assert events.count() == persons
    assert set(events.values_list("import_job_id", flat=True)) == set(jobs.values_list("pk", flat=True))
    assert set(events.values_list("source_record_id", flat=True)) == set(
        hukou.values_list("source_record_id", flat=True)
    )
    assert not Person.objects.exclude(source=Person.Source.REGISTRY).exists()
    numbers = list(Household.objects.values_list("household_number", flat=True))
    assert all(n.startswith("DEMO") for n in numbers) and len(set(numbers)) == HOUSEHOLDS
    # Nobody is on the rolls yet: only the rolls stage enrols, through the enrolment service.
    assert not Household.objects.filter(is_enrolled=True).exists()


def test_personal_data_is_encrypted_in_the_database(seeded: Path) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, phone FROM applications_person WHERE phone <> '' LIMIT 5")
        rows = cursor.fetchall()
    assert rows
    for id_number, phone in rows:
        assert id_number.startswith("fernet:") and phone.startswith("fernet:")


def test_organisations_have_valid_credit_codes_and_members(seeded: Path) -> None:
    orgs = Organisation.objects.all()
    assert orgs.count() >= 20
    assert {o.kind for o in orgs} == set(Organisation.Kind.values)
    for org in orgs:
        if org.kind == Organisation.Kind.GENTRY:
            assert org.credit_code == ""
        else:
            assert uscc.is_valid(org.credit_code), org.name
        assert org.members.filter(username__startswith="org_").exists()


def test_running_twice_changes_nothing(seeded: Path) -> None:
    before = _snapshot()
    out = io.StringIO()
    call_command("seed_demo", stage=["county"], households=HOUSEHOLDS, stdout=out)
    assert _snapshot() == before


def test_a_larger_target_tops_households_up_without_touching_existing_ones(seeded: Path) -> None:
    before = set(Person.objects.values_list("id", "id_number_hash"))
    call_command("seed_demo", stage=["county"], households=HOUSEHOLDS + 10, stdout=io.StringIO())
    assert Household.objects.count() == HOUSEHOLDS + 10
    after = set(Person.objects.values_list("id", "id_number_hash"))
    assert before < after
    hashes = [h for _id, h in after]
    assert len(hashes) == len(set(hashes))


def test_if_empty_is_a_no_op_on_a_seeded_database(seeded: Path) -> None:
    before = _snapshot()
    out = io.StringIO()
    call_command("seed_demo", "--if-empty", stage=["county"], households=HOUSEHOLDS * 2, stdout=out)
    assert _snapshot() == before
    assert out.getvalue().strip()


def test_refuses_to_run_without_debug(db: Any, var_dir: Path) -> None:
    with override_settings(DEBUG=False), pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo", households=1, stdout=io.StringIO())
    assert not Region.objects.exists()
    assert not (var_dir / FILE_NAME).exists()


def test_banner_shows_urls_logins_password_and_sms_file(seeded: Path) -> None:
    password = (seeded / FILE_NAME).read_text().strip()
    out = io.StringIO()
    with override_settings(
        SMS_BACKEND="assist_center.sms.backends.FileBackend", SMS_FILE_PATH="/tmp/x/sms.jsonl"
    ):
        call_command("demo_banner", stdout=out)
    text = out.getvalue()
    for expected in (
        "/admin/",
        "/api/docs/",
        "/healthz",
        "coordinator",
        "assistant_1",
        "cadre_1",
        "dept_civil_affairs",
        "auditor",
        "org_1",
        "/charity/",
        "/charity/login/",
        "org_6",
        password,
        "/tmp/x/sms.jsonl",
        "SMS_FILE_PATH",
    ):
        assert expected in text, expected


def test_banner_without_the_file_backend_does_not_mention_the_sms_file(db: Any, var_dir: Path) -> None:
    out = io.StringIO()
    with override_settings(SMS_BACKEND="assist_center.sms.backends.ConsoleBackend"):
        call_command("demo_banner", stdout=out)
    assert "SMS_FILE_PATH" not in out.getvalue()
    assert "make seed" in out.getvalue()
