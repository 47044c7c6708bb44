from .imap import replies_fetch_configured


def fetch_replies_task() -> int:
    return replies_fetch_configured()
