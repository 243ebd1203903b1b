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
from salesmgmt.models import ImportJob, ImportKind, ImportMapping

from .jobs import create_import_job, decoded_text, import_job_map, live_rows_done, rerun_for_real
from .mappings import import_mapping_save, mapping_problems
from .problems import summary_with_problems
from .selectors.columns import import_columns, import_template_csv
from .selectors.mapping import file_headers, import_suggestions

COLUMNS_POINTER = (
    "The columns of each kind (name, other accepted spellings, type, required, example, "
    "meaning, accepted values): `GET /api/v1/imports/columns/?kind=...`; a template CSV with "
    "every column and an example row: `GET /api/v1/imports/template/?kind=...`."
)


# A page of ``errors`` with ``?errors_page=``, as many as the job page shows.
ERRORS_PER_PAGE = 100


class ImportChoiceSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()


class ImportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True, help_text="Line in the file; 1 is the header.")
    column = serializers.CharField(allow_blank=True)
    reason = serializers.CharField()


class ImportInvitationSerializer(serializers.Serializer):
    """A sign-in invitation a users import made for a person it created."""

    user = serializers.IntegerField()
    name = serializers.CharField()
    username = serializers.CharField(help_text="What the person signs in with.")
    emailed_to = serializers.CharField(allow_blank=True, help_text="Empty: not e-mailed.")
    expires_at = serializers.DateTimeField()
    link = serializers.SerializerMethodField(help_text="The link to pass on when not e-mailed.")

    def get_link(self, item: dict) -> str:
        request = self.context.get("request")
        link = item.get("link") or ""
        # A job runs without a request: its links are relative to the site (no SITE_URL).
        return request.build_absolute_uri(link) if link and request is not None else link


class ImportExampleSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="Line in the file; 1 is the header.")
    value = serializers.CharField(allow_blank=True)


class ImportDefaultedSerializer(serializers.Serializer):
    column = serializers.CharField()
    option = serializers.CharField(help_text="The option (see `options` of the suggestions).")
    answer = serializers.CharField(help_text="What was chosen (or the default).")
    count = serializers.IntegerField(help_text="Rows with the gap.")
    message = serializers.CharField(help_text="e.g. “500 rows have no engage date: …”.")
    rows = serializers.ListField(child=serializers.IntegerField(), help_text="The first lines.")


class ImportSuspiciousSerializer(serializers.Serializer):
    column = serializers.CharField()
    kind = serializers.ChoiceField(choices=["magnitude", "near_duplicate", "far_date"])
    message = serializers.CharField()
    count = serializers.IntegerField()
    examples = ImportExampleSerializer(many=True)


class ImportSummarySerializer(serializers.Serializer):
    created = serializers.IntegerField(required=False)
    updated = serializers.IntegerField(required=False)
    ignored_columns = serializers.ListField(child=serializers.CharField(), required=False)
    notices = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="What the import does besides the rows (e.g. managers and offices it creates).",
    )
    invitations = ImportInvitationSerializer(many=True, required=False)
    defaulted = ImportDefaultedSerializer(
        many=True, required=False, help_text="Gaps filled (or left) as the options say."
    )
    suspicious = ImportSuspiciousSerializer(
        many=True,
        required=False,
        help_text="Values read but probably wrong: 48k, 1000 times the median, typos, far dates.",
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
            "column_map",
            "value_map",
            "options",
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


@extend_schema_field(
    {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
)
class ColumnTargetsField(serializers.Field):
    """One column name, or a list of them (one header feeding several columns)."""

    default_error_messages = {"invalid": "Give a column name or a list of column names."}

    def to_internal_value(self, data):
        if isinstance(data, str) and len(data) <= 64:
            return data
        if isinstance(data, list) and all(isinstance(v, str) and len(v) <= 64 for v in data):
            return data
        self.fail("invalid")

    def to_representation(self, value):
        return value


class ImportMappingFieldsSerializer(serializers.Serializer):
    """The mapping: headers → columns, file values → accepted values, gap options."""

    column_map = serializers.DictField(
        child=ColumnTargetsField(),
        required=False,
        help_text=(
            'Header mapping (file header → column, a list of columns, or "" to ignore it), '
            'e.g. {"Sales Rep": "owner_name", "Deal Stage": ["stage", "status"]}.'
        ),
    )
    value_map = serializers.DictField(
        child=serializers.DictField(child=serializers.CharField(allow_blank=True, max_length=200)),
        required=False,
        help_text=(
            'Per column, file value → accepted value ("" reads it as empty), e.g. '
            '{"status": {"Closed Won": "won"}, "stage": {"Engaging": "Develop"}}.'
        ),
    )
    options = serializers.DictField(
        child=serializers.CharField(max_length=32),
        required=False,
        help_text=(
            "What to do with gaps, e.g. "
            '{"created_at": "close_date", "account": "placeholder", "amount": "list_price"}; '
            "the choices of each are in `POST /api/v1/imports/suggest/`."
        ),
    )


class ImportUploadSerializer(ImportMappingFieldsSerializer):
    """Multipart upload (``file``) or JSON with the CSV text in ``content``."""

    kind = serializers.ChoiceField(choices=ImportKind.choices)
    dry_run = serializers.BooleanField(default=True)
    file = serializers.FileField(required=False)
    content = serializers.CharField(required=False, trim_whitespace=False)
    map_first = serializers.BooleanField(
        default=False,
        help_text=(
            "Keep the job waiting (status `mapping`) until `POST /api/v1/imports/{id}/mapping/`."
        ),
    )

    def validate(self, attrs: dict) -> dict:
        if not attrs.get("file") and not attrs.get("content"):
            raise serializers.ValidationError({"file": "Upload a CSV file (or send `content`)."})
        return attrs


class ImportJobMappingSerializer(ImportMappingFieldsSerializer):
    remember = serializers.BooleanField(
        default=True, help_text="Keep the mapping for the next file with the same headers."
    )


class ImportMappingSaveSerializer(ImportMappingFieldsSerializer):
    kind = serializers.ChoiceField(choices=ImportKind.choices)
    headers = serializers.ListField(
        child=serializers.CharField(max_length=200), allow_empty=False, max_length=500
    )


class ImportMappingSerializer(serializers.ModelSerializer):
    class Meta:
        model = ImportMapping
        fields = ["id", "kind", "headers", "column_map", "value_map", "options", "updated_at"]
        read_only_fields = fields


class ImportHeaderSuggestionSerializer(serializers.Serializer):
    header = serializers.CharField()
    columns = serializers.ListField(
        child=serializers.CharField(), help_text="Suggested columns; empty: ignored."
    )
    how = serializers.ChoiceField(
        choices=["saved", "preset", "spelling", "similar", "chosen", ""],
        help_text=(
            "Why: a saved mapping, a CRM preset, the same name, a similar name, your "
            "`column_map`, or nothing close."
        ),
    )
    score = serializers.FloatField(help_text="Name similarity, 0 to 1.")
    examples = serializers.ListField(child=serializers.CharField())


class ImportValueSuggestionSerializer(serializers.Serializer):
    value = serializers.CharField()
    count = serializers.IntegerField()
    suggested = serializers.CharField(allow_blank=True)
    chosen = serializers.CharField(allow_blank=True, help_text="Yours if sent, else suggested.")


class ImportColumnValuesSerializer(serializers.Serializer):
    column = serializers.CharField()
    header = serializers.CharField()
    accepted = serializers.ListField(
        child=serializers.CharField(), help_text="Choices, stage names or product names."
    )
    values = ImportValueSuggestionSerializer(many=True)


class ImportOptionSerializer(serializers.Serializer):
    name = serializers.CharField()
    column = serializers.CharField()
    question = serializers.CharField()
    count = serializers.IntegerField(help_text="Rows with the column's cell empty.")
    choices = ImportChoiceSerializer(many=True)
    default = serializers.CharField(help_text="Used when `options` leaves it out.")
    suggested = serializers.CharField()
    chosen = serializers.CharField()


class ImportSuggestionsSerializer(serializers.Serializer):
    kind = serializers.CharField()
    preset = serializers.CharField(
        allow_blank=True, help_text="Salesforce, HubSpot, Pipedrive or blank."
    )
    saved = serializers.BooleanField(help_text="A saved mapping of the same headers was used.")
    headers = ImportHeaderSuggestionSerializer(many=True)
    values = ImportColumnValuesSerializer(many=True)
    options = ImportOptionSerializer(many=True)


class ImportSuggestRequestSerializer(ImportMappingFieldsSerializer):
    kind = serializers.ChoiceField(choices=ImportKind.choices)
    file = serializers.FileField(required=False)
    content = serializers.CharField(required=False, trim_whitespace=False)

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
            value_map=data.get("value_map"),
            options=data.get("options"),
            # A token is ``request.auth``; session cookies leave it None.
            in_session=request.auth is None,
            map_first=data["map_first"],
        )
        return self.record_response(self.reload(job), status.HTTP_202_ACCEPTED)

    @extend_schema(
        request={
            "multipart/form-data": ImportSuggestRequestSerializer,
            "application/json": ImportSuggestRequestSerializer,
        },
        responses={200: ImportSuggestionsSerializer},
        description=(
            "How a file would be read, before any job: each header's suggested columns (a "
            "saved mapping of the same headers, a Salesforce/HubSpot/Pipedrive preset, the same "
            "or a similar name), each value of the columns with accepted values (choices, "
            "stages, products) with a suggestion, and the gap options with their row counts. "
            "Send `column_map`/`value_map`/`options` to see the values under your mapping."
        ),
    )
    @action(detail=False, methods=["post"], url_path="suggest")
    def suggest(self, request):
        """Suggested mapping of a file (headers, values, gap options); nothing is stored."""
        serializer = ImportSuggestRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        problems = mapping_problems(
            kind=data["kind"],
            column_map=data.get("column_map", {}),
            value_map=data.get("value_map", {}),
            options=data.get("options", {}),
        )
        if problems:
            raise serializers.ValidationError(problems)
        upload = data.get("file")
        text = decoded_text(upload.read() if upload is not None else data["content"])
        suggestions = import_suggestions(
            kind=data["kind"],
            text=text,
            column_map=data.get("column_map"),
            value_map=data.get("value_map"),
            options=data.get("options"),
        )
        if suggestions.error:
            raise serializers.ValidationError({"file": suggestions.error})
        return Response(ImportSuggestionsSerializer(suggestions).data)

    @extend_schema(request=ImportJobMappingSerializer, responses={202: ImportJobSerializer})
    @action(detail=True, methods=["post"], url_path="mapping")
    def mapping(self, request, pk=None):
        """Confirm the mapping of a job uploaded with `map_first` and start it."""
        job = self.get_object()
        serializer = ImportJobMappingSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        job = import_job_map(
            actor=request.user,
            job=job,
            column_map=data.get("column_map", {}),
            value_map=data.get("value_map"),
            options=data.get("options"),
            headers=file_headers(ImportJob.objects.get(pk=job.pk).content)
            if data["remember"]
            else None,
        )
        return self.record_response(self.reload(job), status.HTTP_202_ACCEPTED)

    @extend_schema(request=ImportMappingSaveSerializer, responses={200: ImportMappingSerializer})
    @action(detail=False, methods=["post"], url_path="mappings")
    def mappings(self, request):
        """Save a mapping for a set of headers: suggested for every file with them."""
        serializer = ImportMappingSaveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        saved = import_mapping_save(
            actor=request.user,
            kind=data["kind"],
            headers=data["headers"],
            column_map=data.get("column_map", {}),
            value_map=data.get("value_map"),
            options=data.get("options"),
        )
        return Response(ImportMappingSerializer(saved).data)

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
