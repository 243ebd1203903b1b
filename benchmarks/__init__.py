"""Page and API benchmark (``make bench`` → ``manage.py bench``); not a timed test.

- ``personas``: who is measured (a manager with a typical team, the top executive, a rep with
  typical volume, and a smaller persona of each kind to check that query counts are constant);
- ``measure``: p50/p95/max over many requests, and the query count of one request;
- ``reference_sql``: the single hand-written query computing a page's headline numbers;
- ``imports``: a generated CSV through the real import service, rolled back.
"""
