"""pandas-only computations of the forecasting app: DataFrames in, DataFrames out, no ORM.

Each module holds one family of definitions (rollups, probability, Monte Carlo, run rate,
waterfall, inspection flags, accuracy, KPIs); they are testable without a database.
"""
