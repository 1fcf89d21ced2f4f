"""The SSRF guard's rules: which URLs and which addresses a URL typed by a Discord user may
reach.

Pure: no network. ``bot.net.client`` applies these rules — the URL rules before each request and each
redirect hop, the address rules inside the connector's resolver, so the connection goes to the
very addresses that were vetted (no second lookup for DNS rebinding to exploit).

Rules (``allow_private=False``, production):

* scheme http or https, port 80 or 443, no credentials in the URL;
* the host is a name or a canonical address: numeric IPv4 spellings other than the dotted quad
  (``2130706433``, ``0177.0.0.1``, ``0x7f.1``, ``127.1``) are refused outright, as is any name
  whose last label is a number (what browsers would read as an IPv4 address) and IPv6 zone ids;
* every address the name resolves to must be globally routable unicast: loopback, private,
  link-local (169.254.0.0/16 with cloud metadata, fe80::/10), CGNAT 100.64.0.0/10, multicast,
  reserved, unspecified, benchmarking, documentation, IPv6 ULA fc00::/7 and site-local are
  refused; IPv4 embedded in IPv6 (IPv4-mapped ``::ffff:a.b.c.d``, IPv4-compatible, NAT64
  ``64:ff9b::/96``, 6to4 ``2002::/16``, Teredo) is vetted as the IPv4 it carries.

``allow_private=True`` (``ALLOW_PRIVATE_TARGETS=1``, tests only) lifts the address rule and,
so that tests can reach loopback servers on random ports, the port rule. The scheme,
credential and spelling rules always apply.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

ALLOWED_SCHEMES = frozenset({"http", "https"})
ALLOWED_PORTS = frozenset({80, 443})
MAX_REDIRECTS = 3

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Listed explicitly (besides ``is_global``) so the rule does not drift with Python's tables.
_BLOCKED_NETWORKS: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",  # "this network", unspecified
        "10.0.0.0/8",
        "100.64.0.0/10",  # CGNAT
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, cloud metadata (169.254.169.254)
        "172.16.0.0/12",
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation
        "192.88.99.0/24",  # 6to4 relay anycast
        "192.168.0.0/16",
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, broadcast
        "::/128",
        "::1/128",
        "100::/64",  # discard
        "2001:db8::/32",  # documentation
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
)
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_COMPAT = ipaddress.ip_network("::/96")

# A label as inet_aton would read it: decimal, 0x-hex or 0-octal.
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$", re.IGNORECASE)


class SSRFRefused(Exception):
    """A URL or address the guard will not let a user-supplied request reach.

    Deliberately not an ``OSError``: raised inside aiohttp's resolver it propagates as itself
    instead of being wrapped as a DNS failure."""


@dataclass(frozen=True, slots=True)
class CheckedUrl:
    """A URL that passed the URL rules: what the request will connect to."""

    scheme: str
    host: str  # lower case, no trailing dot, no brackets
    port: int
    address: IPAddress | None  # set when the host is an address literal


def check_url(url: str, *, allow_private: bool = False) -> CheckedUrl:
    """Apply the URL rules to ``url``; raise ``SSRFRefused`` saying why it is refused.

    An address literal is vetted here too (the resolver never sees literals)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise SSRFRefused(f"malformed URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise SSRFRefused(f"scheme {scheme or '(none)'!r} is not allowed; only http and https")
    if parts.username is not None or parts.password is not None:
        raise SSRFRefused("credentials in the URL are not allowed")
    if "\\" in parts.netloc:
        raise SSRFRefused("backslash in the host part")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise SSRFRefused("the URL has no host")
    if port is None:
        port = 443 if scheme == "https" else 80
    if not allow_private and port not in ALLOWED_PORTS:
        raise SSRFRefused(f"port {port} is not allowed; only 80 and 443")
    address = literal_address(host)
    if address is not None:
        vet_address(address, allow_private=allow_private)
    return CheckedUrl(scheme=scheme, host=host, port=port, address=address)


def literal_address(host: str) -> IPAddress | None:
    """The address ``host`` spells, or ``None`` for a name. Refuses IPv4 spellings that are
    not the canonical dotted quad, names ending in a numeric label, and IPv6 zone ids."""
    host = host.rstrip(".")
    if ":" in host:
        if "%" in host:
            raise SSRFRefused(f"IPv6 zone identifiers are not allowed: {host!r}")
        try:
            return ipaddress.IPv6Address(host)
        except ValueError:
            raise SSRFRefused(f"malformed IPv6 address {host!r}") from None
    labels = host.split(".")
    if _NUMERIC_LABEL.match(labels[-1]):
        try:
            address = ipaddress.IPv4Address(host)
        except ValueError:
            address = None
        # IPv4Address rejects leading zeros, hex and short forms: only the dotted quad passes.
        if address is None or str(address) != host:
            raise SSRFRefused(f"non-canonical IPv4 spelling {host!r} is not allowed")
        return address
    return None


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, NAT64, 6to4, Teredo)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if any(address in net for net in _NAT64) or (address in _IPV4_COMPAT and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def vet_address(address: IPAddress | str, *, allow_private: bool = False) -> None:
    """Raise ``SSRFRefused`` unless ``address`` is a globally routable unicast address."""
    if allow_private:
        return
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0] if isinstance(address, str) else address)
    except ValueError:
        raise SSRFRefused(f"not an IP address: {address!r}") from None
    if isinstance(ip, ipaddress.IPv6Address):
        inner = embedded_ipv4(ip)
        if inner is not None:
            try:
                vet_address(inner)
            except SSRFRefused as exc:
                raise SSRFRefused(f"{ip} embeds a refused IPv4 address ({exc})") from None
            return  # a translation of a public IPv4 address is as public as that address
    if any(ip in net for net in _BLOCKED_NETWORKS if net.version == ip.version):
        raise SSRFRefused(f"address {ip} is not public")
    if (
        not ip.is_global
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    ):
        raise SSRFRefused(f"address {ip} is not public")


def vet_addresses(addresses: list[str], *, allow_private: bool = False) -> list[str]:
    """All of ``addresses`` when every one is allowed; refuses the lot if any is not (a name
    that mixes public and private answers is treated as hostile)."""
    if not addresses:
        raise SSRFRefused("the name resolved to no address")
    for address in addresses:
        vet_address(address, allow_private=allow_private)
    return addresses
