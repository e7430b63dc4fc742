"""The Reflex app: pages, the HTTP API beside them, and start-up (migrate, demo data)."""

import logging

import reflex as rx

from cloodot_app import routes
from cloodot_app.api import build_api
from cloodot_app.demo_traffic import run_demo_traffic
from cloodot_app.pages.audit_log import audit_log_page
from cloodot_app.pages.channels import channels_page
from cloodot_app.pages.contacts import contacts_page
from cloodot_app.pages.duplicates import duplicates_page
from cloodot_app.pages.importer import import_page
from cloodot_app.pages.leads import leads_page
from cloodot_app.pages.members import members_page
from cloodot_app.pages.segments import segments_page
from cloodot_app.pages.settings import custom_fields_page, labels_page
from cloodot_app.pages.sign_in import (
    accept_invitation_page,
    forgot_password_page,
    reset_password_page,
    sign_in_page,
)
from cloodot_app.startup import prepare_database
from cloodot_app.state.audit_log import AuditLogState
from cloodot_app.state.channels import ChannelConnectionsState
from cloodot_app.state.columns import ColumnsState
from cloodot_app.state.contacts import ContactsState
from cloodot_app.state.custom_fields import CustomFieldsState
from cloodot_app.state.duplicates import DuplicatesState
from cloodot_app.state.labels import LabelsState
from cloodot_app.state.leads import LeadsState
from cloodot_app.state.live import LiveState
from cloodot_app.state.members import MembersState
from cloodot_app.state.segments import SegmentsState
from cloodot_app.state.session import SessionState
from cloodot_app.state.sign_in import InvitationState
from cloodot_app.trend_counts import run_trend_counts

logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
logging.getLogger("alembic").setLevel(logging.WARNING)

app = rx.App(
    api_transformer=build_api(),
    stylesheets=["/styles.css"],
    head_components=[
        rx.el.link(rel="icon", href="/favicon.svg", type="image/svg+xml"),
        rx.script(src="/autoload.js"),
    ],
)
app.register_lifespan_task(prepare_database)
app.register_lifespan_task(run_demo_traffic)
app.register_lifespan_task(run_trend_counts)


def signed_in_page(component, route: str, title: str, *on_load) -> None:
    """A page behind sign-in: SessionState.load runs first (it sends a tab without a valid
    session to the sign-in page), then the page's own loads."""
    app.add_page(
        component, route=route, title=f"{title} · Cloodot", on_load=[SessionState.load, *on_load]
    )


for route in (routes.CONTACTS, routes.CONTACTS_ALL):
    signed_in_page(
        contacts_page,
        route,
        "All contacts",
        LiveState.stop,
        ContactsState.load_from_url,
        ColumnsState.load_columns,
    )
signed_in_page(segments_page, routes.SEGMENTS, "Segments", SegmentsState.load)
signed_in_page(leads_page, routes.LEADS, "Leads", LiveState.stop, LeadsState.load)
signed_in_page(labels_page, routes.LABELS, "Labels", LabelsState.load)
signed_in_page(custom_fields_page, routes.CUSTOM_FIELDS, "Custom fields", CustomFieldsState.load)
signed_in_page(import_page, routes.IMPORT, "Import contacts")
signed_in_page(duplicates_page, routes.DUPLICATES, "Possible duplicates", DuplicatesState.load)
signed_in_page(members_page, routes.MEMBERS, "Members", MembersState.load)
signed_in_page(audit_log_page, routes.AUDIT_LOG, "Audit log", AuditLogState.load)
signed_in_page(channels_page, routes.CHANNELS, "Channels", ChannelConnectionsState.load)

app.add_page(sign_in_page, route=routes.SIGN_IN, title="Sign in · Cloodot")
app.add_page(forgot_password_page, route=routes.FORGOT_PASSWORD, title="Forgot password · Cloodot")
app.add_page(reset_password_page, route=routes.RESET_PASSWORD, title="New password · Cloodot")
app.add_page(
    accept_invitation_page,
    route=routes.ACCEPT_INVITATION,
    title="Join a workspace · Cloodot",
    on_load=InvitationState.load,
)
