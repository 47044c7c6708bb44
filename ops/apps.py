from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "ops"
    verbose_name = "Operations"

    def ready(self):
        from django_q.signals import post_execute_in_worker, pre_execute

        from . import logs

        # dispatch_uid: ready() may run twice (tests), and one task must not be labelled twice.
        pre_execute.connect(logs.task_started, dispatch_uid="ops.task_started")
        post_execute_in_worker.connect(logs.task_finished, dispatch_uid="ops.task_finished")
