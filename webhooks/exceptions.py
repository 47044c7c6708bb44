class WebhookError(Exception):
    """A webhook change that cannot be made; the message is for the admin."""
