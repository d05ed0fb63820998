"""Who may use the admin pages and the admin API: the admin password, as a FastAPI dependency.

Owns the decision and its error responses; not the password check itself (`web.security`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from broadsheet.web.context import WebContext, get_context
from broadsheet.web.security import check_admin

__all__ = ["require_admin"]


def require_admin(request: Request, ctx: Annotated[WebContext, Depends(get_context)]) -> None:
    password = ctx.settings.admin_password.get_secret_value()
    if not password:
        raise HTTPException(403, "The admin pages are off: set BROADSHEET_ADMIN_PASSWORD (or admin_password in "
                                 "broadsheet.toml) and restart.")  # fmt: skip
    if not check_admin(password, request.headers.get("authorization")):
        raise HTTPException(
            401, "The admin password is needed.", {"WWW-Authenticate": 'Basic realm="broadsheet"'}
        )
