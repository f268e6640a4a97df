# assist_center: one image for web (gunicorn), worker and beat (celery). See docs/deployment.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=assist_center.settings.base

# WeasyPrint needs Pango; the Chinese application form needs Noto CJK (nothing is fetched from a
# CDN at run time); gettext compiles the catalogue; the PostgreSQL client is for pg_dump/psql.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 \
        gettext postgresql-client \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
# The SMS providers' SDKs (optional extras); build with --build-arg EXTRAS= to leave them out.
ARG EXTRAS="[sms-aliyun,sms-tencent]"

# Dependencies first, against empty package stubs, so a code change does not reinstall them.
COPY pyproject.toml ./
RUN mkdir -p assist_center applications eligibility referrals charity happiness_list \
    && touch assist_center/__init__.py applications/__init__.py eligibility/__init__.py \
        referrals/__init__.py charity/__init__.py happiness_list/__init__.py \
    && pip install ".${EXTRAS}" \
    && pip uninstall -y assist_center

COPY . .
# Installed from /app in place: settings find templates/, static/ and locale/ next to the code
# (BASE_DIR), which a copy in site-packages would not have.
RUN pip install --no-deps -e .

# Build-time steps only read files. DEBUG=true lets settings load without the production secrets,
# which must never be baked into an image; nothing is signed or encrypted here.
RUN DEBUG=true python manage.py compilemessages -l zh_Hans -v 0 \
    && DEBUG=true python manage.py collectstatic --noinput -v 0

RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin app \
    && mkdir -p /app/var/media \
    && chown -R app:app /app/var
USER app

EXPOSE 8000
CMD ["gunicorn", "assist_center.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4", \
     "--timeout", "60", "--access-logfile", "-"]
