FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY authsvc ./authsvc
COPY mobile_sim ./mobile_sim
COPY tokens ./tokens
RUN pip install --no-cache-dir . && useradd --system --home /data authsvc \
    && mkdir -p /data && chown authsvc /data
USER authsvc
EXPOSE 8080
CMD ["authsvc", "serve", "--host", "0.0.0.0", "--port", "8080"]
