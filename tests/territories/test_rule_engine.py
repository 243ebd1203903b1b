"""The rule engine on plain values: criteria, ranges, priorities, gaps and overlaps."""

from decimal import Decimal

import pytest

from territories.rule_engine import AccountFacts, RuleSpec, match_accounts


def rule(rule_id, territory_id, priority=100, **criteria):
    return RuleSpec.build(
        rule_id=rule_id,
        name=f"r{rule_id}",
        territory_id=territory_id,
        priority=priority,
        **criteria,
    )


def account(account_id=1, **facts):
    defaults = {
        "country": "US",
        "region": "West",
        "state": "CA",
        "industry": "Software",
        "employee_count": 500,
        "annual_revenue": Decimal("1000000"),
    }
    return AccountFacts(account_id=account_id, **{**defaults, **facts})


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        ({"countries": ["us"]}, True),  # case-insensitive
        ({"countries": ["DE", "US "]}, True),  # any entry, trimmed
        ({"countries": ["DE"]}, False),
        ({"states": ["CA"], "industries": ["Retail"]}, False),  # every criterion must hold
        ({"employee_count_min": 500}, True),  # min inclusive
        ({"employee_count_max": 500}, False),  # max exclusive
        ({"annual_revenue_min": Decimal("1000000"), "annual_revenue_max": Decimal("5e6")}, True),
        ({"named_account_ids": frozenset({1})}, True),
        ({"named_account_ids": frozenset({2})}, False),
        ({}, True),  # a rule without criteria is a catch-all
    ],
)
def test_rule_matches_on_every_criterion_it_sets(criteria, expected):
    assert rule(1, 10, **criteria).matches(account()) is expected


def test_an_unknown_value_never_matches_a_range():
    assert not rule(1, 10, employee_count_min=1).matches(account(employee_count=None))
    assert rule(1, 10, countries=["US"]).matches(account(employee_count=None))


def test_the_lowest_priority_number_wins():
    # given a broad rule and a narrower one that should take precedence
    broad = rule(1, 10, priority=200, countries=["US"])
    enterprise = rule(2, 20, priority=10, employee_count_min=1000)

    small, large = match_accounts(
        [account(1), account(2, employee_count=5000)], [broad, enterprise]
    )

    assert small.territory_id == 10
    assert small.rule.rule_id == 1
    assert large.territory_id == 20
    assert large.rule.rule_id == 2
    assert not large.is_overlap  # the broad rule matches too, but at a lower priority


def test_gap_and_overlap_are_reported_with_the_rules_involved():
    west = rule(1, 10, regions=["West"])
    software = rule(2, 20, industries=["Software"])

    gap, overlap = match_accounts(
        [account(1, region="East", industry="Retail"), account(2)], [west, software]
    )

    assert gap.is_gap
    assert gap.territory_id is None
    assert overlap.is_overlap
    assert overlap.is_conflict
    assert {r.rule_id for r in overlap.winners} == {1, 2}
    assert overlap.territory_id is None  # conflicting: the engine refuses to guess


def test_rules_at_one_priority_naming_one_territory_overlap_without_conflict():
    by_state = rule(1, 10, states=["CA"])
    by_industry = rule(2, 10, industries=["software"])

    (match,) = match_accounts([account()], [by_state, by_industry])

    assert match.is_overlap
    assert not match.is_conflict
    assert match.territory_id == 10


def test_match_accounts_agrees_with_checking_every_rule_on_every_account():
    # given random accounts and a mix of named-account rules and criteria rules sharing
    # priorities (so gaps, overlaps and conflicts all occur)
    import random

    from territories.rule_engine import match_account

    rng = random.Random(5)
    states, industries = ["CA", "NY", "TX"], ["Software", "Retail"]
    accounts = [
        account(n, state=rng.choice(states), industry=rng.choice(industries)) for n in range(1, 301)
    ]
    rules = [
        rule(
            n,
            territory_id=rng.randint(1, 5),
            priority=rng.choice([10, 50, 100]),
            named_account_ids=frozenset(rng.sample(range(1, 301), 20)),
            **({"states": [rng.choice(states)]} if n % 3 == 0 else {}),
        )
        for n in range(1, 31)
    ] + [
        rule(100 + n, territory_id=rng.randint(1, 5), priority=rng.choice([50, 100]), states=[s])
        for n, s in enumerate(["CA", "NY"] * 2)  # Texas only by name: the rest are gaps
    ]
    ordered = sorted(rules, key=lambda r: (r.priority, r.rule_id))

    # when matched with the named-account shortcut, then it is what checking everything gives
    fast = match_accounts(accounts, rules)
    assert fast == [match_account(a, ordered) for a in accounts]
    assert {m.is_gap for m in fast} == {True, False}
    assert any(m.is_conflict for m in fast)
