"""Where webhooks may be sent: the address policy against SSRF, and the one HTTP POST.

A webhook URL names a host chosen by a user, and the server connects to it. Left open, that
lets a user reach the server's own ports, the private network and the cloud metadata service,
and read the answers (status, "Connection refused") back from the delivery log. So by default
a destination must resolve only to public internet addresses. An admin may permit internal
receivers by name (``WEBHOOK_ALLOWED_HOSTS``) or by network (``WEBHOOK_ALLOWED_NETWORKS``).

The check runs twice: when a subscription is saved (a 400 on ``url``) and on every delivery,
after resolving the name again. Every resolved address must pass, and the connection goes to
the address that was checked (``Host`` and TLS still use the name), so a DNS answer that
changes between check and connect (rebinding) cannot redirect it. Redirects are never
followed: a 3xx answer is logged as a failed delivery. No proxy from the environment is used.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Never a webhook destination unless allow-listed: what ``is_global`` misses or gets wrong in
# some Python versions, spelled out. Cloud metadata services live inside these ranges:
# 169.254.169.254 (AWS, GCP, Azure), fd00:ec2::254 (AWS IPv6), 100.100.100.200 (Alibaba).
REFUSED_NETWORKS = tuple(
    ipaddress.ip_network(network)
    for network in (
        "0.0.0.0/8",  # "this network", unspecified
        "10.0.0.0/8",  # RFC 1918
        "100.64.0.0/10",  # carrier-grade NAT (RFC 6598)
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local, metadata
        "172.16.0.0/12",  # RFC 1918
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation
        "192.88.99.0/24",  # 6to4 relay anycast
        "192.168.0.0/16",  # RFC 1918
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation
        "203.0.113.0/24",  # documentation
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, broadcast
        "::/128",  # unspecified
        "::1/128",  # loopback
        "::ffff:0:0/96",  # IPv4-mapped: would smuggle any IPv4 address past the checks above
        "64:ff9b::/96",  # NAT64, same reason
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",  # discard-only
        "2001::/23",  # IETF protocol assignments (Teredo included)
        "2001:db8::/32",  # documentation
        "2002::/16",  # 6to4, embeds an IPv4 address
        "fc00::/7",  # unique local (ULA)
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
)
REFUSED_MESSAGE = "Destination not allowed."
URL_REFUSED_MESSAGE = (
    "Webhooks may only be sent to public internet addresses; this host is internal or does "
    "not resolve. An administrator can allow an internal receiver (WEBHOOK_ALLOWED_HOSTS)."
)
# Indirection so tests can answer name lookups without the network.
getaddrinfo = socket.getaddrinfo


class DestinationRefusedError(Exception):
    """The destination resolves to an address the policy refuses (or does not resolve)."""


class DestinationUnresolvedError(DestinationRefusedError):
    """The host name did not resolve (possibly for a moment: worth a retry at delivery)."""


@dataclass(frozen=True)
class Destination:
    """A checked URL: the name to send as Host/SNI and the addresses to connect to."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


def is_refused_address(address: IPAddress) -> bool:
    """Whether the default policy refuses ``address`` (before any allow-list)."""
    return (
        any(
            address in network for network in REFUSED_NETWORKS if network.version == address.version
        )
        or not address.is_global
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(n, strict=False) for n in settings.WEBHOOK_ALLOWED_NETWORKS]


def _host_is_allow_listed(host: str) -> bool:
    allowed = {h.lower().rstrip(".") for h in settings.WEBHOOK_ALLOWED_HOSTS}
    return host.lower().rstrip(".") in allowed


def _address_is_allowed(address: IPAddress, *, host_allowed: bool) -> bool:
    if host_allowed or not is_refused_address(address):
        return True
    return any(address in network for network in _allowed_networks())


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (an IP literal resolves to itself)."""
    try:
        infos = getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise DestinationUnresolvedError(host) from exc
    # A scope id ("fe80::1%eth0") is dropped: the address alone decides.
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if not addresses:
        raise DestinationUnresolvedError(host)
    return addresses


def check(url: str) -> Destination:
    """Resolve ``url``'s host and check every address; raises ``DestinationRefusedError``."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DestinationRefusedError(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise DestinationRefusedError(url) from exc
    host = parts.hostname
    addresses = resolve(host, port)
    host_allowed = _host_is_allow_listed(host)
    if not all(_address_is_allowed(a, host_allowed=host_allowed) for a in addresses):
        raise DestinationRefusedError(url)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Destination(parts.scheme, host, port, path, tuple(str(a) for a in addresses))


def validate_url(url: str) -> None:
    """The save-time check: a field error on ``url``; one message whatever the reason."""
    try:
        check(url)
    except DestinationRefusedError:
        raise ValidationError({"url": URL_REFUSED_MESSAGE}) from None


def _connect(destination: Destination, timeout: float | None) -> socket.socket:
    """A socket to the first checked address that answers (in resolver order)."""
    error: OSError | None = None
    for address in destination.addresses:
        try:
            return socket.create_connection((address, destination.port), timeout)
        except OSError as exc:
            error = exc
    raise error or OSError("No address to connect to.")


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked addresses; the Host header still names the host."""

    def __init__(self, destination: Destination, timeout: float) -> None:
        super().__init__(destination.host, destination.port, timeout=timeout)
        self.destination = destination

    def connect(self) -> None:
        self.sock = _connect(self.destination, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As above, with TLS verified against the host name (SNI and certificate)."""

    def __init__(self, destination: Destination, timeout: float) -> None:
        self.tls_context = ssl.create_default_context()
        super().__init__(
            destination.host,
            destination.port,
            timeout=timeout,
            context=self.tls_context,
        )
        self.destination = destination

    def connect(self) -> None:
        sock = _connect(self.destination, self.timeout)
        self.sock = self.tls_context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str, bool]:
    """POST ``body`` to an allowed destination: (status or None, error text, refused?).

    A refused destination is never contacted and its error says only "Destination not
    allowed.", so the log cannot be used to scan internal ports.
    """
    try:
        destination = check(url)
    except DestinationUnresolvedError:
        return None, "The host name did not resolve.", False
    except DestinationRefusedError:
        return None, REFUSED_MESSAGE, True
    connection_class = (
        _PinnedHTTPSConnection if destination.scheme == "https" else _PinnedHTTPConnection
    )
    connection = connection_class(destination, settings.WEBHOOK_TIMEOUT_SECONDS)
    try:
        connection.request("POST", destination.path, body=body, headers=headers)
        response = connection.getresponse()
        status = response.status
        reason = response.reason
    except (http.client.HTTPException, OSError, ValueError) as exc:
        return None, f"{type(exc).__name__}: {exc}", False
    finally:
        connection.close()
    if 200 <= status < 300:
        return status, "", False
    # 3xx included: redirects are not followed (the body would be resent elsewhere).
    return status, f"HTTP {status} {reason}", False


def get(url: str, *, max_bytes: int) -> tuple[bytes | None, str]:
    """GET an allowed destination (a subscribed calendar feed, capture app): (body, "") or
    (None, error text). The same address policy and pinning as ``post``; no redirects; a
    body over ``max_bytes`` is refused rather than read whole."""
    try:
        destination = check(url)
    except DestinationUnresolvedError:
        return None, "The host name did not resolve."
    except DestinationRefusedError:
        return None, REFUSED_MESSAGE
    connection_class = (
        _PinnedHTTPSConnection if destination.scheme == "https" else _PinnedHTTPConnection
    )
    connection = connection_class(destination, settings.WEBHOOK_TIMEOUT_SECONDS)
    try:
        connection.request("GET", destination.path, headers={"Accept": "text/calendar"})
        response = connection.getresponse()
        status, reason = response.status, response.reason
        body = response.read(max_bytes + 1)
    except (http.client.HTTPException, OSError, ValueError) as exc:
        return None, f"{type(exc).__name__}: {exc}"
    finally:
        connection.close()
    if not 200 <= status < 300:
        return None, f"HTTP {status} {reason}"
    if len(body) > max_bytes:
        return None, f"Larger than {max_bytes} bytes."
    return body, ""
