"""Coaching: manager dashboards, standardized account reviews, call debriefs, development
plans, pre-sales resource requests and the documentation compliance score.

Dashboards and the coaching view read precomputed aggregates only: forecasting's rollups,
KPI rows (stage conversion, days in stage, activities, ramp) and inspection flags, and
territories' bulk attainment. Per-rep stage conversion is already in forecasting's KPI rows,
so this app keeps no aggregate table (and no beat entry) of its own.
"""
