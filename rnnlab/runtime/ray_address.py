"""Is a Ray cluster's address safe to hand our trainings to? Only when it is on a private network.

Ray has no authentication by default: whoever reaches a cluster's ports (the client server on 10001, the
GCS on 6379, the dashboard on 8265) can run any code on it, and the app sends it code by design. A teacher
who sets ``RNNLAB_RAY_ADDRESS=ray://<public address>:10001`` exposes that to the Internet, so the app refuses
an address whose host is not private, unless the teacher says it was secured (firewall, token
authentication) with ``RNNLAB_RAY_ALLOW_PUBLIC=1``.

    check_ray_address("ray://10.0.0.5:10001")       # fine: RFC 1918
    check_ray_address("ray://203.0.113.7:10001")    # ValueError, with what to do about it

Private here: ``local``, ``auto`` and an empty address (a Ray on this machine), loopback, the RFC 1918
ranges, link-local, IPv6 unique-local (fc00::/7), and a host name that resolves only to such addresses.
"""
from __future__ import annotations

import ipaddress
import os
import socket
import threading
from urllib.parse import urlsplit

#: the networks a cluster may be on without the teacher's override
PRIVATE_NETWORKS = tuple(ipaddress.ip_network(n) for n in (
    "127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16",   # IPv4
    "::1/128", "fc00::/7", "fe80::/10"))                                                  # IPv6
ALLOW_PUBLIC_ENV = "RNNLAB_RAY_ALLOW_PUBLIC"
RESOLVE_SECONDS = 3.0     # a host name's lookup may not hold up the server's start for longer
_HOW = ("Ray has no authentication by default: anyone who can reach the cluster's ports can run code on it. "
        "Use the cluster's private address, firewall its ports to the app server, turn on Ray's token "
        f"authentication (RAY_AUTH_MODE=token), then set {ALLOW_PUBLIC_ENV}=1 to use this address anyway.")


def is_private_ip(ip: str | ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Loopback, RFC 1918, link-local or IPv6 unique-local (an IPv4 address written in IPv6 counts as IPv4)."""
    ip = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in net for net in PRIVATE_NETWORKS if net.version == ip.version)


def ray_host(address: str) -> str:
    """The host of ``ray://host:port``, ``host:port``, ``[v6]:port`` or a bare host or IP ('' for none)."""
    text = address.strip()
    try:
        return str(ipaddress.ip_address(text.strip("[]")))          # a bare IP (IPv6 without brackets too)
    except ValueError:
        pass
    return urlsplit(text if "://" in text else "//" + text).hostname or ""


def resolve(host: str, timeout: float | None = None) -> list[str]:
    """Every address ``host`` resolves to (``socket.getaddrinfo``); OSError if it does not resolve in time.

    getaddrinfo has no timeout of its own: it runs in a daemon thread that is left behind if it hangs."""
    found: list = []

    def lookup():
        try:
            found.append(socket.getaddrinfo(host, None))
        except OSError as err:
            found.append(err)

    worker = threading.Thread(target=lookup, name="rnnlab-ray-resolve", daemon=True)
    worker.start()
    worker.join(RESOLVE_SECONDS if timeout is None else timeout)
    if not found:
        raise OSError(f"no answer in {RESOLVE_SECONDS if timeout is None else timeout:g} s")
    if isinstance(found[0], OSError):
        raise found[0]
    return sorted({info[4][0].split("%")[0] for info in found[0]})    # drop an IPv6 zone ("fe80::1%eth0")


def check_ray_address(address: str, allow_public: bool | None = None) -> None:
    """Raise ValueError (a message for the teacher) unless ``address`` is on a private network.

    ``allow_public`` (default: ``RNNLAB_RAY_ALLOW_PUBLIC=1`` in the environment) skips the check: the teacher
    has secured the cluster and says so."""
    if allow_public is None:
        allow_public = os.environ.get(ALLOW_PUBLIC_ENV, "").strip() == "1"
    text = (address or "").strip()
    if allow_public or text.lower() in ("", "local", "auto"):
        return
    try:
        host = ray_host(text)
    except ValueError as err:
        raise ValueError(f"The Ray address {text!r} cannot be read ({err}).") from None
    if not host:
        raise ValueError(f"The Ray address {text!r} names no host: write ray://<host>:10001.")
    try:
        ips = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            ips = resolve(host)
        except OSError as err:
            raise ValueError(f"The Ray address {text!r}: the host name {host!r} cannot be resolved ({err}), so "
                             "the app cannot tell whether it is on a private network. Use the cluster's private "
                             f"IP address, or set {ALLOW_PUBLIC_ENV}=1.") from None
        if not ips:
            raise ValueError(f"The Ray address {text!r}: the host name {host!r} resolves to no address.") from None
    public = [ip for ip in ips if not is_private_ip(ip)]
    if public:
        where = host if public == [host] else f"{host} (which resolves to {', '.join(public)})"
        raise ValueError(f"The Ray address {text!r} is not on a private network: {where} can be reached from "
                         f"outside it. {_HOW}")
