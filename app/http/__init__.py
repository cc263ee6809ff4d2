"""Pure ASGI middleware guarding every HTTP request: body size, security headers."""
