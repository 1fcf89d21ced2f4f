"""The SSRF guard's URL and address rules (pure; the network side is in tests/test_net.py)."""

from __future__ import annotations

import pytest

from bot.net.ssrf import SSRFRefused, check_url, embedded_ipv4, literal_address, vet_address, vet_addresses

REFUSED_URLS = [
    # scheme, port, credentials
    "ftp://example.com/",
    "file:///etc/passwd",
    "gopher://example.com/",
    "http://example.com:8080/",
    "https://example.com:22/",
    "http://user:pw@example.com/",
    "http:///nohost",
    # literal addresses that are not public
    "http://127.0.0.1/",
    "http://10.1.2.3/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata
    "http://100.64.0.1/",  # CGNAT
    "http://224.0.0.1/",  # multicast
    "http://240.0.0.1/",  # reserved
    "http://255.255.255.255/",
    "http://0.0.0.0/",
    "http://[::1]/",
    "http://[::]/",
    "http://[fd00::1]/",  # ULA
    "http://[fe80::1]/",  # link-local
    "http://[ff02::1]/",  # multicast
    "http://[::ffff:127.0.0.1]/",  # IPv4-mapped
    "http://[::ffff:169.254.169.254]/",
    "http://[64:ff9b::a00:1]/",  # NAT64 of 10.0.0.1
    "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
    "http://[fe80::1%25eth0]/",  # zone id
    # non-canonical IPv4 spellings
    "http://2130706433/",
    "http://0177.0.0.1/",
    "http://0x7f.1/",
    "http://0x7f000001/",
    "http://127.1/",
    "http://127.0.1/",
    "http://017700000001/",
    "http://0/",
    "http://1.1.1.01/",  # even a public address, spelled oddly
    "http://example.123/",  # last label numeric: browsers parse it as IPv4
    "http://127.0.0.1./",  # trailing dot does not hide it
]


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_each_vector_is_refused(url: str) -> None:
    with pytest.raises(SSRFRefused):
        check_url(url)


@pytest.mark.parametrize(
    "url,host,port",
    [
        ("https://github.com/", "github.com", 443),
        ("http://EXAMPLE.com./x?y=1", "example.com", 80),
        ("https://1.1.1.1/", "1.1.1.1", 443),
        ("https://[2606:4700:4700::1111]/", "2606:4700:4700::1111", 443),
        ("http://example.com:443/", "example.com", 443),
        ("https://1password.com/", "1password.com", 443),
    ],
)
def test_public_urls_pass(url: str, host: str, port: int) -> None:
    target = check_url(url)
    assert (target.host, target.port) == (host, port)


def test_allow_private_lifts_address_and_port_rules_only() -> None:
    assert check_url("http://127.0.0.1:8080/", allow_private=True).port == 8080
    assert str(check_url("http://[fd00::1]/", allow_private=True).address) == "fd00::1"
    for still_refused in ("ftp://127.0.0.1/", "http://0x7f.1/", "http://2130706433/", "http://u:p@127.0.0.1/"):
        with pytest.raises(SSRFRefused):
            check_url(still_refused, allow_private=True)


def test_literal_address_tells_names_from_addresses() -> None:
    assert literal_address("example.com") is None
    assert str(literal_address("8.8.8.8")) == "8.8.8.8"
    assert str(literal_address("2001:4860:4860::8888")) == "2001:4860:4860::8888"


def test_embedded_ipv4_is_found() -> None:
    import ipaddress

    assert str(embedded_ipv4(ipaddress.IPv6Address("::ffff:10.0.0.1"))) == "10.0.0.1"
    assert str(embedded_ipv4(ipaddress.IPv6Address("64:ff9b::7f00:1"))) == "127.0.0.1"
    assert str(embedded_ipv4(ipaddress.IPv6Address("2002:c0a8:101::1"))) == "192.168.1.1"
    assert embedded_ipv4(ipaddress.IPv6Address("2606:4700::1111")) is None


def test_nat64_of_a_public_address_is_allowed() -> None:
    vet_address("64:ff9b::808:808")  # 8.8.8.8 through NAT64: public
    vet_address("2606:4700:4700::1111")
    vet_address("8.8.8.8")


def test_one_private_answer_taints_the_whole_lookup() -> None:
    with pytest.raises(SSRFRefused):
        vet_addresses(["93.184.216.34", "127.0.0.1"])
    with pytest.raises(SSRFRefused):
        vet_addresses([])
    assert vet_addresses(["93.184.216.34"]) == ["93.184.216.34"]
    assert vet_addresses(["127.0.0.1"], allow_private=True) == ["127.0.0.1"]


# One test per rule, by the reason it gives: a rule removed (even one a later layer would
# catch anyway) changes the reason or lets the URL through, and its row fails.
RULES = {
    "scheme": ("ftp://example.com/", "scheme 'ftp' is not allowed"),
    "no scheme": ("//example.com/", "scheme '(none)' is not allowed"),
    "credentials": ("http://user:pw@example.com/", "credentials in the URL"),
    "backslash": ("http://127.0.0.1\\.example.com/", "backslash in the host part"),
    "no host": ("http:///nohost", "the URL has no host"),
    "port": ("http://example.com:8080/", "port 8080 is not allowed"),
    "malformed port": ("http://example.com:99999/", "malformed URL"),
    "private literal": ("http://10.1.2.3/", "address 10.1.2.3 is not public"),
    "zone id": ("http://[fe80::1%25eth0]/", "zone identifiers are not allowed"),
    "embedded IPv4": ("http://[::ffff:127.0.0.1]/", "embeds a refused IPv4 address"),
    "odd IPv4 spelling": ("http://0x7f.1/", "non-canonical IPv4 spelling"),
}


@pytest.mark.parametrize("rule", RULES)
def test_each_url_rule_refuses_for_its_own_reason(rule: str) -> None:
    url, reason = RULES[rule]
    with pytest.raises(SSRFRefused, match=reason.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        check_url(url)


@pytest.mark.parametrize(
    "url,host",
    [
        # parsers disagree on these; we refuse or resolve what the HTTP client will connect to
        ("http://example.com#@127.0.0.1/", "example.com"),  # '@' after the fragment mark is no userinfo
        ("http://example.com?@127.0.0.1/", "example.com"),
        ("http://EXAMPLE.com./path", "example.com"),  # case and trailing dot do not change the host
    ],
)
def test_where_url_parsers_disagree_the_host_is_the_one_connected_to(url: str, host: str) -> None:
    import yarl

    target = check_url(url)
    assert target.host == host == (yarl.URL(url).host or "").lower().rstrip(".")


def test_a_host_the_url_rules_pass_is_still_vetted_after_resolution() -> None:
    """The second layer on its own: a public-looking name whose answer is private is refused
    by the address rules, whatever the URL rules said."""
    assert check_url("http://internal.example.org/").address is None  # a name: the URL rules pass it
    with pytest.raises(SSRFRefused, match="not public"):
        vet_addresses(["10.0.0.7"])
    with pytest.raises(SSRFRefused, match="resolved to no address"):
        vet_addresses([])


# Each layer of the address rule on its own (a layer that silently stopped refusing would
# otherwise hide behind the others): the explicit list, then Python's address tables.
LISTED = ["0.0.0.1", "10.1.2.3", "100.64.0.1", "127.0.0.1", "127.8.9.10", "169.254.169.254", "172.16.0.1",
          "192.0.0.8", "192.0.2.1", "192.88.99.1", "192.168.1.1", "198.18.0.1", "198.51.100.7", "203.0.113.9",
          "224.0.0.1", "255.255.255.255", "::", "::1", "100::1", "2001:db8::1", "fd00::1", "fe80::1", "fec0::1", "ff02::1"]  # fmt: skip


@pytest.mark.parametrize("address", LISTED)
def test_the_explicit_list_alone_refuses_each_private_range(address: str) -> None:
    import ipaddress

    from bot.net.ssrf import _BLOCKED_NETWORKS

    ip = ipaddress.ip_address(address)
    assert any(ip in net for net in _BLOCKED_NETWORKS if net.version == ip.version)
    with pytest.raises(SSRFRefused, match="is not public"):
        vet_address(address)


@pytest.mark.parametrize("address", ["2001:2::1", "2001:10::1"])
def test_pythons_tables_refuse_what_the_list_leaves_out(address: str) -> None:
    # IETF protocol assignments the explicit list does not name: refused by ``is_global``
    import ipaddress

    from bot.net.ssrf import _BLOCKED_NETWORKS

    ip = ipaddress.ip_address(address)
    assert not any(ip in net for net in _BLOCKED_NETWORKS if net.version == ip.version) and not ip.is_global
    with pytest.raises(SSRFRefused, match="is not public"):
        vet_address(address)
