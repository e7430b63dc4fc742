"""Every route of the app, page and HTTP, in one place."""

CONTACTS = "/"
CONTACTS_ALL = "/contacts"
LEADS = "/contacts/leads"
SEGMENTS = "/contacts/segments"
IMPORT = "/contacts/import"
DUPLICATES = "/contacts/duplicates"
LABELS = "/settings/labels"
CUSTOM_FIELDS = "/settings/fields"
MEMBERS = "/settings/members"
AUDIT_LOG = "/settings/audit"
CHANNELS = "/settings/channels"

# Before sign-in.
SIGN_IN = "/signin"
FORGOT_PASSWORD = "/forgot-password"
RESET_PASSWORD = "/reset-password"
ACCEPT_INVITATION = "/accept-invitation"

API_CHANNEL_MESSAGES = "/api/channels/{channel}/messages"
# A WhatsApp, Messenger or Instagram connection's webhook (the key is the connection's).
API_WEBHOOK = "/api/webhooks/{key}"
# The WebChat widget (assets/webchat.js): the key is the site's.
API_WEBCHAT_HELLO = "/api/webchat/{key}/hello"
API_WEBCHAT_MESSAGES = "/api/webchat/{key}/messages"
# Demo mode: a sample website with the WebChat widget on it.
DEMO_WEBCHAT = "/demo/webchat"
API_CONTACTS_EXPORT = "/api/contacts/export.csv"
API_IMPORT_ERRORS = "/api/imports/{token}/errors.csv"
API_SESSION_START = "/api/session/start"
API_SESSION_END = "/api/session/end"
