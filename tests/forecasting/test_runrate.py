"""Run-rate helpers (pandas only, no database)."""

import pandas as pd

from forecasting.analytics.runrate import close_on_as_of


def _changes() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "opportunity_id": [1, 1],
            "at": [pd.Timestamp("2026-02-01", tz="UTC"), pd.Timestamp("2026-05-01", tz="UTC")],
            "new_on": [pd.Timestamp("2026-04-30"), pd.Timestamp("2026-06-30")],
        }
    )


def test_close_date_is_the_latest_change_at_or_before_the_moment():
    deals = pd.Series([1, 2], index=[10, 11])

    as_of = close_on_as_of(deals, pd.Timestamp("2026-03-01", tz="UTC"), _changes())

    assert as_of.index.tolist() == [10, 11]
    assert as_of[10] == pd.Timestamp("2026-04-30")
    assert pd.isna(as_of[11])


def test_no_change_before_the_moment_gives_unknown_dates_that_still_compare():
    deals = pd.Series([1, 2])

    as_of = close_on_as_of(deals, pd.Timestamp("2026-01-01", tz="UTC"), _changes())

    assert as_of.isna().all()
    assert not (as_of > pd.Timestamp("2026-03-31")).any()
