# Production image: gunicorn serves salesmgmt.wsgi; the same image runs the Celery worker,
# beat and the one-shot migrate step (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=salesmgmt.settings.production

RUN useradd --create-home --uid 1000 app \
    && mkdir -p /var/lib/salesmgmt \
    && chown app:app /var/lib/salesmgmt

WORKDIR /app
COPY . .
# Installed in place (-e): templates/ and static/ live beside the packages, and settings
# find them relative to the source tree. Static files are collected at build time; the
# production settings need a SECRET_KEY and ALLOWED_HOSTS to load, so build-only values.
RUN pip install -e . \
    && SECRET_KEY=collectstatic-only ALLOWED_HOSTS=localhost \
       python manage.py collectstatic --noinput

USER app
EXPOSE 8000
CMD ["gunicorn", "salesmgmt.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
