"""Which addresses a webhook may reach (the SSRF policy), and resolving a host to check it.

Loopback, private (RFC 1918, unique-local, shared CGNAT), multicast, reserved and
unspecified addresses are refused unless private ones are allowed; link-local addresses
(169.254.0.0/16: cloud metadata; fe80::/10) are refused always. An IPv6 address that
carries an IPv4 one (IPv4-mapped, 6to4, NAT64) is judged as that IPv4 address, since the
network may deliver it there."""

from __future__ import annotations

import asyncio
import ipaddress
import socket

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Named rather than taken from `is_private`, which also covers documentation, benchmarking
# and "this network" ranges: allowing private addresses (a development setting) should open
# the networks a receiver can really live on, and no more.
_PRIVATE = tuple(
    ipaddress.ip_network(network)
    for network in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",  # shared address space (carrier-grade NAT): private in practice
        "fc00::/7",  # unique local
        "fec0::/10",  # site-local, deprecated but still routed by some networks
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def refused_reason(address: IPAddress, allow_private: bool) -> str | None:
    """Why `address` may not be called ("loopback", "private", "link-local", "multicast",
    "reserved", "unspecified"), or None when it may."""
    address = _carried_ipv4(address)
    if address.is_link_local:
        return "link-local"
    if address.is_unspecified:
        return "unspecified"
    if address.is_multicast:
        return "multicast"
    if address.is_loopback:
        return None if allow_private else "loopback"
    if any(address in network for network in _PRIVATE):
        return None if allow_private else "private"
    if address.is_reserved or not address.is_global:
        return "reserved"
    return None


def _carried_ipv4(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 one stands for (IPv4-mapped, 6to4, NAT64), else itself:
    `::ffff:127.0.0.1` reaches loopback however its first 96 bits are spelled."""
    if isinstance(address, ipaddress.IPv4Address):
        return address
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
    return address


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to, in the resolver's order of preference; a literal
    address is itself (its zone, if any, dropped). Asks the running loop's `getaddrinfo`,
    so the lookup does not block the loop (and tests can stand in for DNS)."""
    try:
        return [ipaddress.ip_address(host.partition("%")[0])]
    except ValueError:
        pass
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    found: list[IPAddress] = []
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).partition("%")[0])
        if address not in found:
            found.append(address)
    return found
