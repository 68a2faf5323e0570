"""`ENV_TABLE`: every ``AUTHSVC_*`` variable, its field, default and meaning (the single list
docs/configuration.md is checked against)."""

from __future__ import annotations

from dataclasses import dataclass

from authsvc.model.ratelimits import Limiter, RateLimit

# Far above honest load (docs/configuration.md says why), far below an attack.
DEFAULT_RATE_LIMITS: dict[Limiter, RateLimit] = {
    Limiter.INTEGRATION: RateLimit(20_000, 2),
    Limiter.IP: RateLimit(20_000, 2),
    Limiter.USERNAME: RateLimit(120, 10),
    Limiter.UNKNOWN_USERS: RateLimit(100, 10),
    Limiter.BAD_SIGNATURES_IP: RateLimit(50, 60),
    Limiter.BAD_SIGNATURES_IKEY: RateLimit(50, 60),
    Limiter.FAILED_AUTH_INTEGRATION: RateLimit(200, 20),
    Limiter.FAILED_AUTH_IP: RateLimit(200, 20),
}


@dataclass(frozen=True, slots=True)
class EnvVar:
    """One row of the settings table: variable, field, default (as text) and meaning."""

    name: str
    field: str
    default: str
    meaning: str


ENV_TABLE: tuple[EnvVar, ...] = (
    EnvVar("AUTHSVC_HOST", "host", "127.0.0.1", "address to listen on (`--host`)"),
    EnvVar("AUTHSVC_PORT", "port", "8080", "port to listen on (`--port`)"),
    EnvVar("AUTHSVC_TLS_CERT", "tls_cert", "", "PEM certificate chain; TLS is on when set with the key"),
    EnvVar("AUTHSVC_TLS_KEY", "tls_key", "", "PEM private key for `AUTHSVC_TLS_CERT`"),
    EnvVar("AUTHSVC_PUBLIC_HOST", "public_host", "",
           "host[:port] written into links and codes; also accepted as the signed host"),
    EnvVar("AUTHSVC_WORKERS", "workers", "0",
           "service processes sharing the port (`--workers`); 0 = one per CPU core"),
    EnvVar("AUTHSVC_EVENT_LOOP", "event_loop", "auto",
           "auto (uvloop when installed and supported), asyncio or uvloop"),
    EnvVar("AUTHSVC_LISTEN_BACKLOG", "listen_backlog", "4096",
           "connections the kernel queues before they are accepted (capped by somaxconn)"),
    EnvVar("AUTHSVC_REDIS_URL", "redis_url", "",
           "external Redis (`redis://[:password@]host:port/db`, `unix:///path.sock?db=0`, any "
           "node of a Redis Cluster, `redis+sentinel://host:26379,host2:26379/master/db`); "
           "unset = start a private redis-server"),
    EnvVar("AUTHSVC_DATA_DIR", "data_dir", "./var",
           "embedded Redis data (AOF) and the generated secret key file"),
    EnvVar("AUTHSVC_REDIS_SERVER", "redis_server", "redis-server",
           "the redis-server binary for the embedded Redis"),
    EnvVar("AUTHSVC_SECRET_KEY", "secret_key", "",
           "master key for secrets at rest (>= 32 chars); unset = `DATA_DIR/secret.key` (0600)"),
    EnvVar("AUTHSVC_KEY_PREFIX", "key_prefix", "as", "prefix of every Redis key"),
    EnvVar("AUTHSVC_MAX_BODY_BYTES", "max_body_bytes", "262144", "larger request bodies get 413"),
    EnvVar("AUTHSVC_MAX_SKEW_SECONDS", "max_skew_seconds", "300",
           "allowed distance between a signed date and the server clock"),
    EnvVar("AUTHSVC_REDIS_TIMEOUT", "redis_timeout", "2.0",
           "seconds a Redis call may take before the request answers 503"),
    EnvVar("AUTHSVC_REDIS_WAIT_REPLICAS", "redis_wait_replicas", "auto",
           "replicas that must acknowledge a decision that consumed something (WAIT) before it "
           "is answered: auto (1 when the master has a replica, else 0), 0 (off) or N"),
    EnvVar("AUTHSVC_REDIS_WAIT_MS", "redis_wait_ms", "250",
           "how long WAIT waits for them; none in time = 503 / 50301"),
    EnvVar("AUTHSVC_AUTHLOG_MAX_ENTRIES", "authlog_max_entries", "1000000",
           "authentication log entries kept (oldest trimmed)"),
    EnvVar("AUTHSVC_AUTHLOG_RETENTION_DAYS", "authlog_retention_days", "0",
           "days authentication log entries are kept (older ones trimmed); 0 = no limit by age"),
    EnvVar("AUTHSVC_DELIVERY", "delivery", "outbox",
           "where SMS, calls and email go: outbox (Redis, read by mobile-sim) or webhook"),
    EnvVar("AUTHSVC_WEBHOOK_URL", "webhook_url", "", "the webhook provider's URL"),
    EnvVar("AUTHSVC_WEBHOOK_SECRET", "webhook_secret", "",
           "HMAC-SHA256 key of the X-Authsvc-Signature header (>= 32 chars)"),
    EnvVar("AUTHSVC_WEBHOOK_MAX_ATTEMPTS", "webhook_max_attempts", "8",
           "attempts per message before it becomes a dead letter"),
    EnvVar("AUTHSVC_WEBAUTHN_RP_ID", "webauthn_rp_id", "",
           "WebAuthn relying-party id; unset = the public host's name"),
    EnvVar("AUTHSVC_WEBAUTHN_ORIGINS", "webauthn_origins", "",
           "comma-separated origins accepted in WebAuthn/U2F client data; unset = the public base URL"),
    EnvVar("AUTHSVC_U2F_APP_ID", "u2f_app_id", "",
           "U2F AppID; unset = <public base URL>/u2f/app-id (which serves the trusted facets)"),
    EnvVar("AUTHSVC_UNENROLLED_SWEEP_SECONDS", "unenrolled_sweep_seconds", "600",
           "how often one process locks out users past `unenrolled_user_lockout_threshold` "
           "days without a device (\"Not enrolled\"); preauth applies it at once anyway"),
    EnvVar("AUTHSVC_TRASH_SWEEP_SECONDS", "trash_sweep_seconds", "600",
           "how often one process sends users inactive for `inactive_user_expiration` days to "
           "the Trash and deletes users in the Trash for longer than `pending_deletion_days`"),
    EnvVar("AUTHSVC_PANEL_COUNTS_SECONDS", "panel_counts_seconds", "10",
           "how long one process shows the same user counts on the Admin Panel's Dashboard and "
           "Users page (reading them sums every hash slot holding users)"),
    EnvVar("AUTHSVC_LOG_LEVEL", "log_level", "info", "debug, info, warning or error"),
    EnvVar("AUTHSVC_ACCESS_LOG", "access_log", "0", "1 = log every HTTP request"),
    EnvVar("AUTHSVC_LOG_FORMAT", "log_format", "text",
           "text (one line per record) or json (one object per line, with `request_id`)"),
    EnvVar("AUTHSVC_METRICS_TOKEN", "metrics_token", "",
           "bearer token (>= 32 chars) opening `/metrics` on the service's port; unset = 404"),
    EnvVar("AUTHSVC_METRICS_LISTEN", "metrics_listen", "",
           "host:port of a plain-HTTP listener serving only `/metrics`, no token; unset = none"),
    EnvVar("AUTHSVC_TRUSTED_PROXIES", "trusted_proxies", "",
           "comma-separated addresses or networks (`10.0.0.0/8`) of reverse proxies whose "
           "`X-Forwarded-For` names the client (rate limits, logs); empty = trust none"),
    *(EnvVar(f"AUTHSVC_RATE_LIMIT_{limiter.value.upper()}", f"rate_limit_{limiter.value}",
             str(DEFAULT_RATE_LIMITS[limiter]), f"rate limit: {limiter.detail.split(': ')[1]} "
             "(N/Ss: a burst of N, then N per S seconds; off)") for limiter in Limiter),
)
