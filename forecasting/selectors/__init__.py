"""Reads of the forecasting app: page and API reads (``reads``), worker DataFrames (``frames``)."""
