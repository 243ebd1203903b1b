"""Demo data: a deterministic sales organisation with two years of deal history.

One ``random.Random(seed)`` drives every draw, so a seed gives the same people, accounts and
deals (database ids aside) on a given day. Rows are bulk-inserted, so they are built the way
the services would write them: a deal's stage is what ``accounts.stages.derive_stage_id``
makes of its completed milestones, and every tracked field is in ``OpportunityChange`` (a
creation row per field with a value, then each change) so ``opportunities_as_of`` can
replay any deal.

The simulation keeps time as float days relative to midnight today (negative is the past);
nothing but planned activities lies after that moment.

Modules: ``vocabulary`` (names, regions, industries, tuning), ``reference`` (periods, rates,
processes), ``org`` (people), ``accounts``, ``deals`` and ``history`` (the simulation, with
credit splits and cancellations), ``calls`` (weekly forecast calls and their locks),
``builder`` (the run), ``reset`` (removing the demo) and ``territories`` (territories and
quotas on top); ``manage.py seed_demo`` runs them. The rows go in through
``salesmgmt.bulk_rows.insert_rows`` (shared with the CSV import of deals).

Nothing is imported here: Django imports this package (an installed app) before the models.
"""
