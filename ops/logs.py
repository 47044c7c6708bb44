"""Log records that say which request or task they belong to, and a JSON formatter.

The request id (ops.middleware) and the django-q2 task (signals, connected in apps.py) live
in context variables; ContextFilter, on the handler, copies them onto every record it sees,
whichever logger wrote it.
"""

import datetime as dt
import json
import logging
from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
current_task: ContextVar[dict | None] = ContextVar("current_task", default=None)

# What every LogRecord has; anything else on a record came from `extra=` and is logged too.
STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
# Set by ContextFilter on every record; left out of a line when there is no request or task.
CONTEXT = {"request_id", "task", "task_func"}


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            # django.request logs a 4xx/5xx answer after the middleware has finished; the
            # record carries the request itself then.
            request = getattr(record, "request", None)
            record.request_id = request_id.get() or getattr(request, "request_id", None)
        current = current_task.get()
        if current and getattr(record, "task", None) is None:
            record.task = current["name"]
            record.task_func = current["func"]
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, the request id or task
    when there is one, whatever was passed in `extra=`, and the traceback as one string."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in STANDARD and not (key in CONTEXT and value is None):
                line[key] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def task_started(sender, func=None, task=None, **kwargs) -> None:
    """django-q2's pre_execute, in the worker: records written by the task name it."""
    current_task.set({"name": task.get("name"), "func": _dotted(task.get("func"))})


def task_finished(sender, **kwargs) -> None:
    current_task.set(None)


def _dotted(func) -> str:
    if isinstance(func, str):
        return func
    return f"{getattr(func, '__module__', '')}.{getattr(func, '__qualname__', func)}"
