"""The Ray address check: a cluster on a private network is accepted, anything reachable from outside is
refused unless the teacher overrides it. IP literals and a stubbed getaddrinfo: no real DNS."""
import socket
import time

import pytest

from rnnlab.runtime import ray_address as R
from rnnlab.runtime.ray_address import check_ray_address


@pytest.fixture(autouse=True)
def no_override_no_dns(monkeypatch):
    monkeypatch.delenv("RNNLAB_RAY_ALLOW_PUBLIC", raising=False)

    def no_dns(host, *a, **kw):
        raise AssertionError(f"unexpected DNS lookup of {host}")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)


def _dns(monkeypatch, table: dict[str, list[str]]):
    """getaddrinfo answering from ``table`` (name -> addresses); an unknown name fails as a real one does."""
    def getaddrinfo(host, port, *a, **kw):
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (ip, 0, 0, 0) if ":" in ip else (ip, 0)) for ip in table[host]]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.mark.parametrize("address", [
    "", "  ", "local", "auto", "AUTO",
    "ray://127.0.0.1:10001", "127.0.0.1:6379", "ray://10.1.2.3:10001", "10.255.255.255:6379",
    "ray://172.16.0.1:10001", "ray://172.31.255.254:10001", "ray://192.168.1.20:10001", "192.168.1.20",
    "ray://169.254.10.1:10001", "ray://[::1]:10001", "[::1]:6379", "ray://[fd12:3456::7]:10001", "fd00::1",
    "ray://[fe80::1]:10001", "ray://[::ffff:10.0.0.1]:10001",
])
def test_private_addresses_pass(address):
    check_ray_address(address)                       # no exception, no DNS


@pytest.mark.parametrize("address", [
    "ray://203.0.113.7:10001", "203.0.113.7:6379", "ray://8.8.8.8:10001", "ray://172.32.0.1:10001",
    "ray://172.15.255.255:10001", "ray://192.169.0.1:10001", "ray://11.0.0.1:10001", "ray://100.64.0.1:10001",
    "ray://0.0.0.0:10001", "ray://[2001:db8::1]:10001", "2606:4700::1111", "ray://[::ffff:8.8.8.8]:10001",
])
def test_public_addresses_are_refused_with_what_to_do(address):
    with pytest.raises(ValueError) as err:
        check_ray_address(address)
    message = str(err.value)
    assert "not on a private network" in message
    assert "RNNLAB_RAY_ALLOW_PUBLIC=1" in message and "RAY_AUTH_MODE=token" in message


def test_the_teachers_override_lets_a_public_address_through(monkeypatch):
    check_ray_address("ray://203.0.113.7:10001", allow_public=True)
    monkeypatch.setenv("RNNLAB_RAY_ALLOW_PUBLIC", "1")
    check_ray_address("ray://203.0.113.7:10001")
    check_ray_address("ray://cluster.example.org:10001")          # no lookup either (no DNS stub needed)
    with pytest.raises(ValueError):
        check_ray_address("ray://203.0.113.7:10001", allow_public=False)   # the argument wins
    for value in ("0", "yes", "true", ""):                        # only "1" overrides
        monkeypatch.setenv("RNNLAB_RAY_ALLOW_PUBLIC", value)
        with pytest.raises(ValueError):
            check_ray_address("ray://203.0.113.7:10001")


def test_host_names_must_resolve_only_to_private_addresses(monkeypatch):
    _dns(monkeypatch, {"head": ["10.0.0.5"], "localhost": ["127.0.0.1", "::1"],
                       "mixed.example.org": ["10.0.0.5", "198.51.100.9"], "cloud.example.org": ["198.51.100.9"],
                       "v6.example.org": ["2001:db8::5"]})
    check_ray_address("ray://head:10001")
    check_ray_address("localhost:6379")
    with pytest.raises(ValueError, match=r"mixed\.example\.org \(which resolves to 198\.51\.100\.9\)"):
        check_ray_address("ray://mixed.example.org:10001")        # one public address is one too many
    with pytest.raises(ValueError, match="not on a private network"):
        check_ray_address("ray://cloud.example.org:10001")
    with pytest.raises(ValueError, match="2001:db8::5"):
        check_ray_address("v6.example.org:6379")


def test_a_name_that_does_not_resolve_is_refused_with_its_own_message(monkeypatch):
    _dns(monkeypatch, {})
    with pytest.raises(ValueError, match="'nowhere.invalid' cannot be resolved") as err:
        check_ray_address("ray://nowhere.invalid:10001")
    assert "private network" in str(err.value) and "not on a private network" not in str(err.value)


def test_a_lookup_that_hangs_is_given_up(monkeypatch):
    def slow(host, *a, **kw):
        time.sleep(2)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", 0))]

    monkeypatch.setattr(socket, "getaddrinfo", slow)
    monkeypatch.setattr(R, "RESOLVE_SECONDS", 0.1)
    start = time.monotonic()
    with pytest.raises(ValueError, match=r"cannot be resolved \(no answer in 0.1 s\)"):
        check_ray_address("ray://slow.example.org:10001")
    assert time.monotonic() - start < 1.5


def test_addresses_without_a_host_are_refused():
    for address in ("ray://:10001", "ray://"):
        with pytest.raises(ValueError, match="names no host"):
            check_ray_address(address)
    with pytest.raises(ValueError, match="cannot be read"):
        check_ray_address("ray://[::1:10001")


def test_the_host_of_each_form_of_address():
    assert R.ray_host("ray://Head.Example.org:10001") == "head.example.org"
    assert R.ray_host("10.0.0.1:6379") == "10.0.0.1"
    assert R.ray_host("[fd00::1]:6379") == "fd00::1" and R.ray_host("fd00::1") == "fd00::1"
    assert R.ray_host("head") == "head"
