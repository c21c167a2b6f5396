"""What split and merge write for operators to read, by code (rendered by `oms.core.texts`): the reasons on
retired and new orders, the automatic strategies, and the errors of its services."""

from __future__ import annotations

import re

from django.utils.translation import gettext_noop

from oms.core.texts import label, label_define, stored_text_render, text_define

label_define(
    "split_strategy",
    {
        "warehouse": gettext_noop("By the warehouse plan"),
        "presale": gettext_noop("Presale apart from in-stock"),
        "weight": gettext_noop("By parcel weight limit"),
        "category": gettext_noop("By category"),
    },
)

label_define(
    "order_event",
    {
        "split_created": gettext_noop("Created by a split"),
        "merge_created": gettext_noop("Created by a merge"),
        "unmerge_created": gettext_noop("Created by an un-merge"),
    },
)

label_define(
    "lineage",
    {
        "split": gettext_noop("Split"),
        "merge": gettext_noop("Merge"),
        "unmerge": gettext_noop("Un-merge"),
        "exchange": gettext_noop("Exchange"),
        "reissue": gettext_noop("Reissue"),
    },
)


def _strategy(value: object) -> str:
    return label("split_strategy", str(value))


def _problems(value: object) -> str:
    """Merge problems as the service joins them (sentences separated by a space), each in the reader's words."""
    return " ".join(stored_text_render(p) for p in re.split(r"(?<=\.) ", str(value)))


# The retired order's reason: what replaced it.
# The retired order's reason: what replaced it. Rows hold the kind's label in the language of whoever
# split or merged ("Split 拆单" or "拆单"); every form renders in the reader's language.
RETIRED_PREFIX = {"split": "Split 拆单", "merge": "Merge 合单", "unmerge": "Un-merge 取消合单"}
_RETIRED = {
    "split": (gettext_noop("Split: → %(children)s."), gettext_noop("Split: → %(children)s. %(reason)s")),
    "merge": (gettext_noop("Merge: → %(children)s."), gettext_noop("Merge: → %(children)s. %(reason)s")),
    "unmerge": (gettext_noop("Un-merge: → %(children)s."), gettext_noop("Un-merge: → %(children)s. %(reason)s")),
}
for _kind, (_bare, _with_reason) in _RETIRED.items():
    for _n, _prefix in enumerate((RETIRED_PREFIX[_kind], RETIRED_PREFIX[_kind].split(" ")[-1])):
        # With a reason first: the bare form would take a reason ending in "." as part of the numbers.
        text_define(f"splitmerge.retired.{_kind}.{_n}r", _with_reason, stored=_prefix + ": → %(children)s. %(reason)s")
        text_define(f"splitmerge.retired.{_kind}.{_n}", _bare, stored=_prefix + ": → %(children)s.")
text_define("splitmerge.auto_split", gettext_noop("auto split: %(strategy)s"), strategy=_strategy)
text_define("splitmerge.auto_merge", gettext_noop("auto merge"))


def _lineage_kind(value: object) -> str:
    return label("lineage", str(value))


text_define("splitmerge.order_retired", gettext_noop("%(kind)s: order retired"), kind=_lineage_kind)
text_define("splitmerge.stockouts_replaced", gettext_noop("%(kind)s: replaced by new orders"), kind=_lineage_kind)

# Errors.
text_define("merge.too_few", gettext_noop("Merging needs at least two orders."))
text_define("merge.itself", gettext_noop("An order cannot be merged with itself."))
text_define("merge.each_once", gettext_noop("Each order once."))
text_define("merge.channel", gettext_noop("%(order)s is from another channel than %(first)s."))
text_define("merge.buyer", gettext_noop("%(order)s has another buyer than %(first)s."))
text_define("merge.receiver", gettext_noop("%(order)s ships to another receiver or address than %(first)s."))
text_define("merge.cod", gettext_noop("%(order)s and %(first)s differ in cash on delivery."))
text_define("merge.presale", gettext_noop("%(order)s and %(first)s: presale orders merge only with presale orders."))
text_define("merge.currency", gettext_noop("%(order)s is in another currency than %(first)s."))
text_define("merge.refused", gettext_noop("These orders cannot be merged: %(problems)s"), problems=_problems)
text_define("merge.missing", gettext_noop("No such orders: %(numbers)s."))
text_define(
    "merge.invoice_conflict",
    gettext_noop("The orders ask for different invoices; choose which one applies (invoice_from)."),
)
text_define("merge.invoice_from", gettext_noop("Name the order whose invoice request applies."))
text_define("merge.not_merged", gettext_noop("Order %(number)s is not the result of a merge."))
text_define(
    "splitmerge.not_workable",
    gettext_noop(
        "Order %(number)s is %(status)s: only paid orders not yet sent to the warehouse "
        "(pending review, split or dispatch) can be split or merged."
    ),
)
text_define("splitmerge.held_after_review", gettext_noop("Resolve the holds raised after review first: %(holds)s"))
text_define("split.gifts_only", gettext_noop("An order cannot hold only gifts; put them with goods."))
text_define("split.gifts_only_order", gettext_noop("A new order would hold only gifts."))
text_define("split.no_plan", gettext_noop("Allocation proposed no split for order %(number)s."))
text_define("split.unknown_strategy", gettext_noop("Unknown strategy %(strategy)s; use one of %(all)s."))
text_define(
    "split.keeps_whole", gettext_noop("The %(strategy)s strategy keeps order %(number)s whole."), strategy=_strategy
)
text_define("split.max_weight", gettext_noop("max_weight_g must be positive."))
