from django.db import migrations

from oms.review.domain.seed_rules import SEED_REVIEW_RULES


def seed(apps, schema_editor):
    Rule = apps.get_model("review", "Rule")
    for r in SEED_REVIEW_RULES:
        Rule.objects.get_or_create(
            kind="review",
            code=r.code,
            defaults={
                "name": r.name,
                "condition": r.condition,
                "reason": r.reason,
                "priority": r.priority,
                "enabled": r.enabled,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("review", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
