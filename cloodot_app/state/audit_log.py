"""Settings → Audit log: the workspace's entries, newest first, filtered by action, member
and dates (days in the viewer's time zone), one page at a time."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import reflex as rx

from cloodot_app.access import Capability
from cloodot_app.services import audit
from cloodot_app.state.access import in_workspace, requires

ANY = "__any__"  # a select item cannot have "" as its value
PAGE_SIZE = 25
# The browser's IANA time zone ("Europe/Madrid"), asked once the page has loaded.
TIME_ZONE_SCRIPT = "Intl.DateTimeFormat().resolvedOptions().timeZone"


@dataclasses.dataclass
class AuditLine:
    """One entry as the table shows it."""

    id: int = 0
    at: str = ""  # ISO 8601, shown relative with the exact time on hover
    who: str = ""
    who_email: str = ""
    action: str = ""
    action_words: str = ""
    summary: str = ""


@dataclasses.dataclass
class Choice:
    value: str = ""
    label: str = ""


def _line(row: audit.AuditRow) -> AuditLine:
    return AuditLine(
        id=row.id,
        at=row.created_at.isoformat(),
        who=row.who,
        who_email=row.actor_email if row.actor_email != row.who else "",
        action=row.action,
        action_words=audit.action_words(row.action),
        summary=row.summary,
    )


def _day(value: str) -> date | None:
    """A date input's value ("2026-11-20"); None when empty. ValueError when unreadable."""
    return date.fromisoformat(value) if value else None


class AuditLogState(rx.State):
    entries: list[AuditLine] = []
    total: int = 0
    page: int = 1
    loading: bool = True
    actions: list[Choice] = []
    actors: list[Choice] = []
    action: str = ANY
    actor: str = ANY
    date_from: str = ""
    date_to: str = ""
    error: str = ""
    _time_zone: str = "UTC"

    @rx.var
    def page_count(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))

    @rx.var
    def filtered(self) -> bool:
        return (self.action, self.actor, self.date_from, self.date_to) != (ANY, ANY, "", "")

    @rx.var
    def range_label(self) -> str:
        if self.total == 0:
            return "No entries"
        first = (self.page - 1) * PAGE_SIZE + 1
        last = min(self.page * PAGE_SIZE, self.total)
        noun = "entry" if self.total == 1 else "entries"
        return f"{first:,}–{last:,} of {self.total:,} {noun}"

    @requires(Capability.MANAGE_WORKSPACE)
    async def load(self):
        await self._load()
        return rx.call_script(TIME_ZONE_SCRIPT, callback=AuditLogState.set_time_zone)

    @requires(Capability.MANAGE_WORKSPACE)
    async def set_time_zone(self, name: str):
        """The viewer's time zone: the days of the date filters are theirs."""
        try:
            ZoneInfo(str(name))
        except (ZoneInfoNotFoundError, ValueError):
            return
        if name != self._time_zone:
            self._time_zone = name
            if self.date_from or self.date_to:
                await self._load()

    @requires(Capability.MANAGE_WORKSPACE)
    async def set_action(self, value: str):
        self.action, self.page = value or ANY, 1
        await self._load()

    @requires(Capability.MANAGE_WORKSPACE)
    async def set_actor(self, value: str):
        self.actor, self.page = value or ANY, 1
        await self._load()

    @requires(Capability.MANAGE_WORKSPACE)
    async def set_date_from(self, value: str):
        self.date_from, self.page = value, 1
        await self._load()

    @requires(Capability.MANAGE_WORKSPACE)
    async def set_date_to(self, value: str):
        self.date_to, self.page = value, 1
        await self._load()

    @requires(Capability.MANAGE_WORKSPACE)
    async def clear_filters(self):
        self.action, self.actor, self.date_from, self.date_to, self.page = ANY, ANY, "", "", 1
        await self._load()

    @requires(Capability.MANAGE_WORKSPACE)
    async def next_page(self):
        if self.page < self.page_count:
            self.page += 1
            await self._load()

    @requires(Capability.MANAGE_WORKSPACE)
    async def previous_page(self):
        if self.page > 1:
            self.page -= 1
            await self._load()

    def _range(self) -> tuple[datetime | None, datetime | None]:
        """The date filters as [since, until) instants: whole days in the viewer's zone,
        "to" included. ValueError (a message for the user) when they cannot be read."""
        try:
            first, last = _day(self.date_from), _day(self.date_to)
        except ValueError:
            raise ValueError("Enter the dates as shown by the date picker.") from None
        if first and last and first > last:
            raise ValueError("The “From” date is after the “To” date.")
        zone = ZoneInfo(self._time_zone)
        since = datetime.combine(first, time(), zone) if first else None
        until = datetime.combine(last + timedelta(days=1), time(), zone) if last else None
        return since, until

    async def _load(self) -> None:
        try:
            since, until = self._range()
        except ValueError as error:
            self.error, self.entries, self.total, self.loading = str(error), [], 0, False
            return
        actor = int(self.actor) if self.actor.isdigit() else None
        result = await in_workspace(
            audit.audit_log_page,
            None if self.action == ANY else self.action,
            actor,
            since,
            until,
            self.page,
            PAGE_SIZE,
        )
        self.entries = [_line(row) for row in result.rows]
        self.total, self.error, self.loading = result.total, "", False
        self.actions = [Choice(a, audit.action_words(a)) for a in result.actions]
        self.actors = [Choice(str(a.user_id), a.name) for a in result.actors]
