"""Which account a company email domain belongs to.

An account has its domain and may have other domains (``AccountDomain``). An
email domain matches, most specific first: an account's domain or other
domain equal to it, then one of its parent domains (eu.acme.com -> acme.com),
never going above the registrable domain (a public suffix such as co.uk is
no company's). The nearest domain wins; at the same level, an account's own
domain before another account's other domain. A domain nothing matches makes
a new account for its registrable domain, so that the next person from
acme.com, us.acme.com or eu.acme.com joins the same one.

Free-mail and disposable domains never join or make an account.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from leads.domains import is_personal_domain, normalise_domain, parent_domains, registrable_domain
from leads.models import Account, AccountDomain, AccountMatch


@dataclass(frozen=True)
class Match:
    account: Account
    how: str  # an AccountMatch value
    domain: str  # the account's domain (its own or another) that matched


def _candidates(domain: str) -> list[str]:
    return [domain, *parent_domains(domain)]


def _find(domains: set[str]) -> dict[str, Match]:
    """Matches for the domains that some account has, in two queries."""
    wanted = {candidate for domain in domains for candidate in _candidates(domain)}
    own = Account.objects.in_bulk(list(wanted), field_name="domain")
    others = {
        row.domain: row.account
        for row in AccountDomain.objects.filter(domain__in=wanted).select_related("account")
    }
    found = {}
    for domain in domains:
        for level, candidate in enumerate(_candidates(domain)):
            parent = level > 0
            if candidate in own:
                how = AccountMatch.PARENT_DOMAIN if parent else AccountMatch.DOMAIN
                found[domain] = Match(own[candidate], how, candidate)
                break
            if candidate in others:
                how = AccountMatch.PARENT_OTHER_DOMAIN if parent else AccountMatch.OTHER_DOMAIN
                found[domain] = Match(others[candidate], how, candidate)
                break
    return found


def match_accounts(names: Mapping[str, str]) -> dict[str, Match]:
    """The account of each company domain (``{domain: company name}``),
    created on first sight under its registrable domain and named after the
    company given. Personal domains are left out of the answer. A few
    queries for any number of domains."""
    domains = {normalise_domain(d) for d in names}
    domains = {d for d in domains if d and not is_personal_domain(d)}
    found = _find(domains)
    missing = domains - set(found)
    if missing:
        new: dict[str, str] = {}
        for domain in sorted(missing):
            top = registrable_domain(domain)
            if not is_personal_domain(top):
                new.setdefault(top, names.get(domain) or top)
        # ignore_conflicts: an account made meanwhile by someone else is simply used.
        Account.objects.bulk_create(
            [Account(domain=d, name=name) for d, name in new.items()], ignore_conflicts=True
        )
        made = _find(missing)
        for domain, match in made.items():
            if match.domain in new:
                match = Match(match.account, AccountMatch.NEW, match.domain)
            found[domain] = match
    return found


def match_account(domain: str, *, company_name: str = "") -> Match | None:
    return match_accounts({domain: company_name}).get(normalise_domain(domain))


def domains_of(accounts: Iterable[Account]) -> dict[int, list[str]]:
    """Each account's other domains, in one query."""
    result: dict[int, list[str]] = {}
    for row in AccountDomain.objects.filter(account__in=list(accounts)).order_by("domain"):
        result.setdefault(row.account_id, []).append(row.domain)
    return result
