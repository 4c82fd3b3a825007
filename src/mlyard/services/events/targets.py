"""Which webhook URLs mlyard will send to.

http(s) only, with a host. Link-local addresses (169.254.0.0/16, fe80::/10 — where clouds serve
instance metadata and credentials) and the known metadata endpoints are refused unless the
workspace allows them (`webhook_allow_link_local`): a subscription must not turn the server
into a way to read its own cloud credentials (SSRF). The check runs at creation and again
before every attempt, since a name can be re-pointed after it was checked.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from mlyard.errors import InvalidArgument, PermissionDenied

_METADATA_HOSTS = frozenset(
    {"metadata.google.internal", "metadata", "instance-data", "instance-data.ec2.internal"}
)
_METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200")
)


def check_url(url: str, field: str = "webhook") -> str:
    """The URL if it is an http(s) URL with a host; `InvalidArgument` naming `field` otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidArgument(f"{field}: {url!r} is not an http:// or https:// URL with a host")
    return url


def check_target(url: str, allow_link_local: bool, field: str = "webhook") -> None:
    """`PermissionDenied` when `url` points at a link-local or cloud-metadata address."""
    check_url(url, field)
    if allow_link_local:
        return
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    if host in _METADATA_HOSTS:
        raise PermissionDenied(_refusal(field, url, f"{host} is a cloud metadata service"))
    for address in _addresses(host):
        if address in _METADATA_ADDRESSES or address.is_link_local:
            where = host if str(address) == host else f"{host} ({address})"
            raise PermissionDenied(_refusal(field, url, f"{where} is a link-local / cloud-metadata address"))


def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return []  # not resolvable now: the attempt will fail and be retried, and checked again
    found = []
    for info in infos:
        try:
            found.append(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]))
        except ValueError:
            continue
    return found


def _refusal(field: str, url: str, why: str) -> str:
    return (
        f"{field}: {url} refused: {why}; an admin may allow it with: "
        "mlyard workspace settings set webhook_allow_link_local=true"
    )
