"""The single hand-written query behind a page's headline numbers (PostgreSQL).

The benchmark times each and prints page time ÷ query time. The reference is what an analyst
would write without the app: one query computing, from the source tables (deals, stages,
deals' chosen categories, credit splits, cancellations, exchange rates, quotas, the reporting
tree, forecast calls), the figures the page shows for each of its rows: pipeline, best case and
commit (the effective category of every open deal of the period in the person's subtree,
converted at the rate in effect on its close day), closed and bookings (the credit ledger's
rules: split shares or the owner's 100 % of deals won in the period, less the credit of deals
cancelled in it), cumulative commit and best case, quota, ramped quota and
attainment (territories' rules: explicit quotas stop the team sum, component quotas add to
it), and for the rollup the latest owner and manager calls and the call of record.

Not in it: figures that are model outputs (the Monte Carlo P10/P50/P90, the probability-
weighted pipeline) or other pages' rules (KPI coverage, activity counts, inspection flags,
compliance): the page reads those from precomputed rows. ``figures_match`` checks the query
against the page's own selectors; the old reference, which read the precomputed rows
(1-3 ms), is kept as ``PRECOMPUTED_*`` and timed for information.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import connection

from salesmgmt.models import Period, User
from salesmgmt.money import reporting_currency

# The figures of one subtree, shared by both queries; ``members`` (id, below) is each query's
# own first CTE. "below" is the prefix of everyone's ancestor_path under the member.
_FIGURES = """
pairs AS (
    SELECT m.id AS member_id, u.id AS person_id, u.role, u.ancestor_path
    FROM members m
    JOIN salesmgmt_user u ON u.id = m.id OR u.ancestor_path LIKE m.below || '%%'
), rates AS (
    -- Each rate holds from its day to the next one's; the first also before its day.
    SELECT currency, rate_to_reporting AS rate, effective_on AS from_on,
           lead(effective_on) OVER (PARTITION BY currency ORDER BY effective_on) AS to_on,
           row_number() OVER (PARTITION BY currency ORDER BY effective_on) = 1 AS is_first
    FROM salesmgmt_exchangerate
), deals AS (
    -- Open deals closing in the period, in the reporting currency (cents, half up) at the
    -- rate of the expected close day; lost deals leave the forecast, won ones are credits.
    SELECT o.owner_id,
           -- accounts.forecast_categories: the rep's choice, else the stage's default
           -- (open deals only here: won ones are the ledger's credits below).
           coalesce(nullif(o.forecast_category, ''), s.default_forecast_category, 'pipeline')
               AS category,
           round(o.amount * CASE WHEN o.currency = %(reporting)s THEN 1 ELSE r.rate END, 2)
               AS amount
    FROM accounts_opportunity o
    LEFT JOIN accounts_stage s ON s.id = o.stage_id
    LEFT JOIN rates r ON r.currency = o.currency
         AND (r.is_first OR o.expected_close_on >= r.from_on)
         AND (r.to_on IS NULL OR o.expected_close_on < r.to_on)
    WHERE o.status = 'open' AND o.expected_close_on BETWEEN %(start)s AND %(end)s
      AND {owners}
), won AS (
    -- The credit ledger's rules (compensation.ledger), independently: won deals closed or
    -- cancelled in the period, converted at the rate of the close day (cents, half up).
    SELECT o.id, o.owner_id, o.closed_on, x.cancelled_on,
           round(o.amount * CASE WHEN o.currency = %(reporting)s THEN 1 ELSE r.rate END, 2)
               AS amount
    FROM accounts_opportunity o
    LEFT JOIN compensation_dealcancellation x ON x.opportunity_id = o.id
    LEFT JOIN rates r ON r.currency = o.currency
         AND (r.is_first OR o.closed_on >= r.from_on)
         AND (r.to_on IS NULL OR o.closed_on < r.to_on)
    WHERE o.status = 'won'
      AND (o.closed_on BETWEEN %(start)s AND %(end)s
           OR x.cancelled_on BETWEEN %(start)s AND %(end)s)
), split_cents AS (
    -- A split share: its cents rounded down, the cents left over to the largest remainders
    -- (ties to the lower person id): they add up to the deal's amount exactly.
    SELECT w.id, sp.user_id, w.amount * 100 AS total_cents,
           floor(w.amount * sp.percent) AS floor_cents,
           w.amount * sp.percent - floor(w.amount * sp.percent) AS remainder
    FROM won w JOIN compensation_creditsplit sp ON sp.opportunity_id = w.id
), credits AS (
    -- Primary credit: split people, or the owner when the deal has no split.
    SELECT c.id, c.user_id AS person_id,
           (c.floor_cents + CASE WHEN c.place <= c.leftover THEN 1 ELSE 0 END) / 100 AS amount
    FROM (
        SELECT sc.*,
               sc.total_cents - sum(sc.floor_cents) OVER (PARTITION BY sc.id) AS leftover,
               row_number() OVER (PARTITION BY sc.id ORDER BY sc.remainder DESC, sc.user_id)
                   AS place
        FROM split_cents sc
    ) c
    UNION ALL
    SELECT w.id, w.owner_id, w.amount FROM won w
    WHERE NOT EXISTS (SELECT 1 FROM compensation_creditsplit sp WHERE sp.opportunity_id = w.id)
), ledger AS (
    -- Each credit on the close day; a cancellation reverses it on the day it was recorded.
    SELECT c.person_id AS owner_id, 'closed' AS category, c.amount
    FROM credits c JOIN won w ON w.id = c.id
    WHERE w.closed_on BETWEEN %(start)s AND %(end)s
    UNION ALL
    SELECT c.person_id, 'closed', -c.amount
    FROM credits c JOIN won w ON w.id = c.id
    WHERE w.cancelled_on BETWEEN %(start)s AND %(end)s
), own AS MATERIALIZED (
    -- Each person's totals first: every deal is categorised and converted once.
    SELECT d.owner_id,
           coalesce(sum(d.amount) FILTER (WHERE d.category = 'pipeline'), 0) AS pipeline,
           coalesce(sum(d.amount) FILTER (WHERE d.category = 'best_case'), 0) AS best_case,
           coalesce(sum(d.amount) FILTER (WHERE d.category = 'commit'), 0) AS commit,
           coalesce(sum(d.amount) FILTER (WHERE d.category = 'closed'), 0) AS closed
    FROM (SELECT * FROM deals UNION ALL SELECT * FROM ledger) d GROUP BY d.owner_id
), forecast AS (
    SELECT p.member_id, sum(o.pipeline) AS pipeline, sum(o.best_case) AS best_case,
           sum(o.commit) AS commit, sum(o.closed) AS closed,
           -- bookings credit everyone in the tree (the forecast leaves integrators out)
           sum(o.closed) FILTER (WHERE p.role <> 'integrator') AS forecast_closed
    FROM pairs p JOIN own o ON o.owner_id = p.person_id
    GROUP BY p.member_id
), own_quotas AS (
    -- Component quotas count fully ramped in the quota and as set in the ramped quota.
    SELECT q.user_id, q.basis, p.ancestor_path || q.user_id || '/' AS below, p.ancestor_path,
           CASE WHEN q.basis = 'components'
                THEN greatest(round(q.territory_quota * q.assignment_share, 2)
                              + round(q.manager_adjustment, 2), 0)
                ELSE q.amount END AS full_amount,
           q.amount AS ramped_amount
    FROM territories_quota q
    JOIN (SELECT DISTINCT person_id, ancestor_path FROM pairs) p ON p.person_id = q.user_id
    WHERE q.period_id = %(period)s AND q.basis IN ('explicit', 'components')
), quotas AS (
    -- A member's quota: the own quotas in their subtree, except below an explicit quota
    -- (which replaces its team's sum), the member's own included.
    SELECT p.member_id, sum(q.full_amount) AS quota, sum(q.ramped_amount) AS ramped_quota
    FROM pairs p JOIN own_quotas q ON q.user_id = p.person_id
    WHERE NOT EXISTS (
        SELECT 1 FROM own_quotas e JOIN pairs pe ON pe.person_id = e.user_id
        WHERE pe.member_id = p.member_id AND e.basis = 'explicit'
          AND q.ancestor_path LIKE e.below || '%%'
    )
    GROUP BY p.member_id
), figures AS (
    SELECT m.id AS member_id,
           coalesce(f.pipeline, 0) AS pipeline, coalesce(f.best_case, 0) AS best_case,
           coalesce(f.commit, 0) AS commit, coalesce(f.forecast_closed, 0) AS closed,
           coalesce(f.commit, 0) + coalesce(f.forecast_closed, 0) AS cumulative_commit,
           coalesce(f.best_case, 0) + coalesce(f.commit, 0) + coalesce(f.forecast_closed, 0)
               AS cumulative_best_case,
           coalesce(f.closed, 0) AS bookings,
           coalesce(qu.quota, 0) AS quota, coalesce(qu.ramped_quota, 0) AS ramped_quota,
           round(coalesce(f.closed, 0) / nullif(qu.ramped_quota, 0), 4) AS attainment
    FROM members m
    LEFT JOIN forecast f ON f.member_id = m.id
    LEFT JOIN quotas qu ON qu.member_id = m.id
)
"""

FIGURE_COLUMNS = (
    "pipeline", "best_case", "commit", "closed", "cumulative_commit", "cumulative_best_case",
    "bookings", "quota", "ramped_quota", "attainment",
)  # fmt: skip


def _figures(owners: str) -> str:
    """The shared CTEs with the deals' owner filter (a constant: see the two queries)."""
    return _FIGURES.replace("{owners}", owners)


# The team dashboard: each active direct report of the manager (or the manager alone).
TEAM_DASHBOARD_SQL = "".join(
    (
        """
WITH direct AS (
    SELECT u.id, u.ancestor_path || u.id || '/' AS below
    FROM salesmgmt_user u
    WHERE u.manager_id = %(manager)s AND u.is_active
      AND u.role IN ('rep', 'manager', 'executive')
), members AS (
    SELECT id, below FROM direct
    UNION ALL
    SELECT u.id, u.ancestor_path || u.id || '/' FROM salesmgmt_user u
    WHERE u.id = %(manager)s AND NOT EXISTS (SELECT 1 FROM direct)
),""",
        # A team's few owners: their deals through the owner index.
        _figures("o.owner_id = ANY(ARRAY(SELECT DISTINCT person_id FROM pairs))"),
        """
SELECT f.* FROM figures f ORDER BY f.member_id
""",
    )
)

# The executive rollup: the root and each direct report: the figures above, the latest owner
# call and manager adjustment, and the call of record at the last weekly lock.
EXECUTIVE_ROLLUP_SQL = "".join(
    (
        """
WITH members AS (
    SELECT u.id, u.ancestor_path || u.id || '/' AS below FROM salesmgmt_user u
    WHERE (u.manager_id = %(root)s AND u.role IN ('rep', 'manager', 'executive'))
       OR u.id = %(root)s
),""",
        # The whole tree below the root: the period's deals through the close-date indexes.
        _figures("o.owner_id IN (SELECT person_id FROM pairs)"),
        """, calls AS (
    SELECT DISTINCT ON (c.person_id, c.layer) c.person_id, c.layer, c.commit_amount
    FROM forecasting_forecastcall c JOIN members m ON m.id = c.person_id
    WHERE c.period_id = %(period)s
    ORDER BY c.person_id, c.layer, c.submitted_at DESC, c.id DESC
), records AS (
    SELECT DISTINCT ON (c.person_id) c.person_id,
           coalesce(c.manager_commit_amount, c.commit_amount) AS last_week_call
    FROM forecasting_callofrecord c JOIN members m ON m.id = c.person_id
    WHERE c.period_id = %(period)s
    ORDER BY c.person_id, c.locked_on DESC
)
SELECT f.*, coalesce(adj.commit_amount, own.commit_amount) AS call, rec.last_week_call
FROM figures f
LEFT JOIN calls own ON own.person_id = f.member_id AND own.layer = 'owner'
LEFT JOIN calls adj ON adj.person_id = f.member_id AND adj.layer = 'manager'
LEFT JOIN records rec ON rec.person_id = f.member_id
ORDER BY f.member_id
""",
    )
)

# The previous references (kept, timed for information): the same pages' numbers read from
# the precomputed rows (forecast rollups, KPI rows, inspection flags, calls).
# Per direct report of the manager: the forecast categories (team row, else own), bookings and
# ramped quota, logged activities (KPI row), and the inspection flags in their subtree by kind.
PRECOMPUTED_TEAM_DASHBOARD_SQL = """
WITH members AS (
    SELECT u.id, u.ancestor_path || u.id || '/' AS below
    FROM salesmgmt_user u
    WHERE u.manager_id = %(manager)s AND u.is_active
      AND u.role IN ('rep', 'manager', 'executive')
), rollups AS (
    SELECT DISTINCT ON (r.person_id) r.person_id, r.closed_amount, r.commit_amount,
           r.best_case_amount, r.pipeline_amount
    FROM forecasting_forecastrollup r JOIN members m ON m.id = r.person_id
    WHERE r.period_id = %(period)s
    ORDER BY r.person_id, r.scope = 'subtree' DESC
), kpis AS (
    SELECT DISTINCT ON (k.person_id) k.person_id, k.won_amount, k.quota_amount, k.attainment,
           (SELECT coalesce(sum(v::int), 0) FROM jsonb_each_text(k.activities_by_kind) AS e(n, v))
               AS activities
    FROM forecasting_kpisnapshot k JOIN members m ON m.id = k.person_id
    WHERE k.period_id = %(period)s
    ORDER BY k.person_id, k.scope = 'subtree' DESC
), flags AS (
    SELECT m.id AS person_id,
           count(*) FILTER (WHERE f.kind = 'pushed_twice') AS pushed,
           count(*) FILTER (WHERE f.kind = 'no_activity') AS stale,
           count(*) FILTER (WHERE f.kind = 'stuck_in_stage') AS stuck
    FROM forecasting_inspectionflag f
    JOIN salesmgmt_user o ON o.id = f.owner_id
    JOIN members m ON o.id = m.id OR o.ancestor_path LIKE m.below || '%%'
    GROUP BY m.id
)
SELECT m.id, r.closed_amount, r.commit_amount, r.best_case_amount, r.pipeline_amount,
       k.won_amount, k.quota_amount, k.attainment, k.activities, f.pushed, f.stale, f.stuck
FROM members m
LEFT JOIN rollups r ON r.person_id = m.id
LEFT JOIN kpis k ON k.person_id = m.id
LEFT JOIN flags f ON f.person_id = m.id
ORDER BY m.id
"""

# Per direct report of the root: the team's system commit, the latest owner and manager calls,
# the call of record at the last weekly lock, bookings and quota, and whether they have reports.
PRECOMPUTED_EXECUTIVE_ROLLUP_SQL = """
WITH members AS (
    SELECT u.id FROM salesmgmt_user u
    WHERE (u.manager_id = %(root)s OR u.id = %(root)s)
      AND u.role IN ('rep', 'manager', 'executive')
), calls AS (
    SELECT DISTINCT ON (c.person_id, c.layer) c.person_id, c.layer, c.commit_amount
    FROM forecasting_forecastcall c JOIN members m ON m.id = c.person_id
    WHERE c.period_id = %(period)s
    ORDER BY c.person_id, c.layer, c.submitted_at DESC, c.id DESC
), records AS (
    SELECT DISTINCT ON (c.person_id) c.person_id,
           coalesce(c.manager_commit_amount, c.commit_amount) AS last_week_call
    FROM forecasting_callofrecord c JOIN members m ON m.id = c.person_id
    WHERE c.period_id = %(period)s
    ORDER BY c.person_id, c.locked_on DESC
)
SELECT m.id, r.cumulative_commit_amount, r.p10_amount, r.p50_amount, r.p90_amount,
       coalesce(adj.commit_amount, own.commit_amount) AS call, rec.last_week_call,
       k.won_amount, k.quota_amount,
       EXISTS (SELECT 1 FROM salesmgmt_user c WHERE c.manager_id = m.id) AS has_children
FROM members m
LEFT JOIN forecasting_forecastrollup r
       ON r.person_id = m.id AND r.period_id = %(period)s AND r.scope = 'subtree'
LEFT JOIN forecasting_kpisnapshot k
       ON k.person_id = m.id AND k.period_id = %(period)s AND k.scope = 'subtree'
LEFT JOIN calls own ON own.person_id = m.id AND own.layer = 'owner'
LEFT JOIN calls adj ON adj.person_id = m.id AND adj.layer = 'manager'
LEFT JOIN records rec ON rec.person_id = m.id
ORDER BY m.id
"""


def params_for(*, period: Period, manager: User | None = None, root: User | None = None) -> dict:
    """The query parameters of a page: the person, the period and the reporting currency."""
    params = {
        "period": period.pk,
        "start": period.start_on,
        "end": period.end_on,
        "reporting": reporting_currency(),
    }
    if manager is not None:
        params["manager"] = manager.pk
    if root is not None:
        params["root"] = root.pk
    return params


def run(sql: str, params: dict) -> list[tuple]:
    """Run one reference query and fetch every row (the page needs them all too)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def run_dicts(sql: str, params: dict) -> dict[int, dict]:
    """The rows of a reference query by person id (its first column), as dicts."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


# --- the page's own figures, to compare -----------------------------------------------------

# The forecast amounts are float sums rounded to cents by the recompute, the query's exact
# decimal sums: they may differ by a cent here and there on large trees.
TOLERANCE = Decimal("1.00")


@dataclass(frozen=True)
class Mismatch:
    person_id: int
    figure: str
    page: object
    sql: object


def _money(value) -> Decimal | None:
    return None if value is None else Decimal(value)


def _page_figures(attainment, rollup) -> dict[str, object]:
    zero = Decimal(0)
    return {
        "pipeline": rollup.pipeline_amount if rollup else zero,
        "best_case": rollup.best_case_amount if rollup else zero,
        "commit": rollup.commit_amount if rollup else zero,
        "closed": rollup.closed_amount if rollup else zero,
        "cumulative_commit": rollup.cumulative_commit_amount if rollup else zero,
        "cumulative_best_case": rollup.cumulative_best_case_amount if rollup else zero,
        "bookings": attainment.bookings,
        "quota": attainment.quota,
        "ramped_quota": attainment.ramped_quota,
        "attainment": attainment.ratio,
    }


def dashboard_page_figures(*, manager: User, period: Period) -> dict[int, dict]:
    """What the team dashboard shows per member, from the page's own selector."""
    from coaching.selectors import team_dashboard

    dashboard = team_dashboard(manager=manager, period=period)
    return {row.person.pk: _page_figures(row.attainment, row.rollup) for row in dashboard.rows}


def rollup_page_figures(*, viewer: User, root: User, period: Period) -> dict[int, dict]:
    """What the executive rollup shows for the root and each direct report (its selector)."""
    from coaching.selectors import rollup_children

    node, children = rollup_children(viewer=viewer, person=root, period=period)
    return {
        n.person.pk: _page_figures(n.attainment, n.row.rollup)
        | {"call": n.call, "last_week_call": n.last_week_call}
        for n in [node, *children]
    }


def figures_match(page: dict[int, dict], sql: dict[int, dict]) -> list[Mismatch]:
    """Every figure where the page and the reference query disagree (none: they match)."""
    found: list[Mismatch] = []
    for person_id in sorted(set(page) | set(sql)):
        ours, theirs = page.get(person_id), sql.get(person_id)
        if ours is None or theirs is None:
            found.append(Mismatch(person_id, "row", ours is not None, theirs is not None))
            continue
        for figure, value in ours.items():
            expected, got = _money(value), _money(theirs.get(figure))
            if expected is None or got is None:
                same = expected is None and got is None
            elif figure == "attainment":
                same = expected == got
            else:
                same = abs(expected - got) <= TOLERANCE
            if not same:
                found.append(Mismatch(person_id, figure, value, theirs.get(figure)))
    return found
