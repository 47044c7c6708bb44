"""What the customer's page refuses, with a message to show them."""


class PortalError(Exception):
    pass
