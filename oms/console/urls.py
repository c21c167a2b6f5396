from django.urls import path

from oms.console import fulfillment_views, orders_views, outbox_views, review_views, splitmerge_views, views

app_name = "console"

urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/board/", views.home_board, name="home_board"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("interceptions/", review_views.interception_queue, name="interceptions"),
    path("interceptions/release/", review_views.interception_release, name="interception_release"),
    path("rules/", review_views.rule_list, name="rules"),
    path("rules/new/", review_views.rule_edit, name="rule_new"),
    path("rules/<int:pk>/", review_views.rule_edit, name="rule_edit"),
    path("rules/validate/", review_views.rule_validate, name="rule_validate"),
    path("rules/dry-run/", review_views.rule_dry_run, name="rule_dry_run"),
    path("orders/<str:number>/review/", review_views.order_review_action, name="order_review"),
    path("orders/<str:number>/holds/", review_views.order_holds_panel, name="order_holds"),
    path("outbox/", outbox_views.outbox_list, name="outbox"),
    path("outbox/<int:pk>/", outbox_views.outbox_detail, name="outbox_detail"),
    path("outbox/<int:pk>/retry/", outbox_views.outbox_retry, name="outbox_retry"),
    path("merge/", splitmerge_views.merge_page, name="merge"),
    path("orders/<str:number>/split/", splitmerge_views.split_dialog, name="order_split"),
    path("orders/<str:number>/split/preview/", splitmerge_views.split_preview, name="order_split_preview"),
    path("orders/<str:number>/unmerge/", splitmerge_views.unmerge_action, name="order_unmerge"),
    path("orders/<str:number>/lineage/", splitmerge_views.lineage_panel, name="order_lineage"),
    path("orders/", orders_views.order_index, name="orders"),
    path("orders/import/", orders_views.order_import, name="orders_import"),
    path("orders/<str:number>/", orders_views.order_detail, name="order_detail"),
    path("orders/<str:number>/cancel/", orders_views.order_cancel_view, name="order_cancel"),
    path("orders/<str:number>/remarks/", orders_views.order_remarks_view, name="order_remarks"),
    path("customers/", orders_views.customer_index, name="customers"),
    path("customers/<int:pk>/", orders_views.customer_detail, name="customer_detail"),
    path("stockouts/", fulfillment_views.stockout_index, name="stockouts"),
    path("stockouts/resolve/", fulfillment_views.stockout_resolve, name="stockout_resolve"),
    path("dispatch/", fulfillment_views.dispatch_index, name="dispatch"),
    path("orders/<str:number>/fulfilment/", fulfillment_views.order_fulfilment_view, name="order_fulfilment"),
    path("orders/<str:number>/fulfilment/advance/", fulfillment_views.order_advance_action, name="order_advance"),
    path("orders/<str:number>/fulfilment/transfer/", fulfillment_views.order_transfer_action, name="order_transfer"),
    path("orders/<str:number>/fulfilment/courier/", fulfillment_views.order_courier_action, name="order_courier"),
    path("orders/<str:number>/fulfilment/dispatch/", fulfillment_views.order_dispatch_action, name="order_dispatch"),
]
