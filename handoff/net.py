"""Where the server may send requests of its own (chat messages, webhooks)."""

from __future__ import annotations

import ipaddress
import socket


def reaches_private_network(host: str) -> bool:
    """Whether ``host`` is, or resolves to, an address that is not public
    (loopback, private ranges, link-local such as cloud metadata)."""
    try:
        addresses = {ipaddress.ip_address(host.strip("[]"))}
    except ValueError:
        try:
            found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
        except OSError:
            return False  # not resolvable here: nothing can be posted to it either
        addresses = {ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in found}
    return any(not address.is_global for address in addresses)
