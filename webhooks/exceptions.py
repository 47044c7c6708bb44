class WebhookError(Exception):
    """A webhook change that cannot be made; the message is for the admin."""


class UrlRefused(WebhookError):
    """An endpoint URL that may not be used (scheme, credentials, internal address)."""
