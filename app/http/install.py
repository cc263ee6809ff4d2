"""Wiring the guards into an app, outermost first: security headers, CORS (only when
origins are configured), the body size limit, the WebSocket limits."""

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app.auth.ratelimit import LoginRateLimit
from app.config import Settings
from app.http.headers import SecurityHeaders
from app.http.limits import BodySizeLimit
from app.realtime.limits import SocketLimits

# What the API's clients send and may read beyond the CORS-safelisted headers.
CORS_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key", "Accept-Language"]
CORS_EXPOSED = ["Retry-After"]


def install_guards(app: FastAPI, settings: Settings) -> None:
    app.state.login_rate_limit = LoginRateLimit(
        settings.login_rate_account_address,
        settings.login_rate_address,
        settings.login_rate_account,
        settings.redis_url,
        settings.redis_channel,
    )
    # add_middleware puts each in front of those added before it.
    app.add_middleware(
        SocketLimits,
        per_address=settings.ws_connections_per_address,
        message_rate=settings.ws_message_rate,
    )
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=CORS_HEADERS,
            expose_headers=CORS_EXPOSED,
            allow_credentials=False,  # bearer tokens, never cookies
            max_age=600,
        )
    app.add_middleware(
        SecurityHeaders,
        display_frame_ancestors=settings.display_frame_ancestors,
        docs_paths=(app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url),
    )
