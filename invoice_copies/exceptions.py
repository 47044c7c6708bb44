class CopyError(Exception):
    """A copy refused; the message is fit to show to the user."""


class ArchiveRefused(CopyError):
    """A whole ZIP refused (damaged, too many files, too large unpacked): nothing changed."""
