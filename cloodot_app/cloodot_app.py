"""The Reflex app: pages, the HTTP API beside them, and start-up (migrate, demo data)."""

import logging

import reflex as rx

from cloodot_app import routes
from cloodot_app.api import build_api
from cloodot_app.pages.contacts import contacts_page
from cloodot_app.pages.importer import import_page
from cloodot_app.pages.leads import leads_page
from cloodot_app.pages.segments import segments_page
from cloodot_app.pages.settings import custom_fields_page, labels_page
from cloodot_app.startup import prepare_database
from cloodot_app.state.columns import ColumnsState
from cloodot_app.state.contacts import ContactsState
from cloodot_app.state.custom_fields import CustomFieldsState
from cloodot_app.state.labels import LabelsState
from cloodot_app.state.leads import LeadsState
from cloodot_app.state.live import LiveState
from cloodot_app.state.segments import SegmentsState

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

for route in (routes.CONTACTS, routes.CONTACTS_ALL):
    app.add_page(
        contacts_page,
        route=route,
        title="All contacts · Cloodot",
        on_load=[LiveState.stop, ContactsState.load_from_url, ColumnsState.load_columns],
    )

app.add_page(
    segments_page, route=routes.SEGMENTS, title="Segments · Cloodot", on_load=SegmentsState.load
)
app.add_page(
    leads_page,
    route=routes.LEADS,
    title="Leads · Cloodot",
    on_load=[LiveState.stop, LeadsState.load],
)
app.add_page(labels_page, route=routes.LABELS, title="Labels · Cloodot", on_load=LabelsState.load)
app.add_page(
    custom_fields_page,
    route=routes.CUSTOM_FIELDS,
    title="Custom fields · Cloodot",
    on_load=CustomFieldsState.load,
)
app.add_page(import_page, route=routes.IMPORT, title="Import contacts · Cloodot")
