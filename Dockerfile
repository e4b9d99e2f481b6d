# Production image: gunicorn serves Django; whitenoise serves the collected static files.
# The same image runs the Celery worker and beat (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=surveillance.settings.base

WORKDIR /app

# Dependencies first, so a code change does not reinstall them. Every pin has a manylinux
# wheel for CPython 3.11, so the slim image needs no compiler.
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY . .

# Static files are collected at build time. Production settings insist on a SECRET_KEY: a
# dummy one that exists only in this build step (not in the image's environment). The
# settings create var/ on import; it is kept for Celery beat's schedule file.
RUN SECRET_KEY=build-only-not-secret python manage.py collectstatic --noinput \
    && mkdir -p var

# Run as an unprivileged user that owns only var/ (beat's schedule file lives there).
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --home-dir /app app \
    && chown -R app:app /app/var
# Numeric, so "runAsNonRoot" style checks can verify it without reading /etc/passwd.
USER 10001:10001

EXPOSE 8000
# Bind, workers and the access log format (no query strings) are in gunicorn.conf.py.
CMD ["gunicorn", "surveillance.wsgi:application"]
