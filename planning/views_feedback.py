"""The Feed back page: win/loss and productivity by segment, product and lead source for a
period, against the sales task's assumptions; and its CSV export."""

from __future__ import annotations

import pandas as pd
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from forecasting.selectors.reads import period_choices
from salesmgmt.api.renderers import iter_csv
from salesmgmt.charts import figure_html
from salesmgmt.decorators import page_for
from salesmgmt.page_actions import id_param
from salesmgmt.selectors import period_get
from salesmgmt.visibility import reads_feedback

from . import analytics
from .feedback import FeedbackReport, feedback_report
from .feedback_charts import assumptions_chart, feedback_chart

LABELS = {"segment": "Segment", "product": "Product", "lead_source": "Lead source", "total": ""}
REFUSAL = "The feed-back report is for planners, executives, administrators and managers."


def clean(value: object) -> object:
    """A DataFrame cell as JSON and CSV want it: NaN is None, numpy numbers Python ones."""
    if value is None or isinstance(value, str):
        return value
    if pd.isna(value):
        return None
    return value.item() if hasattr(value, "item") else value


def records(frame: pd.DataFrame) -> list[dict]:
    return [{k: clean(v) for k, v in row.items()} for row in frame.to_dict("records")]


def csv_rows(report: FeedbackReport, table: str) -> list[dict]:
    """The CSV's rows: the breakdowns (a dimension column first), or the assumptions."""
    if table == "assumptions":
        return records(report.assumptions)
    return [
        {"period": report.period.name, "dimension": dimension, **row}
        for dimension, _, frame in report.tables()
        for row in records(frame)
    ]


def _report(request: HttpRequest) -> FeedbackReport:
    period = period_get(pk=id_param(request.GET.get("period")))  # None: this quarter; 404 unknown
    return feedback_report(viewer=request.user, period=period)  # type: ignore[arg-type]


@page_for(reads_feedback, REFUSAL)
def feedback(request: HttpRequest) -> HttpResponse:
    report = _report(request)
    if request.GET.get("format") == "csv":
        table = "assumptions" if request.GET.get("table") == "assumptions" else "breakdown"
        # A report's rows (segments, products, sources): few, written at once; the header
        # alone when nothing closed in the period.
        rows = csv_rows(report, table)
        header = (
            analytics.ASSUMPTION_COLUMNS
            if table == "assumptions"
            else ["period", "dimension", *analytics.BREAKDOWN_COLUMNS]
        )
        text = "".join(iter_csv(rows)) if rows else ",".join(header) + "\r\n"
        response = HttpResponse(text, content_type="text/csv; charset=utf-8")
        name = f"feedback-{table}-{report.period.name}".replace(" ", "-")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    context = {
        "report": report,
        "period": report.period,
        "periods": period_choices(),
        "tables": [
            (d, heading, LABELS[d], records(frame)) for d, heading, frame in report.tables()
        ],
        "assumptions": records(report.assumptions),
        "chart": figure_html(feedback_chart(report.segment, "Won value and win rate by segment")),
        "assumptions_chart": figure_html(assumptions_chart(report.assumptions))
        if len(report.assumptions)
        else "",
        "uses_charts": True,
        "unassigned": analytics.UNASSIGNED,
    }
    return render(request, "planning/feedback.html", context)
