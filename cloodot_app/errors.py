"""Every error a service raises for the user to read, in one place.

`UserError` is what a person can fix (a bad value, a deleted segment, a refused change):
its message is written for them and shown as is. Anything else that escapes a service is
a bug: it is logged with context and the user sees a short apology.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cloodot_app.services.importer import ImportReport


class UserError(ValueError):
    """An error whose message is written for the user."""


class NotFound(UserError, LookupError):
    """A contact, segment, label or field that is not in this workspace (or not anywhere)."""


class FilterError(UserError):
    """A filter spec that cannot be applied."""


class FieldValueError(UserError):
    """A value that cannot be stored in a field."""


class FieldDefinitionError(UserError):
    """A custom-field change that cannot be made (or needs confirming)."""


class LabelError(UserError):
    """A label that cannot be saved."""


class ExportError(UserError):
    """An export that cannot run."""


class TicketError(UserError):
    """An export ticket that is malformed, tampered with, used or expired (HTTP 403)."""


class CsvImportError(UserError):
    """A file or mapping that cannot be imported."""


class ImportInterrupted(CsvImportError):
    """The database failed part-way. Chunks before the failing one stay imported:
    `report` counts them (its rows are the ones done before the failure)."""

    def __init__(self, message: str, report: ImportReport) -> None:
        super().__init__(message)
        self.report = report


class UnknownChannel(UserError):
    """A channel name the ingestion endpoint does not serve."""


class ChannelError(UserError):
    """A channel connection that cannot be made or changed as asked."""


class SelectionChanged(UserError):
    """A bulk action's frozen selection no longer holds: nothing was done."""


class EditConflict(UserError):
    """Someone else changed the value after this editor read it: nothing was saved."""

    def __init__(self, message: str, current: Any) -> None:
        super().__init__(message)
        self.current = current


class AccessDenied(UserError, PermissionError):
    """No session, or a role that may not do this (HTTP 403): nothing was changed."""


class AuthError(UserError):
    """Sign-in refused. The one message never tells whether the email has an account."""


class PasswordError(UserError):
    """A new password that breaks a password rule."""


class AccountError(UserError):
    """An account, invitation, reset link or membership change that cannot be made."""


class MailError(UserError):
    """The mail server refused or could not be reached."""
