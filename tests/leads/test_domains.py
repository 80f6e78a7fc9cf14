import pytest

from leads.domains import email_domain, is_personal_domain, normalise_domain


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("WWW.Acme.COM", "acme.com"),
        ("https://www.acme.com/about", "acme.com"),
        ("acme.com.", "acme.com"),
    ],
)
def test_normalise_domain(raw, expected):
    assert normalise_domain(raw) == expected


def test_email_domain_takes_the_part_after_the_last_at():
    assert email_domain("First.Last@Sub.Example.ORG") == "sub.example.org"


@pytest.mark.parametrize(
    ("domain", "personal"),
    [("gmail.com", True), ("yahoo.com", True), ("guerrillamail.com", True), ("stripe.com", False)],
)
def test_personal_domains_come_from_the_maintained_lists(domain, personal):
    assert is_personal_domain(domain) is personal
