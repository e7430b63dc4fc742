"""Every HTTP route declares who may call it (api.rule), as every event handler does."""

from __future__ import annotations

from cloodot_app.api import ROUTE_RULES, build_api


def test_every_route_declares_who_may_call_it():
    routes = build_api().routes
    undeclared = [route.path for route in routes if route.endpoint.__name__ not in ROUTE_RULES]
    assert undeclared == []
    assert len(routes) >= 5
