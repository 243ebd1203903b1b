"""Demo accounts and their contacts, owned by the sellers in proportion to capacity."""

from __future__ import annotations

import math
from decimal import Decimal

from accounts.models import Account, Contact
from salesmgmt.bulk_rows import BATCH_SIZE, indexes_built_after, insert_rows

from .org import _Rep
from .vocabulary import (
    CONTACT_TITLES,
    DEMO_MARKER,
    FIRST_NAMES,
    INDUSTRIES,
    LAST_NAMES,
    NAME_ENDS,
    NAME_STARTS,
    OWN_SEGMENT_SHARE,
    REGIONS,
    SEGMENTS,
)

# Columns of the rows insert_rows writes, in the order the builder makes the tuples.
CONTACT_COLUMNS = [
    "account_id",
    "first_name",
    "last_name",
    "title",
    "email",
    "buying_role",
    "created_at",
]


class AccountsMixin:
    """DemoDataBuilder's accounts and contacts."""

    def build_accounts(self, *, sellers: list[_Rep], opportunities: int) -> None:
        """About one account per four deals, owned by sellers in proportion to capacity."""
        n_accounts = max(len(sellers) * 3, opportunities // 4)
        weights = [rep.capacity for rep in sellers]
        owners = sellers + self.rng.choices(sellers, weights, k=max(0, n_accounts - len(sellers)))
        industries = list(INDUSTRIES)
        segments = [(name, share) for name, (share, *_) in SEGMENTS.items()]
        # Sellers specialise in a segment (their quota is set for it); a few accounts of
        # another segment stay in their book, as they do in real territories.
        for rep in sellers:
            rep.segment = self.pick(segments)
        accounts = []
        for number, rep in enumerate(owners, start=1):
            industry = self.rng.choice(industries)
            segment = rep.segment if self.rng.random() < OWN_SEGMENT_SHARE else self.pick(segments)
            country, _, places = self.rng.choice(REGIONS[rep.user.region])
            low, high = SEGMENTS[segment][1]
            employees = int(math.exp(self.rng.uniform(math.log(low), math.log(high))))
            name = (
                f"{self.rng.choice(NAME_STARTS)}{self.rng.choice(NAME_ENDS)} "
                f"{self.rng.choice(INDUSTRIES[industry])}"
            )
            created = self.at(self.warmup_t - self.rng.uniform(1, 720))
            account = Account(
                name=name,
                industry=industry,
                employee_count=employees,
                annual_revenue=Decimal(employees * self.rng.randint(120, 400) * 1000),
                country=country,
                region=rep.user.region,
                state=self.rng.choice(places),
                owner=rep.user,
                external_id=f"{DEMO_MARKER}{number}",
                created_at=created,
            )
            rep.accounts.append((account, segment))
            accounts.append(account)
        # A quarter of a million accounts and a million contacts at the largest tier: their
        # search indexes (trigram GINs) are built once, after the rows.
        with indexes_built_after([Account, Contact]):
            contacts = self._insert_accounts(accounts)
        self.counts["accounts"] = len(accounts)
        self.counts["contacts"] = len(contacts)

    def _insert_accounts(self, accounts: list[Account]) -> list[tuple]:
        """Insert the accounts, then two to five contacts each; returns the contacts' rows."""
        Account.objects.bulk_create(accounts, batch_size=BATCH_SIZE)
        contacts = []
        domain_words = str.maketrans("", "", " .,")
        for account in accounts:
            domain = account.name.lower().translate(domain_words) + ".example"
            for _ in range(self.rng.randint(2, 5)):
                first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
                contacts.append(
                    (
                        account.pk,
                        first,
                        last,
                        self.rng.choice(CONTACT_TITLES),
                        f"{first}.{last}@{domain}".lower(),
                        self.rng.choice(Contact.BuyingRole.values),
                        self.stored_at(account.created_at),
                    )
                )
        insert_rows(Contact, CONTACT_COLUMNS, contacts)
        return contacts
