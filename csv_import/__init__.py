"""Bulk CSV import of the sales org, accounts, contacts, opportunities and activities.

- ``specs``: the columns of each kind (types, header aliases, required ones);
- ``parsing``: pandas reads and type-checks a file into records, reporting every bad cell as
  ``(row, column, reason)`` (row = line in the file; the header is line 1);
- ``apply``: writes the records through the services, upserting on ``external_id``, all or
  nothing in one transaction (a dry run does the same and rolls back, so it reports the
  errors the services would raise too);
- ``jobs``: the ``ImportJob`` services the API, pages and Celery task call;
- ``api``, ``views``, ``tasks``: the API, the pages and the Celery tasks.

Nothing is imported here: Django imports this package (an installed app) before the models.
"""
