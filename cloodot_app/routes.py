"""Every route of the app, page and HTTP, in one place."""

CONTACTS = "/"
CONTACTS_ALL = "/contacts"
LEADS = "/contacts/leads"
SEGMENTS = "/contacts/segments"

API_CHANNEL_MESSAGES = "/api/channels/{channel}/messages"
API_CONTACTS_EXPORT = "/api/contacts/export.csv"
LABELS = "/settings/labels"
CUSTOM_FIELDS = "/settings/fields"
IMPORT = "/contacts/import"
API_IMPORT_ERRORS = "/api/imports/{token}/errors.csv"
