from accounts.stages import StageSpec, derive_stage_id

SPECS = [
    StageSpec(1, frozenset({11, 12})),
    StageSpec(2, frozenset({21})),
    StageSpec(3, frozenset({31, 32})),
]


def test_new_deal_stands_in_the_first_stage():
    assert derive_stage_id(SPECS, set()) == 1


def test_deal_advances_once_every_exit_milestone_is_complete():
    assert derive_stage_id(SPECS, {11}) == 1
    assert derive_stage_id(SPECS, {11, 12}) == 2
    assert derive_stage_id(SPECS, {11, 12, 21}) == 3


def test_out_of_order_completions_do_not_skip_unmet_exit_criteria():
    # later stages complete, but stage 1 still misses a milestone
    assert derive_stage_id(SPECS, {11, 21, 31, 32}) == 1
    # once the gap is filled the deal jumps to where its criteria really stand
    assert derive_stage_id(SPECS, {11, 12, 21, 31, 32}) == 3


def test_all_criteria_met_stays_in_last_stage():
    assert derive_stage_id(SPECS, {11, 12, 21, 31, 32}) == 3


def test_a_stage_without_milestones_is_passed_through():
    specs = [StageSpec(1, frozenset()), StageSpec(2, frozenset({21}))]
    assert derive_stage_id(specs, set()) == 2


def test_no_stages_gives_none():
    assert derive_stage_id([], set()) is None
