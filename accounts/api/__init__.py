"""The accounts app's REST API: serializers (parse/format only) and viewsets over services."""
