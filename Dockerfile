FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
# GNU gettext compiles the translations (scripts/compile-messages.sh).
RUN apt-get update && apt-get install --yes --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY microsolidarity microsolidarity
COPY congregations congregations
COPY crews crews
COPY reciprocity reciprocity
COPY privacy privacy
RUN pip install --no-cache-dir .
COPY . .
RUN scripts/compile-messages.sh
RUN useradd --create-home app && mkdir -p staticfiles && chown app staticfiles
USER app
EXPOSE 8000
