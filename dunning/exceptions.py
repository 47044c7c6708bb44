class DunningError(Exception):
    """A dunning action that cannot be done as asked; the message is for the user."""
