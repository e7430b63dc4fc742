"""Runtime settings read from the environment (one place, so nothing else reads os.environ)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_database_url() -> str:
    return f"sqlite:///{PROJECT_ROOT / 'data' / 'cloodot.db'}"


def _int_or_none(name: str) -> int | None:
    value = os.environ.get(name, "").strip()
    return int(value) if value.isdigit() else None


@dataclass(frozen=True)
class Settings:
    database_url: str = field(
        default_factory=lambda: os.environ.get("DATABASE_URL") or _default_database_url()
    )
    redis_url: str | None = field(default_factory=lambda: os.environ.get("REDIS_URL") or None)
    # The demo workspace: demo data at start-up and the demo sign-in buttons go there.
    # (Which workspace a browser works in comes from its signed-in session only.)
    workspace_slug: str = field(default_factory=lambda: os.environ.get("CLOODOT_WORKSPACE", "demo"))
    demo_contacts: int = field(
        default_factory=lambda: int(os.environ.get("CLOODOT_DEMO_CONTACTS", "500"))
    )
    export_max_rows: int = field(
        default_factory=lambda: int(os.environ.get("CLOODOT_EXPORT_MAX_ROWS", "100000"))
    )
    # The largest CSV file an import accepts; the upload stops being read past it.
    import_max_bytes: int = field(
        default_factory=lambda: int(
            os.environ.get("CLOODOT_IMPORT_MAX_BYTES", str(20 * 1024 * 1024))
        )
    )
    live_interval_seconds: float = field(
        default_factory=lambda: float(os.environ.get("CLOODOT_LIVE_INTERVAL", "3"))
    )
    # --- accounts (issue 9) ---
    # The app's own address: links in mails (invitations, password resets) start with it.
    app_url: str = field(
        default_factory=lambda: (
            os.environ.get("CLOODOT_APP_URL") or "http://localhost:3000"
        ).rstrip("/")
    )
    # A session ends after this long without an event, and in any case this long after
    # sign-in.
    session_idle_hours: float = field(
        default_factory=lambda: float(os.environ.get("CLOODOT_SESSION_IDLE_HOURS", "12"))
    )
    session_max_days: float = field(
        default_factory=lambda: float(os.environ.get("CLOODOT_SESSION_MAX_DAYS", "30"))
    )
    # Demo sign-in buttons: off unless CLOODOT_DEMO_MODE=1 (make run sets it).
    demo_mode: bool = field(default_factory=lambda: _flag(os.environ.get("CLOODOT_DEMO_MODE", "0")))
    # In demo mode, seconds between the demo messages one process of the deployment posts
    # into the demo workspace (cloodot_app/demo_traffic.py); 0 turns the traffic off.
    demo_traffic_seconds: float = field(
        default_factory=lambda: float(os.environ.get("CLOODOT_DEMO_TRAFFIC_SECONDS") or "8")
    )
    # Seconds between the background turns that count, once a day, the segments of every
    # workspace not counted yet today (cloodot_app/trend_counts.py); 0 turns them off
    # (pages still count at their first request of the day).
    trend_check_seconds: float = field(
        default_factory=lambda: float(os.environ.get("CLOODOT_TREND_CHECK_SECONDS") or "600")
    )
    # smtp://user:pass@host:587 (STARTTLS) or smtps://user:pass@host:465; unset: no mail,
    # links are shown to the admin or printed by `python -m cloodot_app.admin`.
    smtp_url: str | None = field(default_factory=lambda: os.environ.get("CLOODOT_SMTP_URL") or None)
    mail_from: str | None = field(
        default_factory=lambda: os.environ.get("CLOODOT_MAIL_FROM") or None
    )
    # Failed sign-ins allowed per account (email) and per client (IP) in a moving window,
    # in the `limits` library's notation.
    login_limit_account: str = field(
        default_factory=lambda: os.environ.get("CLOODOT_LOGIN_LIMIT_ACCOUNT", "5 per 15 minutes")
    )
    login_limit_client: str = field(
        default_factory=lambda: os.environ.get("CLOODOT_LOGIN_LIMIT_CLIENT", "20 per 15 minutes")
    )
    # WebChat messages allowed per visitor and per site in a moving window (`limits`
    # notation); counted in Redis when REDIS_URL is set.
    webchat_limit_visitor: str = field(
        default_factory=lambda: os.environ.get("CLOODOT_WEBCHAT_LIMIT_VISITOR", "10 per minute")
    )
    webchat_limit_site: str = field(
        default_factory=lambda: os.environ.get("CLOODOT_WEBCHAT_LIMIT_SITE", "120 per minute")
    )
    invitation_days: float = field(
        default_factory=lambda: float(os.environ.get("CLOODOT_INVITATION_DAYS", "7"))
    )
    # Signs CSV download tickets. Every worker and host must share it: one that signs with
    # its own random key refuses the tickets the others made (startup.check_configuration).
    secret_key: str | None = field(
        default_factory=lambda: os.environ.get("CLOODOT_SECRET_KEY") or None
    )
    # Granian's worker count for `reflex run --env prod`, if set (Reflex's own default is
    # one worker without Redis and 2 x CPUs + 1 with it).
    granian_workers: int | None = field(default_factory=lambda: _int_or_none("GRANIAN_WORKERS"))

    @property
    def several_workers(self) -> bool:
        """Whether more than one process serves the app: with Redis, Reflex starts several
        workers (and several hosts may share the state); GRANIAN_WORKERS can ask for more."""
        return self.redis_url is not None or (self.granian_workers or 1) > 1


def _flag(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


_DEFAULT_PORTS = {"http": 80, "https": 443}
_LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")


def web_origin(url: str) -> str:
    """The origin a browser sends for pages under `url`: scheme://host[:port], lower case,
    without the scheme's default port or any path (RFC 6454)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"CLOODOT_APP_URL must be an http(s) address, not {url!r}")
    host = _bracketed(parts.hostname)
    if parts.port in (None, _DEFAULT_PORTS[scheme]):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{parts.port}"


def _bracketed(hostname: str) -> str:
    return f"[{hostname}]" if ":" in hostname else hostname


def allowed_origins(app_url: str, dev_backend_port: int | None = None) -> list[str]:
    """The web origins whose pages may use the app's websocket, and its HTTP API with the
    browser's cookies: the app's own origin only.

    A loopback address also counts under its other loopback names (`make run` at
    http://127.0.0.1:3000 is the same app as at http://localhost:3000). In dev mode
    (`make dev`: `dev_backend_port` given) the pages come from the frontend server and the
    API answers on the backend's port, so the backend's origin on those hosts is allowed
    too.
    """
    origin = web_origin(app_url)
    parts = urlsplit(origin)
    host = _bracketed(parts.hostname or "")
    hosts = _LOOPBACK_HOSTS if host in _LOOPBACK_HOSTS else (host,)
    ports = [parts.port, dev_backend_port] if dev_backend_port else [parts.port]
    origins = [origin]
    for port in ports:
        for name in hosts:
            netloc = name if port is None else f"{name}:{port}"
            candidate = web_origin(f"{parts.scheme}://{netloc}")
            if candidate not in origins:
                origins.append(candidate)
    return origins


settings = Settings()
