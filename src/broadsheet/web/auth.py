"""Who may use the admin pages and the admin API: the admin password, as a FastAPI dependency.

Owns the decision and its error responses; not the password check itself (`web.security`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from broadsheet.web.context import WebContext, get_context
from broadsheet.web.security import check_admin

__all__ = ["ADMIN_OFF", "ASK_FOR_PASSWORD", "PASSWORD_NEEDED", "require_admin"]


ADMIN_OFF = "The admin pages are off: set BROADSHEET_ADMIN_PASSWORD (or admin_password in broadsheet.toml) and restart."
PASSWORD_NEEDED = "The admin password is needed."
ASK_FOR_PASSWORD = {"WWW-Authenticate": 'Basic realm="broadsheet"'}


def require_admin(request: Request, ctx: Annotated[WebContext, Depends(get_context)]) -> None:
    """The admin routes' own check, behind the gate's (`web.gate`), which has already refused and counted
    wrong passwords before any body was read."""
    password = ctx.settings.admin_password.get_secret_value()
    if not password:
        raise HTTPException(403, ADMIN_OFF)
    if not check_admin(password, request.headers.get("authorization")):
        raise HTTPException(401, PASSWORD_NEEDED, ASK_FOR_PASSWORD)
