"""Small page pieces shared by the side panel's sections."""

from __future__ import annotations

from trame.widgets import html
from trame.widgets import vuetify3 as v3


def testid(name: str) -> list[str]:
    return [f'data-testid="{name}"']


def task_progress(prefix: str, cancel_trigger: str | None = None) -> None:
    """Progress bar, message, error and cancel of a ``PageTask`` whose state keys start with ``prefix``."""
    with html.Div(v_if=f"{prefix}_running", classes="d-flex align-center ga-2 mt-2"):
        v3.VProgressLinear(model_value=(f"{prefix}_progress",), indeterminate=(f"{prefix}_progress === 0",),
                           height=8, rounded=True, color="primary", raw_attrs=testid(f"{prefix}-progress"))
        if cancel_trigger:
            v3.VBtn("Cancel", click=f"trigger('{cancel_trigger}')", size="small", variant="outlined",
                    raw_attrs=testid(f"{prefix}-cancel"))
    html.Div(f"{{{{ {prefix}_message }}}}", classes="text-caption mt-1", raw_attrs=testid(f"{prefix}-message"))
    html.Div(f"{{{{ {prefix}_error }}}}", v_if=f"{prefix}_error", classes="text-error text-body-2",
             raw_attrs=testid(f"{prefix}-error"))
