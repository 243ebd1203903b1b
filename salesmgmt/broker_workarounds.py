"""Guards around kombu's Redis transport for the moments after a broker connection is torn down.

When Redis goes away under a running worker, Celery closes the connection, and kombu then
still uses the closed channel: ``Channel.close`` puts the worker's unacknowledged messages
back on their queues (``QoS.restore_unacked``), and a task finishing a moment later acks its
message. By then the transport has dropped its client, so building a Redis connection raises
``AttributeError: 'NoneType' object has no attribute 'hostname'`` (or ``'client'``) — not a
connection error, so Celery treats it as unrecoverable and the worker exits (kombu 5.7.0; the
same family as celery/kombu#582 and #970).

The guards turn that into what it is, a connection error, which Celery already handles: the
ack is logged as failed and the worker reconnects once Redis answers. Nothing is lost: the
messages stay in kombu's ``unacked`` hash and Redis hands them out again after the visibility
timeout, and every task sent from a request also has its database state and a beat sweep
(salesmgmt.task_queue); tasks are idempotent, so a redelivery is harmless.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def guard_closed_connection() -> None:
    """Patch kombu's Redis channel once; safe to call again."""
    from kombu.transport import redis as kombu_redis
    from redis.exceptions import ConnectionError as RedisConnectionError

    channel = kombu_redis.Channel
    if getattr(channel._connparams, "_salesmgmt_guarded", False):
        return

    original_connparams = channel._connparams

    def _connparams(self, asynchronous=False):
        if self.connection is None or self.connection.client is None:
            raise RedisConnectionError("the broker connection was closed")
        return original_connparams(self, asynchronous=asynchronous)

    original_restore = kombu_redis.QoS.restore_unacked

    def restore_unacked(self, client=None):
        try:
            return original_restore(self, client)
        except (RedisConnectionError, AttributeError) as exc:
            # AttributeError only for the torn-down transport itself.
            if isinstance(exc, AttributeError) and "'NoneType' object" not in str(exc):
                raise
            logger.warning(
                "Broker connection already closed; %d unacknowledged message(s) left for "
                "redelivery after the visibility timeout: %s",
                len(getattr(self, "_delivered", {}) or {}),
                exc,
            )
            return None

    # A monkeypatch, which the type checker rightly refuses on typed classes.
    _connparams._salesmgmt_guarded = True  # type: ignore[attr-defined]
    channel._connparams = _connparams  # type: ignore[method-assign]
    kombu_redis.QoS.restore_unacked = restore_unacked  # type: ignore[method-assign]
