"""/docs: the API's reference rendered from its OpenAPI schema, server-side (no CDN script, no JavaScript)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, Response

from broadsheet.web.context import Ctx

__all__ = ["router"]

router = APIRouter(default_response_class=HTMLResponse, include_in_schema=False)


def endpoints(schema: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for path, methods in schema.get("paths", {}).items():
        for method, op in methods.items():
            params = [
                {"name": p["name"], "where": p["in"], "required": p.get("required", False),
                 "description": p.get("description", "")}
                for p in op.get("parameters", [])
            ]  # fmt: skip
            rows.append(
                {"method": method.upper(), "path": path, "summary": op.get("summary", ""), "params": params}
            )
    return rows


@router.get("/docs")
def api_docs(ctx: Ctx, request: Request) -> Response:
    return ctx.render(request, "docs.html", endpoints=endpoints(request.app.openapi()))
