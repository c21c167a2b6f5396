from django.db import migrations


def seed(apps, schema_editor):
    Rule = apps.get_model("review", "Rule")
    Rule.objects.get_or_create(
        kind="review",
        code="not_merged",
        defaults={
            "name": "同买家未合单 Same buyer, not merged",
            "condition": "unmerged_mergeable_orders > 0",
            "reason": "The same buyer has another open order to the same address that was not merged with this one.",
            "priority": 75,
            "enabled": True,
        },
    )


class Migration(migrations.Migration):
    dependencies = [("review", "0002_seed_review_rules")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
