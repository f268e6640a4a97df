from django.conf import settings
from django.db import migrations

# The 19 departments of domain.md (13 take referrals), as of this migration. A copy, not an import
# of assist_center.demo: a migration must not change when application code does.
DEPARTMENTS = [
    ("civil_affairs", "{county}民政局", "民政", True),
    ("medical_security", "{county}医疗保障局", "医保", True),
    ("education", "{county}教育局", "教育", True),
    ("human_resources", "{county}人力资源和社会保障局", "人社", True),
    ("housing", "{county}住房和城乡建设局", "住建", True),
    ("disabled_federation", "{county}残疾人联合会", "残联", True),
    ("emergency", "{county}应急管理局", "应急管理", True),
    ("power_supply", "国网{county}供电公司", "供电", True),
    ("health", "{county}卫生健康局", "卫健", True),
    ("veterans", "{county}退役军人事务局", "退役军人", True),
    ("agriculture", "{county}农业农村局", "农业农村", True),
    ("natural_resources", "{county}自然资源和规划局", "自然资源", True),
    ("public_security", "{county}公安局", "公安", True),
    ("traffic_police", "{county}公安局交通警察大队", "交警", False),
    ("taxation", "国家税务总局{county}税务局", "税务", False),
    ("market_regulation", "{county}市场监督管理局", "市场监管", False),
    ("provident_fund", "台州市住房公积金中心{county}分中心", "公积金", False),
    ("finance", "中国人民银行{county}支行（金融机构）", "人民银行", False),
    ("court", "{county}人民法院", "法院", False),
]


def create(apps, schema_editor):
    Department = apps.get_model("assist_center", "Department")
    county = getattr(settings, "COUNTY_NAME", "S县")
    for order, (code, name, short_name, takes_referrals) in enumerate(DEPARTMENTS, start=1):
        # get_or_create: a department renamed in the admin keeps its name.
        Department.objects.get_or_create(
            code=code,
            defaults={
                "name": name.format(county=county),
                "short_name": short_name,
                "takes_referrals": takes_referrals,
                "sort_order": order * 10,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("assist_center", "0003_seed_calendar")]

    # Reversing keeps the rows: referrals, staff and pool records point at them (PROTECT).
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
