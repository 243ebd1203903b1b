"""Activities' copy of their deal's owner (``Activity.deal_owner``) against the deal's owner.

The activities list decides visibility by the copy ("logged on a deal a visible person owns"),
so a stale one shows a manager another team's calls or hides their own team's. The services
keep it (accounts.services); a write that bypasses them (raw SQL, a bulk load) shows up here.
An activity without a deal has no copy.
"""

from __future__ import annotations

from collections import defaultdict

from .records import Book, fetch
from .report import Collector, Difference

STALE_SQL = (
    "SELECT a.id, a.opportunity_id, a.deal_owner_id, o.owner_id"
    " FROM accounts_activity a LEFT JOIN accounts_opportunity o ON o.id = a.opportunity_id"
    " WHERE (o.id IS NULL AND a.deal_owner_id IS NOT NULL)"
    " OR (o.id IS NOT NULL AND (a.deal_owner_id IS NULL OR a.deal_owner_id <> o.owner_id))"
)


def check_activities(book: Book, collector: Collector) -> None:
    """One difference per deal and stored copy, naming the activities that carry it."""
    stale: dict[tuple[int | None, int | None, int | None], list[int]] = defaultdict(list)
    for activity_id, deal_id, stored, expected in fetch(STALE_SQL):
        stale[deal_id, stored, expected].append(activity_id)
    for (deal_id, stored, expected), activity_ids in sorted(
        stale.items(), key=lambda item: item[1][0]
    ):
        collector.add(
            Difference(
                aggregate="activity deal owner",
                figure="deal_owner",
                stored=_name(book, stored),
                expected=_name(book, expected),
                person=book.people.get(expected) if expected is not None else None,
                records=tuple(f"activity {pk}" for pk in sorted(activity_ids)),
                note=f"deal {deal_id}" if deal_id is not None else "no deal",
            )
        )


def _name(book: Book, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    person = book.people.get(user_id)
    return str(person) if person else f"#{user_id}"
