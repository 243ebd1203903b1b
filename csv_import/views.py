"""Pages of the CSV import: upload (a dry run by default), follow a job, import it for real."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from accounts.views.pagination import paginate
from salesmgmt import selectors
from salesmgmt.decorators import AuthenticatedHttpRequest, people_only
from salesmgmt.models import ImportJob
from salesmgmt.page_actions import call_service, call_service_or_flash

from .forms import ImportForm, ImportMappingForm, mapping_choices
from .jobs import create_import_job, import_job_map, live_rows_done, rerun_for_real
from .mapping import targets
from .problems import summary_with_problems
from .selectors.columns import import_columns_all, import_template_csv
from .selectors.mapping import file_headers, import_suggestions
from .specs import spec_for


@people_only
def imports(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Upload a CSV (dry run by default) and list your recent imports."""
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        job, _ = call_service(
            form,
            lambda: create_import_job(
                actor=request.user,
                kind=form.cleaned_data["kind"],
                content=upload.read(),
                file_name=upload.name,
                dry_run=form.cleaned_data["dry_run"],
                column_map=form.cleaned_data["column_map"] or None,
                in_session=True,
                map_first=form.cleaned_data["map_first"],
            ),
        )
        if job is not None and job.status == ImportJob.Status.MAPPING:
            return redirect("import_mapping", pk=job.pk)
        if job is not None:
            return redirect("import_job", pk=job.pk)
    context = {
        "form": form,
        "jobs": selectors.import_job_list(viewer=request.user)[:20],
        "kinds": [(doc, reverse(f"import_template_{doc.kind}")) for doc in import_columns_all()],
        # The column table open first: the kind just chosen on the form, or ?kind= from a link.
        "shown_kind": form["kind"].value() or request.GET.get("kind") or "",
    }
    return render(request, "csv_import/imports.html", context)


@people_only
def import_template(request: AuthenticatedHttpRequest, kind: str) -> HttpResponse:
    """A CSV with every column of the kind as the header and one example row."""
    response = HttpResponse(import_template_csv(kind=kind), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{kind}-template.csv"'
    return response


# The full list of a 10,000-problem file is read a page at a time; the groups come first.
ERRORS_PER_PAGE = 100


@people_only
def import_job(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Progress (rows done of total) while it runs, then the summary (rows ok, ignored
    columns, problems grouped by kind) and every bad row, ``ERRORS_PER_PAGE`` at a time."""
    job = selectors.import_job_get(viewer=request.user, pk=pk)
    if job.status == ImportJob.Status.MAPPING:
        return redirect("import_mapping", pk=job.pk)
    if request.method == "POST":
        rerun, _ = call_service_or_flash(
            request, lambda: rerun_for_real(actor=request.user, job=job, in_session=True)
        )
        return redirect("import_job", pk=(rerun or job).pk)
    errors = paginate(request, job.errors, param="errors_page", per_page=ERRORS_PER_PAGE)
    context = {
        "job": job,
        # How the file was read, as chosen on the mapping step (or sent to the API).
        "reading": [(header, targets(columns)) for header, columns in job.column_map.items()],
        "value_reading": [
            (column, sorted(values.items())) for column, values in job.value_map.items() if values
        ],
        "rows_done": live_rows_done(job),
        "summary": summary_with_problems(job.summary, job.errors, job.rows_total),
        "errors_page": errors,
        "invitations": _invitation_links(request, job.summary.get("invitations", [])),
    }
    response = render(request, "csv_import/import_job.html", context)
    if context["invitations"]:
        response["Cache-Control"] = "no-store"  # sign-in links must not linger in any cache
    return response


def _invitation_links(request: AuthenticatedHttpRequest, items: list[dict]) -> list[dict]:
    """A users import's invitations; its links, made without a request, made absolute."""
    return [
        {**item, "link": request.build_absolute_uri(item["link"]) if item.get("link") else ""}
        for item in items
    ]


@people_only
def import_mapping(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The mapping step: each header's column, each value's accepted value, the defaults for
    gaps; "Check the file" confirms them (kept for the same headers) and starts the run."""
    job = selectors.import_job_get(viewer=request.user, pk=pk)
    if job.status != ImportJob.Status.MAPPING:
        return redirect("import_job", pk=job.pk)
    headers = file_headers(job.content)
    chosen = mapping_choices(request.POST, headers) if request.method == "POST" else None
    # First the choices sent with the upload (if any), then those posted here.
    suggestions = import_suggestions(
        kind=job.kind,
        text=job.content,
        column_map=chosen.column_map if chosen else job.column_map,
        value_map=chosen.value_map if chosen else job.value_map,
        options=chosen.options if chosen else job.options,
    )
    form, status = ImportMappingForm(request.POST or None), 200
    if chosen is not None and chosen.run and form.is_valid():
        mapped, status = call_service(
            form,
            lambda: import_job_map(
                actor=request.user,
                job=job,
                column_map=chosen.column_map,
                # Every listed value: the person's choice, else the suggestion shown.
                value_map={
                    entry["column"]: {v["value"]: v["chosen"] for v in entry["values"]}
                    for entry in suggestions.values
                },
                options={o["name"]: o["chosen"] for o in suggestions.options},
                headers=headers if chosen.remember else None,
            ),
        )
        if mapped is not None:
            return redirect("import_job", pk=job.pk)
    context = {
        "job": job,
        "form": form,
        "suggestions": suggestions,
        "columns": spec_for(job.kind).columns,
    }
    return render(request, "csv_import/import_mapping.html", context, status=status)
