"""The single hand-written query behind a page's headline numbers (PostgreSQL).

The benchmark times each and prints page time ÷ query time: what the framework, the ORM,
Python and the template add on top of the one query a hand-tuned page would make. Both read
the same precomputed tables (forecast rollups, KPI rows, inspection flags, calls).
"""

from __future__ import annotations

from django.db import connection

# Per direct report of the manager: the forecast categories (team row, else own), bookings and
# ramped quota, logged activities (KPI row), and the inspection flags in their subtree by kind.
TEAM_DASHBOARD_SQL = """
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
EXECUTIVE_ROLLUP_SQL = """
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


def run(sql: str, params: dict) -> list[tuple]:
    """Run one reference query and fetch every row (the page needs them all too)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
