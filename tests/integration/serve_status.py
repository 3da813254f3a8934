"""GET /api/v1/status of a running Controller, as `ccctl status` reads it."""

from ccctl.config import Settings
from ccctl.serve.client import fetch_status


def status_of(controller) -> dict:
    host, port = controller.web_address
    settings = Settings()
    settings.web.host, settings.web.port = host, port
    return fetch_status(settings)
