"""Load test and fault scenarios against a private, production-like stack (issue 8).

`make load` / `make load-ci` run load.py, `make faults` / `make faults-ci` run faults.py;
each starts what it needs (stack.py: PostgreSQL on 25432, Redis on 6390, gunicorn on 8100,
a Celery worker and beat, all under /tmp/salesmgmt-ops-*), prints its figures, tears
everything down and exits non-zero when a target is missed. Loopback only.

Needs the PostgreSQL server binaries (/usr/lib/postgresql/<major>/bin), redis-server and
runuser (the cluster belongs to the postgres user). The migrated, seeded database and the
collected static files are cached in ~/.cache/salesmgmt-ops (OPS_CACHE_DIR), keyed by what
shapes them. OPS_KEEP=1 keeps a run's folder (logs, data); a failed run always keeps it.
"""
