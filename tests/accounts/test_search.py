"""The global search (accounts.selectors.search) and its page, /search/, for every role.

The org (tests/fixtures/personas.py): manager_a ── rep_a, se_a; manager_b ── rep_b; the
executive above both. Each seller has an account, a contact, a deal and a call that all carry
the word "Zephyr", so a search for it shows exactly what the viewer may see.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from accounts.models import Account, Activity, Contact, Opportunity, OpportunityTeamMember
from accounts.selectors import search
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    OpportunityFactory,
)

from .conftest import open_deal


@pytest.fixture
def world(process, rep_a, se_a, rep_b):
    """Per seller: "Zephyr <name>" account, contact, deal and a call with "zephyr" in its notes."""
    rows = {}
    for person, name in ((rep_a, "Alpha"), (se_a, "Sierra"), (rep_b, "Bravo")):
        account = AccountFactory(owner=person, name=f"Zephyr {name}")
        contact = ContactFactory(
            account=account, first_name=name, last_name="Zephyrson", email=f"{name}@ex.com"
        )
        deal = open_deal(person, account, f"{name} rollout")
        call = ActivityFactory(
            owner=person, account=account, opportunity=deal, notes=f"Zephyr call with {name}"
        )
        rows[person.username] = {"account": account, "contact": contact, "deal": deal, "call": call}
    return rows


def _found(viewer, query="zephyr") -> dict[str, set[int]]:
    results = search.global_search(viewer=viewer, query=query, per_kind=50)
    return {group.kind: {hit.pk for hit in group.hits} for group in results.groups}


def _expected(world, *usernames) -> dict[str, set[int]]:
    rows = [world[name] for name in usernames]
    return {
        "account": {row["account"].pk for row in rows},
        "contact": {row["contact"].pk for row in rows},
        "opportunity": {row["deal"].pk for row in rows},
        "activity": {row["call"].pk for row in rows},
    }


@pytest.mark.parametrize(
    ("viewer", "sees"),
    [
        ("rep_a", ("rep_a",)),
        ("se_a", ("se_a",)),
        ("rep_b", ("rep_b",)),
        ("manager_a", ("rep_a", "se_a")),
        ("manager_b", ("rep_b",)),
        ("executive", ("rep_a", "se_a", "rep_b")),
        ("admin", ("rep_a", "se_a", "rep_b")),
    ],
)
def test_search_finds_only_what_the_viewer_may_see(world, personas, viewer, sees):
    assert _found(personas[viewer]) == _expected(world, *sees)


def test_search_follows_visible_to_for_every_kind(world, personas):
    # The search's visibility is listing's form of the one rule: the same rows as visible_to.
    for person in personas.values():
        found = _found(person)
        for kind, model in (
            ("account", Account),
            ("contact", Contact),
            ("opportunity", Opportunity),
            ("activity", Activity),
        ):
            visible = set(model.objects.visible_to(person).values_list("pk", flat=True))
            assert found[kind] <= visible
            assert found[kind] == visible & _expected(world, "rep_a", "se_a", "rep_b")[kind]


def test_search_sees_a_deal_through_the_opportunity_team(world, rep_b, se_a):
    # se_a joins rep_b's deal: the deal (and its account and call) show up for se_a.
    from accounts.models import OpportunityTeamMember

    OpportunityTeamMember.objects.create(opportunity=world["rep_b"]["deal"], user=se_a)

    found = _found(se_a)

    assert world["rep_b"]["deal"].pk in found["opportunity"]
    assert world["rep_b"]["account"].pk in found["account"]
    assert world["rep_b"]["call"].pk in found["activity"]


def test_search_ranks_exact_then_prefix_then_contains(process, rep_a):
    contains = AccountFactory(owner=rep_a, name="The Northwind Group")
    prefix = AccountFactory(owner=rep_a, name="Northwind Traders")
    exact = AccountFactory(owner=rep_a, name="Northwind")

    results = search.global_search(viewer=rep_a, query="northwind", kinds=("account",))

    hits = results.groups[0].hits
    assert [hit.pk for hit in hits] == [exact.pk, prefix.pk, contains.pk]
    assert [hit.match for hit in hits] == [0, 1, 2]


def test_search_every_word_must_match_in_some_field(world, rep_a):
    # "alpha zephyrson": the first name and the last name of one contact.
    found = _found(rep_a, "alpha zephyrson")
    assert found["contact"] == {world["rep_a"]["contact"].pk}
    # By e-mail too
    assert _found(rep_a, "alpha@ex")["contact"] == {world["rep_a"]["contact"].pk}
    # Words that match nothing together find nothing.
    assert _found(rep_a, "alpha bravo")["contact"] == set()


def test_search_finds_a_deal_by_its_account_name(world, rep_a):
    found = _found(rep_a, "zephyr alpha")
    assert world["rep_a"]["deal"].pk in found["opportunity"]


def test_search_leaves_notes_out_below_three_characters(world, rep_a):
    results = search.global_search(viewer=rep_a, query="ze")
    assert [group.kind for group in results.groups] == ["account", "contact", "opportunity"]


def test_search_two_letter_words_match_the_start_only(process, rep_a):
    starts = AccountFactory(owner=rep_a, name="Orbital Labs")
    AccountFactory(owner=rep_a, name="Labor Corp")  # "or" inside a word, not at the start

    found = _found(rep_a, "or")

    assert found["account"] == {starts.pk}


def test_search_pages_each_kind(process, rep_a):
    accounts = [AccountFactory(owner=rep_a, name=f"Quasar {i:02d}") for i in range(7)]

    first = search.global_search(viewer=rep_a, query="quasar", kinds=("account",), per_kind=5)
    second = search.global_search(
        viewer=rep_a, query="quasar", kinds=("account",), per_kind=5, page=2
    )

    assert len(first.hits) == 5
    assert first.has_next
    assert len(second.hits) == 2
    assert not second.has_next
    assert {hit.pk for hit in first.hits + second.hits} == {a.pk for a in accounts}


def test_search_hits_link_to_their_pages(world, rep_a):
    results = search.global_search(viewer=rep_a, query="zephyr")
    urls = {hit.kind: hit.url for hit in results.hits}
    row = world["rep_a"]
    assert urls["account"] == reverse("accounts:account_detail", args=[row["account"].pk])
    assert urls["contact"].startswith(reverse("accounts:account_detail", args=[row["account"].pk]))
    assert urls["opportunity"] == reverse("accounts:opportunity_detail", args=[row["deal"].pk])
    assert urls["activity"] == reverse("accounts:opportunity_detail", args=[row["deal"].pk])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigram path: PostgreSQL")
def test_search_on_postgresql_ranks_by_similarity_and_has_trigram_indexes(process, rep_a):
    closer = AccountFactory(owner=rep_a, name="Big Orion")
    further = AccountFactory(owner=rep_a, name="Orion Holdings International Worldwide")
    also = AccountFactory(owner=rep_a, name="The Orion Company of Greater Springfield")

    hits = search.global_search(viewer=rep_a, query="orion", kinds=("account",)).hits

    # "Orion Holdings..." starts with the query; the others by similarity: the shorter closer.
    assert [hit.pk for hit in hits] == [further.pk, closer.pk, also.pk]
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE 'search_%%_trgm'")
        names = {row[0] for row in cursor.fetchall()}
    assert names == {
        "search_account_name_trgm",
        "search_contact_trgm",
        "search_opportunity_name_trgm",
        "search_activity_notes_trgm",
    }


# --- the page -------------------------------------------------------------------------------


def test_search_page_groups_hits_by_kind(client, world, rep_a):
    client.force_login(rep_a)

    response = client.get(reverse("accounts:search"), {"q": "zephyr"})

    assert response.status_code == 200
    body = response.content.decode()
    for label in ("Accounts", "Contacts", "Opportunities", "Activities"):
        assert f">{label}</h2>" in body
    assert "Zephyr Alpha" in body
    assert "Zephyr Bravo" not in body  # rep_b's


def test_search_page_as_manager_shows_the_team_only(client, world, manager_a):
    client.force_login(manager_a)

    body = client.get(reverse("accounts:search"), {"q": "zephyr"}).content.decode()

    assert "Zephyr Alpha" in body
    assert "Zephyr Sierra" in body
    assert "Zephyr Bravo" not in body


def test_search_page_pages_one_kind(client, process, rep_a):
    for i in range(30):
        AccountFactory(owner=rep_a, name=f"Quasar {i:02d}")
    client.force_login(rep_a)

    everything = client.get(reverse("accounts:search"), {"q": "quasar"}).content.decode()
    first = client.get(reverse("accounts:search"), {"q": "quasar", "kind": "account"})
    second = client.get(
        reverse("accounts:search"), {"q": "quasar", "kind": "account", "page": 2}
    ).content.decode()

    assert "More accounts" in everything
    assert first.content.decode().count("Quasar ") == 25
    assert 'rel="next"' in first.content.decode()
    assert second.count("Quasar ") == 5
    assert 'rel="prev"' in second


def test_search_page_refuses_a_one_character_query(client, rep_a):
    client.force_login(rep_a)

    response = client.get(reverse("accounts:search"), {"q": " a "})

    assert response.status_code == 400
    assert "Type at least 2 characters" in response.content.decode()


def test_search_page_without_a_query_shows_the_box(client, rep_a):
    client.force_login(rep_a)

    response = client.get(reverse("accounts:search"))

    assert response.status_code == 200
    assert 'id="site-search-q"' in response.content.decode()  # the header box, every page


def test_search_page_query_count_is_constant(
    client, process, rep_a, manager_a, django_assert_num_queries
):
    # Per request as manager_a: 1 session, 2 user, 3 the manager's visible people (read once
    # for every kind), then one query a kind: 4 accounts, 5 contacts, 6 deals, 7 activities.
    # The same for 2 rows a kind as for 20. And 8: the bell's unread count.
    client.force_login(manager_a)
    for rows in (2, 20):
        for i in range(rows):
            account = AccountFactory(owner=rep_a, name=f"Vega {rows}-{i}")
            ContactFactory(account=account, first_name="Vega")
            deal = open_deal(rep_a, account, f"Vega deal {rows}-{i}")
            ActivityFactory(owner=rep_a, account=account, opportunity=deal, notes="vega call")
        client.get(reverse("accounts:search"), {"q": "vega"})  # warm-up
        with django_assert_num_queries(8):
            response = client.get(reverse("accounts:search"), {"q": "vega"})
        assert response.status_code == 200


def test_search_finds_a_call_on_a_team_deal_logged_by_an_outsider(world, rep_b, manager_a):
    # rep_b (another team) logs a call on rep_a's deal: visible to rep_a's manager through
    # the deal's owner, one of the three ways a manager's notes search looks for candidates.
    deal = world["rep_a"]["deal"]
    call = ActivityFactory(
        owner=rep_b, account=deal.account, opportunity=deal, notes="Zephyr joint call"
    )

    assert call.pk in _found(manager_a)["activity"]


# --- the same hits as the rule itself ---------------------------------------------------------


@pytest.fixture
def crowd(process, rep_a, se_a, rep_b):
    """ "Nimbus" rows reached each way a row can be visible, with ranking ties.

    rep_a owns accounts named alike (the same title: tied on everything but the newest);
    rep_b sells on one of them; se_a works on rep_b's deal; rep_b logs a call on rep_a's deal.
    """
    names = ["Nimbus", "Nimbus Labs", "Nimbus Labs", "Nimbus Labs", "The Nimbus Group", "Cirrus"]
    accounts = [AccountFactory(owner=rep_a, name=name) for name in names]
    accounts.append(AccountFactory(owner=rep_b, name="Nimbus Labs"))
    accounts.append(AccountFactory(owner=se_a, name="Stratus Nimbus"))
    for i, account in enumerate(accounts):
        ContactFactory(account=account, first_name="Nina", last_name=f"Nimbus{i % 2}")
        ContactFactory(account=account, first_name="Otto", email=f"otto{i}@nimbus.example")
    deals = [
        OpportunityFactory(owner=rep_a, account=account, name=f"{account.name} renewal")
        for account in accounts[:6]
    ]
    deals.append(OpportunityFactory(owner=rep_a, account=accounts[5], name="Platform"))  # Cirrus
    # rep_b's deal on rep_a's account, with se_a on its team.
    outsider = OpportunityFactory(owner=rep_b, account=accounts[1], name="Nimbus Labs expansion")
    OpportunityTeamMember.objects.create(opportunity=outsider, user=se_a)
    deals.append(OpportunityFactory(owner=rep_b, account=accounts[6], name="Nimbus Labs"))
    for deal in [*deals, outsider]:
        ActivityFactory(
            owner=deal.owner, account=deal.account, opportunity=deal, notes="nimbus call"
        )
        ActivityFactory(owner=rep_b, account=deal.account, opportunity=deal, notes="Nimbus recap")
    ActivityFactory(owner=se_a, account=accounts[7], notes="nimbus call")  # on no deal
    return accounts


def _rule(viewer, kind: str, query: str) -> list[int]:
    """What the search must answer: every match the viewer sees (``visible_to``), ranked."""
    model = search.MODELS[kind]
    matches = model.objects.visible_to(viewer).filter(search.match(kind, query))
    return [row.pk for row in search.rank(matches, kind, query)]


@pytest.mark.parametrize(
    "viewer", ["rep_a", "se_a", "rep_b", "manager_a", "manager_b", "executive"]
)
@pytest.mark.parametrize("query", ["nimbus", "nimbus labs", "ni", "labs nimbus"])
def test_search_answers_the_rule_page_by_page(crowd, personas, viewer, query):
    # Each kind's pages, one after the other, are the rule's ranked list; at several page
    # sizes, so ties fall across page boundaries the same way.
    person = personas[viewer]
    for kind in search.KINDS:
        if not search._words(search.SPECS[kind], query):
            continue  # notes: no word of 3 letters
        expected = _rule(person, kind, query)
        for per_kind in (1, 3, 50):
            found, page, has_more = [], 1, True
            while has_more:
                results = search.global_search(
                    viewer=person, query=query, kinds=(kind,), page=page, per_kind=per_kind
                )
                (group,) = results.groups
                found += [hit.pk for hit in group.hits]
                has_more, page = group.has_more, page + 1
            assert found == expected, (kind, per_kind)
    assert _rule(personas["executive"], "account", "nimbus")  # the crowd matches something
