import pytest
from django.core.exceptions import ValidationError

from salesmgmt.models import Role, User
from salesmgmt.selectors import subtree_user_ids
from salesmgmt.services import user_create, user_set_manager


def test_create_user_places_them_under_their_manager(executive, admin_user):
    manager = user_create(
        username="m",
        email="m@x.io",
        role=Role.MANAGER,
        manager=executive,
        actor=admin_user,
        in_session=True,
    )
    rep = user_create(username="r", email="r@x.io", manager=manager)

    assert rep.ancestor_path == f"/{executive.pk}/{manager.pk}/"
    assert set(subtree_user_ids(manager=executive)) == {executive.pk, manager.pk, rep.pk}


def test_subtree_covers_every_depth_not_just_direct_reports(executive, manager_a, rep_a, rep_b):
    assert set(subtree_user_ids(manager=executive, include_self=False)) >= {
        manager_a.pk,
        rep_a.pk,
        rep_b.pk,
    }
    assert subtree_user_ids(manager=manager_a, include_self=False) == [rep_a.pk]


def test_set_manager_reroots_the_whole_subtree(executive, manager_a, manager_b, rep_a):
    # given manager_a (with rep_a) moved under manager_b
    user_set_manager(user=manager_a, manager=manager_b)

    rep_a.refresh_from_db()
    assert rep_a.ancestor_path == f"/{executive.pk}/{manager_b.pk}/{manager_a.pk}/"
    assert rep_a.pk in subtree_user_ids(manager=manager_b)


def test_set_manager_refuses_a_cycle(manager_a, rep_a):
    with pytest.raises(ValidationError, match="cycle"):
        user_set_manager(user=manager_a, manager=rep_a)
    manager_a.refresh_from_db()
    assert manager_a.manager_id != rep_a.pk


def test_set_manager_refuses_self(manager_a):
    with pytest.raises(ValidationError):
        user_set_manager(user=manager_a, manager=manager_a)


def test_user_clean_refuses_cycle_in_forms(manager_a, rep_a):
    manager_a.manager = rep_a
    with pytest.raises(ValidationError, match="cycle"):
        manager_a.full_clean()


def test_remove_manager_makes_a_root(executive, manager_a, rep_a):
    user_set_manager(user=manager_a, manager=None)
    rep_a.refresh_from_db()
    assert rep_a.ancestor_path == f"/{manager_a.pk}/"
    assert User.objects.get(pk=manager_a.pk).ancestor_path == "/"
