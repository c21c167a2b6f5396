from typing import Any

from django.db import migrations, models


def refunded_cases_settled(apps: Any, schema_editor: Any) -> None:
    """Cases refunded before settlement was counted were settled in full by the refund that ended them."""
    Case = apps.get_model("aftersales", "Case")
    Case.objects.filter(status="refunded").update(settled_minor=models.F("refund_minor"))


class Migration(migrations.Migration):
    dependencies = [
        ("aftersales", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="settled_minor",
            field=models.BigIntegerField(default=0, verbose_name="refund settled"),
        ),
        migrations.RunPython(refunded_cases_settled, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="case",
            constraint=models.CheckConstraint(
                condition=models.Q(("settled_minor__gte", 0), ("settled_minor__lte", models.F("refund_minor"))),
                name="case_settled_in_refund",
            ),
        ),
    ]
