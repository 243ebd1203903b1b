"""A guard around kombu's Redis transport for the moment a broker connection is torn down.

When Redis goes away under a running worker, Celery closes the connection and kombu's
``Channel.close`` tries to put the worker's unacknowledged messages back on their queues
(``QoS.restore_unacked``). By then the transport has already dropped its client, so building
a Redis connection for the restore raises ``AttributeError: 'NoneType' object has no
attribute 'hostname'`` — not a connection error, so Celery treats it as unrecoverable and
the worker exits (kombu 5.7.0; the same family as celery/kombu#582 and #970).

Nothing is lost by skipping that restore: the messages stay in kombu's ``unacked`` hash, and
Redis hands them out again once the visibility timeout passes; every task sent from a request
also has its database state and a beat sweep (salesmgmt.task_queue). So the guard logs and
lets the worker reconnect, which it does by itself once Redis answers.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def guard_restore_unacked() -> None:
    from kombu.transport import redis as kombu_redis

    original = kombu_redis.QoS.restore_unacked
    if getattr(original, "_salesmgmt_guarded", False):
        return

    def restore_unacked(self, client=None):
        try:
            return original(self, client)
        except AttributeError as exc:
            # Only the torn-down-transport case: the connection info is gone.
            if "'NoneType' object has no attribute" not in str(exc):
                raise
            logger.warning(
                "Broker connection already closed; %d unacknowledged message(s) left for "
                "redelivery after the visibility timeout: %s",
                len(getattr(self, "_delivered", {}) or {}),
                exc,
            )
            return None

    restore_unacked._salesmgmt_guarded = True
    kombu_redis.QoS.restore_unacked = restore_unacked
