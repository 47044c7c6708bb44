from django.urls import path

from . import optout_views, referral_views, rule_views, views

app_name = "dunning"

urlpatterns = [
    path("policies/", views.policy_list, name="policy_list"),
    path("policies/<int:pk>/", views.policy_detail, name="policy_detail"),
    path("policies/<int:pk>/edit/", views.policy_edit, name="policy_edit"),
    path("policies/<int:pk>/move/", views.policy_move, name="policy_move"),
    path("policies/<int:pk>/default/", views.policy_default, name="policy_default"),
    path("policies/<int:pk>/interest/", views.policy_interest, name="policy_interest"),
    path("policies/<int:pk>/barred/", views.policy_barred, name="policy_barred"),
    path("policies/<int:pk>/repeat/", rule_views.policy_repeat, name="policy_repeat"),
    path("policies/rules/", rule_views.policy_rules, name="policy_rules"),
    path("policies/rules/<int:pk>/", rule_views.policy_rule_edit, name="policy_rule_edit"),
    path(
        "policies/rules/<int:pk>/delete/",
        rule_views.policy_rule_remove,
        name="policy_rule_remove",
    ),
    path("settings/dunning/", views.settings_edit, name="settings"),
    path("customers/<int:pk>/policy/", views.customer_policy, name="customer_policy"),
    path("dunning/preview/", views.preview, name="preview"),
    path("referrals/", referral_views.referral_list, name="referral_list"),
    path("referrals/<int:pk>/", referral_views.referral_detail, name="referral_detail"),
    path("referrals/<int:pk>/decide/", referral_views.referral_decide, name="referral_decide"),
    path("portal/opt-out/<str:token>/", optout_views.opt_out, name="opt_out"),
]
