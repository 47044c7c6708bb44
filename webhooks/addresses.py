"""Which addresses a webhook may reach: the public internet only, never the firm's own network
(loopback, private ranges, link-local cloud metadata). Checked when an endpoint is saved and
again at each delivery, on the very address connected to, so a DNS answer that changes in
between (rebinding) cannot point a delivery inside.

WEBHOOKS_ALLOW_PRIVATE_URLS turns the address check off, for an installation that posts to
its own ERP on purpose; the scheme and credentials rules hold either way."""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOWED_SCHEMES = ("http", "https")
# NAT64 (RFC 6052) carries an IPv4 address in its last 32 bits, which a gateway then reaches.
NAT64 = ipaddress.ip_network("64:ff9b::/96")
# RFC 1918 and IPv6 unique local addresses: named "private"; the rest of what is not global
# (shared CGNAT space, documentation ranges, ...) is "not a public address".
PRIVATE = tuple(
    ipaddress.ip_network(net)
    for net in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
)


class AddressNotAllowed(Exception):
    """A delivery that would reach an address it may not; the message is shown in the log."""


def private_allowed() -> bool:
    return bool(getattr(settings, "WEBHOOKS_ALLOW_PRIVATE_URLS", False))


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if address.version != 6:
        return None
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_kind(address: IPAddress) -> str | None:
    """Why this address may not be reached ("a private address"), or None when it is public."""
    address = _embedded_ipv4(address) or address
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if any(address in network for network in PRIVATE if network.version == address.version):
        return "a private address"
    if address.is_reserved:
        return "a reserved address"
    if address.is_private or not address.is_global:
        return "not a public address"
    return None


def address_check(ip: str) -> None:
    """Raise AddressNotAllowed unless `ip` (as returned by getaddrinfo) is public."""
    ip = ip.split("%", 1)[0]
    kind = address_kind(ipaddress.ip_address(ip))
    if kind:
        raise AddressNotAllowed(f"address not allowed: {ip} is {kind}")


def resolve(host: str, port: int) -> list[tuple]:
    """getaddrinfo for a TCP connection; raises OSError when the name is not found."""
    return socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)


def url_refusal(url: str) -> str | None:
    """Why an endpoint URL may not be saved, in words for the admin, or None."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return "Enter a valid URL."
    if parts.scheme not in ALLOWED_SCHEMES:
        return "Use an http:// or https:// address."
    if parts.username is not None or parts.password is not None:
        return (
            "Leave the user name and password out of the URL: the receiver checks each "
            "delivery's signature instead."
        )
    host = parts.hostname
    if not host:
        return "Enter a valid URL."
    if private_allowed():
        return None
    try:
        found = resolve(host, port)
    except (OSError, UnicodeError):
        return f"{host} could not be found: check the address."
    for *_, sockaddr in found:
        try:
            address_check(sockaddr[0])
        except AddressNotAllowed as refusal:
            return (
                f"This URL reaches the internal network ({refusal}); webhooks may only go "
                "to public addresses."
            )
    return None


def connect_checked(address: tuple[str, int], timeout, source_address=None) -> socket.socket:
    """socket.create_connection, but every address the name resolves to is checked first and
    the connection is made to a checked address itself, never by looking the name up again."""
    host, port = address
    found = resolve(host, port)
    for *_, sockaddr in found:
        address_check(sockaddr[0])
    last_error: OSError | None = None
    for *_, sockaddr in found:
        try:
            return socket.create_connection((sockaddr[0], port), timeout, source_address)
        except OSError as error:
            last_error = error
    raise last_error or OSError(f"{host} has no address")
