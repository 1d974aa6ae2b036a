FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY microsolidarity microsolidarity
COPY congregations congregations
COPY crews crews
COPY reciprocity reciprocity
RUN pip install --no-cache-dir .
COPY . .
RUN useradd --create-home app && mkdir -p staticfiles && chown app staticfiles
USER app
EXPOSE 8000
