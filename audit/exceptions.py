class AuditImmutableError(Exception):
    """Raised on any attempt to change or delete an audit event."""
