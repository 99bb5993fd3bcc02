"""GET /portal and /portal/{proxy+}: the web portal's static files (built by `make install` from portal/ into
static/) and its runtime configuration (config.json). Public: the files hold no data; the portal signs in and
calls the API with a bearer token like any client. No table access."""

import json
import os
from pathlib import Path

STATIC = Path(__file__).parent / "static"
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
}
# The portal calls its own origin (the same HTTP API); scripts only from it.
SECURITY = {
    "content-security-policy": "default-src 'self'; connect-src 'self' https://*.amazoncognito.com; "
    "img-src 'self' data: blob:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


def config() -> dict:
    """What the browser needs at run time. The development login exists only where the local server set
    LOCAL_DEV_LOGIN=true (tools/local_server.py); the deployed stack always signs in with Cognito."""
    local = os.environ.get("LOCAL_DEV_LOGIN") == "true"
    domain = os.environ.get("PORTAL_COGNITO_DOMAIN", "")
    origin = os.environ.get("PORTAL_ORIGIN", "").rstrip("/")
    return {
        "api_base": os.environ.get("PORTAL_API_BASE", ""),
        "auth": "local" if local else "cognito",
        "sandbox": local and os.environ.get("PAYMENT_PROVIDER", "sandbox") == "sandbox",
        "cognito_domain": domain,
        "client_id": os.environ.get("PORTAL_CLIENT_ID", ""),
        "redirect_uri": f"{origin}/portal" if origin else "",
    }


def _answer(status: int, body: str, content_type: str, cache: str) -> dict:
    headers = {"content-type": content_type, "cache-control": cache, **SECURITY}
    return {"statusCode": status, "headers": headers, "body": body}


def lambda_handler(event: dict, context: object) -> dict:
    name = (event.get("pathParameters") or {}).get("proxy") or "index.html"
    if name == "config.json":
        return _answer(200, json.dumps(config()), TYPES[".json"], "no-store")
    path = (STATIC / name).resolve()
    if not path.is_relative_to(STATIC.resolve()) or not path.is_file() or path.suffix not in TYPES:
        # A page of the portal itself (the routes are in the URL's hash) or a file that is not there.
        if "." in name.rsplit("/", 1)[-1]:
            return _answer(404, json.dumps({"message": "Not Found"}), "application/json", "no-store")
        path = STATIC / "index.html"
    cache = "no-cache" if path.suffix == ".html" else "public, max-age=300"
    return _answer(200, path.read_text(encoding="utf-8"), TYPES[path.suffix], cache)
