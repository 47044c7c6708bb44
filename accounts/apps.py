from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db.models.signals import post_migrate


def ensure_role_groups(sender, apps=global_apps, using="default", **kwargs):
    """Recreate the role groups after a flush (transactional tests flush between tests):
    the data migration that first created them does not run again."""
    from .roles import ROLES

    group_model = apps.get_model("auth", "Group")
    for name in ROLES:
        group_model.objects.using(using).get_or_create(name=name)


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "People and roles"

    def ready(self):
        # post_migrate is sent only for apps with models, so hook onto auth, which owns groups.
        post_migrate.connect(
            ensure_role_groups,
            sender=self.apps.get_app_config("auth"),
            dispatch_uid="accounts.ensure_role_groups",
        )
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_login_failed

        from .receivers import on_locked_out, on_login_failed

        user_login_failed.connect(on_login_failed, dispatch_uid="accounts.login_failed")
        user_locked_out.connect(on_locked_out, dispatch_uid="accounts.locked_out")
