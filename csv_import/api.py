"""The CSV import API (mounted under /api/v1/imports/): upload a file, follow the job, import
a clean dry run for real. Parse and format here; the work is in ``csv_import.jobs``."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import parsers, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ParseError
from rest_framework.response import Response

from salesmgmt import selectors
from salesmgmt.api import parsers as safe_parsers
from salesmgmt.api.filters import SyncFilterSet
from salesmgmt.api.viewsets import ListMixin, RetrieveMixin, VisibleGenericViewSet
from salesmgmt.models import ImportJob, ImportKind

from .jobs import create_import_job, live_rows_done, rerun_for_real
from .problems import summary_with_problems
from .selectors.columns import import_columns, import_template_csv

COLUMNS_POINTER = (
    "The columns of each kind (name, other accepted spellings, type, required, example, "
    "meaning, accepted values): `GET /api/v1/imports/columns/?kind=...`; a template CSV with "
    "every column and an example row: `GET /api/v1/imports/template/?kind=...`."
)


# A page of ``errors`` with ``?errors_page=``, as many as the job page shows.
ERRORS_PER_PAGE = 100


class ImportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True, help_text="Line in the file; 1 is the header.")
    column = serializers.CharField(allow_blank=True)
    reason = serializers.CharField()


class ImportSummarySerializer(serializers.Serializer):
    created = serializers.IntegerField(required=False)
    updated = serializers.IntegerField(required=False)
    ignored_columns = serializers.ListField(child=serializers.CharField(), required=False)
    notices = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text=(
            "What the import does besides the rows themselves, e.g. the accounts it creates "
            "for account names not found (absent when nothing)."
        ),
    )


class ImportProblemExampleSerializer(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True, help_text="Line in the file; 1 is the header.")
    column = serializers.CharField(allow_blank=True)
    value = serializers.CharField(allow_blank=True, help_text="The value the message quotes.")
    reason = serializers.CharField()


class ImportProblemGroupSerializer(serializers.Serializer):
    column = serializers.CharField(allow_blank=True)
    message = serializers.CharField(help_text='The message with the quoted values as "…".')
    count = serializers.IntegerField(help_text="Errors of this kind.")
    rows = serializers.IntegerField(help_text="Data rows it affects.")
    every_row = serializers.BooleanField(help_text="On every data row: reported once.")
    examples = ImportProblemExampleSerializer(many=True, help_text="The first five.")


class ImportJobSerializer(serializers.ModelSerializer):
    rows_done = serializers.SerializerMethodField(
        help_text="Rows processed so far (live while the job runs)."
    )
    errors = serializers.SerializerMethodField(
        help_text=(
            "Every problem (row = line in the file, column, reason); with `?errors_page=N` "
            f"on one job, only that page of {ERRORS_PER_PAGE}."
        )
    )
    errors_count = serializers.SerializerMethodField(help_text="How many problems in all.")
    summary = ImportSummarySerializer(read_only=True)
    rows_ok = serializers.SerializerMethodField(
        help_text="Rows without a problem (0 until the job ends, or when the file has one)."
    )
    rows_with_problems = serializers.SerializerMethodField()
    problems = serializers.SerializerMethodField(
        help_text=(
            "`errors` grouped by column and message (quoted values left out), most frequent "
            "first, each with its first examples; the full list stays in `errors`."
        )
    )

    def get_rows_done(self, job: ImportJob) -> int:
        return live_rows_done(job)

    @extend_schema_field(ImportErrorSerializer(many=True))
    def get_errors(self, job: ImportJob) -> list[dict]:
        request = self.context.get("request")
        number = request.query_params.get("errors_page") if request is not None else None
        if number is None:
            return job.errors  # the whole list, as before pages existed
        return list(Paginator(job.errors, ERRORS_PER_PAGE).get_page(number).object_list)

    def get_errors_count(self, job: ImportJob) -> int:
        return len(job.errors)

    def _summary(self, job: ImportJob) -> dict:
        if not job.is_finished:  # nothing checked yet: no row is known to be ok
            return {"rows_ok": 0, "rows_with_problems": 0, "problems": []}
        return summary_with_problems(job.summary, job.errors, job.rows_total)

    def get_rows_ok(self, job: ImportJob) -> int:
        return self._summary(job)["rows_ok"]

    def get_rows_with_problems(self, job: ImportJob) -> int:
        return self._summary(job)["rows_with_problems"]

    @extend_schema_field(ImportProblemGroupSerializer(many=True))
    def get_problems(self, job: ImportJob) -> list[dict]:
        return self._summary(job)["problems"]

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "kind",
            "file_name",
            "dry_run",
            "status",
            "rows_total",
            "rows_done",
            "rows_ok",
            "rows_with_problems",
            "problems",
            "errors",
            "errors_count",
            "summary",
            "started_at",
            "finished_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ImportChoiceSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()


class ImportColumnSerializer(serializers.Serializer):
    name = serializers.CharField(
        help_text="The header the import reads (also a column_map target)."
    )
    spellings = serializers.ListField(
        child=serializers.CharField(),
        help_text="Other headers read as this column (case, spaces and punctuation ignored).",
    )
    type = serializers.ChoiceField(
        choices=["text", "email", "int", "decimal", "date", "datetime", "choice"]
    )
    type_label = serializers.CharField()
    required = serializers.BooleanField()
    example = serializers.CharField()
    description = serializers.CharField()
    choices = serializers.SerializerMethodField(help_text="Accepted values of a choice column.")
    max_length = serializers.IntegerField(allow_null=True)

    def get_choices(self, column) -> list[dict[str, str]]:
        return [{"value": value, "label": label} for value, label in column.choices]


class ImportColumnsSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    columns = ImportColumnSerializer(many=True)
    one_of = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Give at least one column of each group.",
    )


class ImportKindQuerySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ImportKind.choices)


KIND_PARAMETER = OpenApiParameter(
    "kind", OpenApiTypes.STR, required=True, enum=ImportKind.values, description="Import kind."
)


class ImportUploadSerializer(serializers.Serializer):
    """Multipart upload (``file``) or JSON with the CSV text in ``content``."""

    kind = serializers.ChoiceField(choices=ImportKind.choices)
    dry_run = serializers.BooleanField(default=True)
    file = serializers.FileField(required=False)
    content = serializers.CharField(required=False, trim_whitespace=False)
    column_map = serializers.DictField(
        child=serializers.CharField(max_length=64),
        required=False,
        help_text=(
            'Extra header mapping (file header → column name), e.g. {"Sales Rep": "owner_email"}.'
        ),
    )

    def validate(self, attrs: dict) -> dict:
        if not attrs.get("file") and not attrs.get("content"):
            raise serializers.ValidationError({"file": "Upload a CSV file (or send `content`)."})
        return attrs


class CSVTextParser(parsers.BaseParser):
    """A raw ``text/csv`` body; ``kind`` and ``dry_run`` then come from the query string."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        request = parser_context["request"]
        try:
            content = (stream.read() if stream else b"").decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ParseError("Send the CSV in UTF-8.") from None
        return {
            "content": content,
            "kind": request.query_params.get("kind", ""),
            "dry_run": request.query_params.get("dry_run", "true"),
        }


class ImportJobFilter(SyncFilterSet):
    class Meta:
        model = ImportJob
        fields = ["kind", "status", "dry_run"]


class ImportJobViewSet(ListMixin, RetrieveMixin, VisibleGenericViewSet):
    """CSV imports you started: upload, then follow ``status`` and ``rows_done/rows_total``;
    ``problems`` groups the bad rows by kind (counts, first examples); ``errors`` lists every
    bad row (row = line in the file, column, reason), a page at a time with ``?errors_page=``."""

    queryset = ImportJob.objects.none()
    serializer_class = ImportJobSerializer
    filterset_class = ImportJobFilter
    ordering_fields = ["created_at", "updated_at"]
    parser_classes = [
        safe_parsers.MultiPartParser,
        safe_parsers.FormParser,
        safe_parsers.JSONParser,
        CSVTextParser,
    ]

    def visible_queryset(self):
        return selectors.import_job_list(viewer=self.request.user)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "errors_page",
                OpenApiTypes.INT,
                description=(
                    f"Only this page ({ERRORS_PER_PAGE} a page) of `errors`; `errors_count` "
                    "has the total and `problems` the groups. Without it, every error."
                ),
            )
        ]
    )
    def retrieve(self, request, *args, **kwargs):
        """One import job: its status, summary, grouped problems and errors."""
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        description=(
            "Upload a CSV; it is checked (`dry_run`, the default) or imported all-or-nothing by "
            "a background job. " + COLUMNS_POINTER
        ),
        request={
            "multipart/form-data": ImportUploadSerializer,
            "application/json": ImportUploadSerializer,
            "text/csv": OpenApiTypes.STR,
        },
        parameters=[
            OpenApiParameter("kind", OpenApiTypes.STR, description="With a text/csv body."),
            OpenApiParameter("dry_run", OpenApiTypes.BOOL, description="With a text/csv body."),
        ],
        responses={202: ImportJobSerializer},
    )
    def create(self, request):
        """Upload a CSV; it is checked (``dry_run``, the default) or imported all-or-nothing
        by a background job."""
        serializer = ImportUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        upload = data.get("file")
        content = upload.read() if upload is not None else data["content"]
        job = create_import_job(
            actor=request.user,
            kind=data["kind"],
            content=content,
            file_name=getattr(upload, "name", "") or "",
            dry_run=data["dry_run"],
            column_map=data.get("column_map"),
            # A token is ``request.auth``; session cookies leave it None.
            in_session=request.auth is None,
        )
        return self.record_response(self.reload(job), status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: ImportJobSerializer})
    @action(detail=True, methods=["post"], url_path="import")
    def run_for_real(self, request, pk=None):
        """After a dry run without errors: import the same file for real (a new job)."""
        job = rerun_for_real(
            actor=request.user, job=self.get_object(), in_session=request.auth is None
        )
        return self.record_response(self.reload(job), status.HTTP_202_ACCEPTED)

    @extend_schema(
        parameters=[KIND_PARAMETER],
        responses={200: ImportColumnsSerializer},
        description="Every column of an import kind. " + COLUMNS_POINTER,
    )
    @action(detail=False, methods=["get"], url_path="columns")
    def columns(self, request):
        """The columns of one import kind: what each means, its type and an example."""
        query = ImportKindQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        doc = import_columns(kind=query.validated_data["kind"])
        return Response(ImportColumnsSerializer(doc).data)

    @extend_schema(
        parameters=[KIND_PARAMETER],
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description="The header row and one example row."
            )
        },
    )
    @action(detail=False, methods=["get"], url_path="template")
    def template(self, request):
        """A template CSV of an import kind: every column, then one example row."""
        query = ImportKindQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        kind = query.validated_data["kind"]
        response = HttpResponse(
            import_template_csv(kind=kind), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{kind}-template.csv"'
        return response
