-- Multiplies the tables that grow without bound to about ten million rows each (issue 21,
-- "Growth"), on a database seeded by seed_demo: ``bench --plans`` then checks their hot
-- queries' plans at that size. Copies of the seeded rows, dated further back (spread over
-- about four years), so every foreign key stays valid and the data's shape (per deal, per
-- person, per kind) stays the seed's.
--
--   psql "$DATABASE_URL" -v activities=10000000 -v changes=10000000 \
--        -v notifications=5000000 -f benchmarks/sql/grow_tables.sql
--
-- The secondary indexes of the big tables are dropped first and rebuilt at the end: one
-- sorted build is several times faster than ten million insertions into each (the trigram
-- index of the notes most of all). Their definitions are read from pg_indexes, so the
-- rebuilt indexes are exactly the migrations'. Not for a production database.

\set ON_ERROR_STOP on
\if :{?activities} \else \set activities 10000000 \endif
\if :{?changes} \else \set changes 10000000 \endif
\if :{?completions} \else \set completions 2000000 \endif
\if :{?notifications} \else \set notifications 5000000 \endif
\if :{?email_sends} \else \set email_sends 1000000 \endif
\if :{?captured} \else \set captured 1000000 \endif

SET maintenance_work_mem = '1GB';
SET synchronous_commit = off;

CREATE TEMP TABLE grow_saved_indexes AS
SELECT i.indexname, i.indexdef
FROM pg_indexes i
JOIN pg_class c ON c.relname = i.indexname
WHERE i.schemaname = 'public'
  AND i.tablename IN ('accounts_activity', 'accounts_opportunitychange',
                      'accounts_milestonecompletion', 'notifications_notification',
                      'notifications_emailsend', 'capture_captureditem')
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = c.oid);

DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT indexname FROM grow_saved_indexes LOOP
    EXECUTE format('DROP INDEX %I', r.indexname);
  END LOOP;
END $$;

-- Activities: copy g of every seeded activity, g * step days earlier. external_id empty
-- (unique where set); the deal owner copy stays the deal's.
WITH base AS (SELECT count(*) AS n FROM accounts_activity),
     copies AS (SELECT generate_series(1, greatest(1, ceil(:activities::numeric / n)::int - 1)) AS g,
                       1460.0 / greatest(1, ceil(:activities::numeric / n)::int - 1) AS step
                FROM base)
INSERT INTO accounts_activity (created_at, updated_at, kind, occurred_at, duration_minutes,
    outcome, notes, next_step, external_id, account_id, owner_id, milestone_id,
    opportunity_id, deal_owner_id, direction, source)
SELECT a.created_at - make_interval(days => (g * step)::int),
       a.updated_at - make_interval(days => (g * step)::int),
       a.kind, a.occurred_at - make_interval(days => (g * step)::int, mins => (a.id % 997)::int),
       a.duration_minutes, a.outcome, a.notes, a.next_step, '', a.account_id, a.owner_id,
       NULL, a.opportunity_id, a.deal_owner_id, a.direction, a.source
FROM copies CROSS JOIN accounts_activity a
WHERE a.id <= (SELECT max(id) FROM accounts_activity);

-- Change history: the same, each copy earlier than the seeded rows.
WITH base AS (SELECT count(*) AS n FROM accounts_opportunitychange),
     copies AS (SELECT generate_series(1, greatest(1, ceil(:changes::numeric / n)::int - 1)) AS g,
                       1460.0 / greatest(1, ceil(:changes::numeric / n)::int - 1) AS step
                FROM base)
INSERT INTO accounts_opportunitychange (field, old_value, new_value, changed_at,
    changed_by_id, opportunity_id)
SELECT c.field, c.old_value, c.new_value,
       c.changed_at - make_interval(days => (g * step)::int, mins => (c.id % 997)::int),
       c.changed_by_id, c.opportunity_id
FROM copies CROSS JOIN accounts_opportunitychange c;

-- Milestone completions (the audit of each milestone): undone and completed again, earlier.
WITH base AS (SELECT count(*) AS n FROM accounts_milestonecompletion),
     copies AS (SELECT generate_series(1, greatest(1, ceil(:completions::numeric / n)::int - 1)) AS g
                FROM base)
INSERT INTO accounts_milestonecompletion (created_at, updated_at, action, completed_at,
    evidence, note, verification_state, rejection_reason, completed_by_id, milestone_id,
    opportunity_id, verified_by_id, verified_at)
SELECT m.created_at - make_interval(days => g), m.updated_at - make_interval(days => g),
       CASE WHEN g % 2 = 1 THEN 'undo' ELSE 'complete' END,
       m.completed_at - make_interval(days => g), m.evidence, m.note,
       CASE WHEN m.verification_state = 'pending' THEN 'verified' ELSE m.verification_state END,
       m.rejection_reason, m.completed_by_id, m.milestone_id, m.opportunity_id,
       m.verified_by_id, m.verified_at
FROM copies CROSS JOIN accounts_milestonecompletion m;

-- Notifications: every active person gets an equal share over four years, read except the
-- last few weeks' (the bell counts those).
WITH people AS (SELECT id, row_number() OVER (ORDER BY id) AS k FROM salesmgmt_user
                WHERE is_active),
     per AS (SELECT ceil(:notifications::numeric / count(*))::int AS n FROM people)
INSERT INTO notifications_notification (created_at, updated_at, kind, title, body, link,
    subject_label, subject_id, dedupe_key, read_at, recipient_id)
SELECT now() - make_interval(secs => (g::float8 / per.n) * 1460 * 86400),
       now() - make_interval(secs => (g::float8 / per.n) * 1460 * 86400),
       (ARRAY['call_due', 'deal_stale', 'flag_raised', 'action_item_due'])[1 + g % 4],
       'Grown notification ' || g, '', '/opportunities/', 'opportunity', g,
       'grown:' || g,
       CASE WHEN g::float8 / per.n * 1460 > 21 THEN
            now() - make_interval(secs => (g::float8 / per.n) * 1460 * 86400 - 3600) END,
       p.id
FROM people p CROSS JOIN per CROSS JOIN generate_series(1, per.n) g;

-- Mail records: one per notification for a share of them, the rest digests.
INSERT INTO notifications_emailsend (created_at, updated_at, dedupe_key, kind, status,
    attempts, claimed_at, sent_at, week_ending, last_error, recipient_id, notification_id)
SELECT n.created_at, n.created_at, n.dedupe_key, n.kind, 'sent', 1, n.created_at,
       n.created_at, NULL, '', n.recipient_id, n.id
FROM notifications_notification n
WHERE n.dedupe_key LIKE 'grown:%'
ORDER BY n.id
LIMIT :email_sends;

-- Captured mail: filed and unfiled items of the reps, over four years.
WITH reps AS (SELECT id, row_number() OVER (ORDER BY id) AS k FROM salesmgmt_user
              WHERE is_active AND role = 'rep'),
     per AS (SELECT ceil(:captured::numeric / count(*))::int AS n FROM reps),
     accounts AS (SELECT min(id) AS lo, max(id) AS hi FROM accounts_account)
INSERT INTO capture_captureditem (created_at, updated_at, kind, status, direction,
    message_key, sender, recipients, subject, occurred_at, duration_minutes, series_key,
    excerpt, account_id, activity_id, owner_id, subscription_id)
SELECT now() - make_interval(secs => (g::float8 / per.n) * 1460 * 86400),
       now() - make_interval(secs => (g::float8 / per.n) * 1460 * 86400),
       'email', CASE WHEN g % 10 = 0 THEN 'unfiled' ELSE 'filed' END,
       CASE WHEN g % 2 = 0 THEN 'inbound' ELSE 'outbound' END,
       md5(r.id || ':' || g), 'buyer' || g || '@example.com', '["rep@example.com"]'::jsonb,
       'Re: proposal ' || g, now() - make_interval(secs => (g::float8 / per.n) * 1460 * 86400),
       0, '', repeat('Thanks for the call, here is the next step. ', 10),
       NULL, NULL, r.id, NULL
FROM reps r CROSS JOIN per CROSS JOIN generate_series(1, per.n) g;

DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT indexname, indexdef FROM grow_saved_indexes LOOP
    RAISE NOTICE 'rebuilding %', r.indexname;
    EXECUTE r.indexdef;
  END LOOP;
END $$;

VACUUM ANALYZE accounts_activity;
VACUUM ANALYZE accounts_opportunitychange;
VACUUM ANALYZE accounts_milestonecompletion;
VACUUM ANALYZE notifications_notification;
VACUUM ANALYZE notifications_emailsend;
VACUUM ANALYZE capture_captureditem;

SELECT relname AS table, n_live_tup AS rows FROM pg_stat_user_tables
WHERE relname IN ('accounts_activity', 'accounts_opportunitychange',
                  'accounts_milestonecompletion', 'notifications_notification',
                  'notifications_emailsend', 'capture_captureditem')
ORDER BY relname;
