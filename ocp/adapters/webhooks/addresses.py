"""Which addresses a webhook may reach (the SSRF policy), and resolving a host to check it.

Loopback, private (RFC 1918, unique-local, shared CGNAT), multicast, reserved and
unspecified addresses are refused unless private ones are allowed; link-local addresses
(169.254.0.0/16: cloud metadata; fe80::/10) are refused always. An IPv4-mapped IPv6
address is judged as the IPv4 address it maps."""

from __future__ import annotations

import asyncio
import ipaddress
import socket

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT: private in practice


def refused_reason(address: IPAddress, allow_private: bool) -> str | None:
    """Why `address` may not be called ("loopback", "private", ...), or None when it may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if address.is_unspecified:
        return "unspecified"
    if allow_private:
        if address.is_loopback or address.is_private or address in _SHARED:
            return None
    else:
        if address.is_loopback:
            return "loopback"
        if address.is_private or address in _SHARED:
            return "private"
    if address.is_reserved or not address.is_global:
        return "reserved"
    return None


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to (a literal address is itself)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    found: list[IPAddress] = []
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if address not in found:
            found.append(address)
    return found
