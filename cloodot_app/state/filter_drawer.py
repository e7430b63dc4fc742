"""The Quick Filter drawer: conditions being edited, before they are applied to the table."""

from __future__ import annotations

from typing import Any

import reflex as rx

from cloodot_app.access import Capability
from cloodot_app.filters import FilterError, FilterSpec, validate_spec
from cloodot_app.state.access import requires
from cloodot_app.state.condition_builder import ConditionBuilderMixin, _fresh_draft
from cloodot_app.state.contacts import ContactsState


class FilterDrawerState(ConditionBuilderMixin, rx.State):
    """Draft conditions in the drawer; Apply hands a validated spec to the table."""

    is_open: bool = False
    error: str = ""

    @requires(Capability.VIEW)
    async def open_with(self, spec: dict[str, Any]):
        """Open the drawer showing the filter the table has now."""
        await self._load_drafts(spec)
        self.error = ""
        self.is_open = True

    @requires(Capability.VIEW)
    def set_open(self, value: bool):
        self.is_open = value

    @requires(Capability.VIEW)
    async def apply(self):
        """Validate at the service layer; apply only a spec that is valid as a whole."""
        catalog = await self._catalog()
        try:
            checked = validate_spec(FilterSpec.parse(self._draft_spec()), catalog)
        except FilterError as error:
            self.error = str(error)
            return
        self.error = ""
        self.is_open = False
        return ContactsState.apply_filter(checked.model_dump(mode="json"))

    @requires(Capability.VIEW)
    def clear(self):
        self.drafts = [_fresh_draft(self.fields[0], "contains")] if self.fields else []
        self.error = ""
        self.is_open = False
        return ContactsState.apply_filter({"match": "all", "conditions": []})
