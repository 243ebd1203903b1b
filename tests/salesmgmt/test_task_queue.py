"""Delayed sends are coalesced; the broker guard keeps a worker alive on a Redis restart."""

from __future__ import annotations

from unittest import mock

import pytest
from celery import Celery
from django.core.cache import cache
from kombu.transport import redis as kombu_redis

from salesmgmt.broker_workarounds import guard_closed_connection
from salesmgmt.task_queue import enqueue


@pytest.fixture
def probe():
    """A task on an app with a (never contacted) broker: sends are counted, not published."""
    app = Celery("probe", set_as_current=False)
    app.conf.update(task_always_eager=False)

    @app.task(name="probe.debounced")
    def debounced(*args) -> None: ...

    task = app.tasks["probe.debounced"]  # the task itself, not the lazy proxy
    cache.clear()
    with mock.patch.object(task, "apply_async") as apply_async:
        yield task, apply_async
    cache.clear()


def test_a_delayed_send_already_waiting_is_not_sent_again(probe):
    task, apply_async = probe

    assert enqueue(task, countdown=30, queue="q1") is True
    assert enqueue(task, countdown=30, queue="q1") is True

    # one message for the window: the waiting task claims the second caller's work too
    assert apply_async.call_count == 1


def test_different_arguments_queues_or_immediate_sends_are_each_sent(probe):
    task, apply_async = probe

    enqueue(task, args=[1], countdown=30, queue="q1")
    enqueue(task, args=[2], countdown=30, queue="q1")
    enqueue(task, args=[1], countdown=30, queue="q2")
    with mock.patch.object(task, "delay") as delay:
        enqueue(task, args=[1])
        enqueue(task, args=[1])

    sent = [call.kwargs.get("args") for call in apply_async.call_args_list]
    assert sent.count([1]) == 2  # q1 and q2, both delayed
    assert sent.count([2]) == 1
    assert delay.call_count == 2  # sends without a countdown are never coalesced


def test_the_window_ends_with_the_countdown(probe):
    task, apply_async = probe
    enqueue(task, countdown=30, queue="q1")

    cache.clear()  # what the marker's expiry (timeout == countdown) does
    enqueue(task, countdown=30, queue="q1")

    assert apply_async.call_count == 2


def test_eager_mode_never_coalesces(probe):
    task, apply_async = probe
    task.app.conf.task_always_eager = True

    enqueue(task, countdown=30)
    enqueue(task, countdown=30)

    assert apply_async.call_count == 2


def test_restore_of_unacked_messages_on_a_torn_down_connection_does_not_raise(caplog):
    guard_closed_connection()
    guard_closed_connection()  # idempotent: wrapping twice would hide the original
    qos = kombu_redis.QoS.__new__(kombu_redis.QoS)
    qos._delivered = {"tag": object()}
    qos.channel = mock.Mock()
    # what kombu raises once the transport dropped its client (kombu 5.7.0)
    qos.channel.conn_or_acquire.side_effect = AttributeError(
        "'NoneType' object has no attribute 'hostname'"
    )

    assert qos.restore_unacked() is None
    assert "left for redelivery" in caplog.text


def test_other_attribute_errors_still_raise():
    guard_closed_connection()
    qos = kombu_redis.QoS.__new__(kombu_redis.QoS)
    qos._delivered = {}
    qos.channel = mock.Mock()
    qos.channel.conn_or_acquire.side_effect = AttributeError("something else")

    with pytest.raises(AttributeError, match="something else"):
        qos.restore_unacked()


def test_using_a_channel_whose_transport_is_gone_is_a_connection_error():
    from redis.exceptions import ConnectionError as RedisConnectionError

    guard_closed_connection()
    channel = kombu_redis.Channel.__new__(kombu_redis.Channel)
    channel.connection = None  # what kombu leaves once the connection was closed

    # Celery logs a failed ack on a connection error and reconnects; an AttributeError here
    # used to be "unrecoverable" and stop the worker.
    with pytest.raises(RedisConnectionError):
        channel._connparams()
