class InboxError(Exception):
    """A change to a reply that cannot be made; the message says why."""
