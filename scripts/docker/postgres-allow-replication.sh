#!/bin/sh
# Run once by the postgres image when it creates the primary's cluster (docker-compose.yml
# mounts it in /docker-entrypoint-initdb.d): lets the read replica stream from it as the
# database's own user, with a password, from the compose network. The image's default
# pg_hba.conf line ("host all all all") does not cover replication connections.
set -e
echo "host replication ${POSTGRES_USER} all scram-sha-256" >> "${PGDATA}/pg_hba.conf"
