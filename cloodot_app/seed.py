"""Deterministic demo data: contacts, labels, custom fields, conversations, messages, segments.

    python -m cloodot_app.seed --contacts 500
    python -m cloodot_app.seed --contacts 1000000 --database-url sqlite:////tmp/big.db

Same `seed` and same `now` give identical rows. Names, emails and phones come from pools
generated once with Faker (seeded) and combined with one `random.Random(seed)`, so the hot
loop makes no Faker calls. Rows are written with bulk inserts and ids assigned here; on
SQLite the search-index triggers are dropped for the load and the FTS5 index is rebuilt
once at the end (a million contacts load in a few minutes on two cores).
"""

from __future__ import annotations

import argparse
import bisect
import json
import random
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app import search_index
from cloodot_app.db import make_engine, migrate
from cloodot_app.filters import FilterSpec, validate_spec
from cloodot_app.models import (
    Channel,
    Contact,
    ContactLabel,
    Conversation,
    ConversationLabel,
    CustomFieldDefinition,
    FieldEntity,
    Label,
    Message,
    Segment,
    SegmentDailyCount,
    Workspace,
)
from cloodot_app.services import segment_trends
from cloodot_app.services.workspaces import ensure_workspace, field_catalog

RADIX_COLORS = (
    "tomato",
    "red",
    "crimson",
    "pink",
    "plum",
    "purple",
    "violet",
    "iris",
    "indigo",
    "blue",
    "cyan",
    "teal",
    "jade",
    "green",
    "grass",
    "orange",
    "amber",
)

LABELS: tuple[tuple[str, str], ...] = (
    ("VIP", "amber"),
    ("Lead", "blue"),
    ("Customer", "green"),
    ("Churn risk", "red"),
    ("Support", "violet"),
    ("Newsletter", "cyan"),
)

PLANS = ["Free", "Starter", "Pro", "Enterprise"]
INTERESTS = ["Fashion", "Sneakers", "Electronics", "Home", "Beauty", "Sports", "Books", "Travel"]
TOPICS = [
    "Order status",
    "Returns",
    "Billing",
    "Product question",
    "Shipping",
    "Technical issue",
    "Other",
]
PRIORITIES = ["Low", "Normal", "High", "Urgent"]

# (entity, key, label, type, options): one contact field of every type, and a few
# conversation fields.
CUSTOM_FIELDS: tuple[tuple[str, str, str, str, list[str]], ...] = (
    ("contact", "city", "City", "text", []),
    ("contact", "website", "Website", "url", []),
    ("contact", "work_phone", "Work phone", "phone", []),
    ("contact", "billing_email", "Billing email", "email", []),
    ("contact", "lifetime_value", "Lifetime value", "number", []),
    ("contact", "plan", "Plan", "select", PLANS),
    ("contact", "interests", "Interests", "multi_select", INTERESTS),
    ("contact", "renewal_date", "Renewal date", "date", []),
    ("conversation", "topic", "Topic", "select", TOPICS),
    ("conversation", "priority", "Priority", "select", PRIORITIES),
    ("conversation", "order_id", "Order ID", "text", []),
    ("conversation", "order_value", "Order value", "number", []),
)


def segment_definitions(label_ids: dict[str, int]) -> list[dict[str, Any]]:
    """The six demo segments (rules, never ids of contacts)."""
    return [
        {
            "name": "High-value customers",
            "description": "Lifetime value of 1,000 or more.",
            "color": "amber",
            "filter_spec": {
                "match": "all",
                "conditions": [
                    {"field": "cf.lifetime_value", "operator": "gte", "value": 1000},
                ],
            },
        },
        {
            "name": "Recent WhatsApp leads",
            "description": "Came in through WhatsApp in the last 30 days.",
            "color": "green",
            "filter_spec": {
                "match": "all",
                "conditions": [
                    {"field": "channel", "operator": "is", "value": "whatsapp"},
                    {"field": "created_at", "operator": "within_last_days", "value": 30},
                ],
            },
        },
        {
            "name": "No reply in 7 days",
            "description": "Have talked to us, but not in the last week.",
            "color": "tomato",
            "filter_spec": {
                "match": "all",
                "conditions": [
                    {"field": "last_interaction_at", "operator": "more_than_days_ago", "value": 7},
                    {"field": "has_conversations", "operator": "is", "value": True},
                ],
            },
        },
        {
            "name": "VIP",
            "description": "Everyone labelled VIP.",
            "color": "violet",
            "filter_spec": {
                "match": "all",
                "conditions": [
                    {"field": "label", "operator": "has_any_of", "value": [label_ids["VIP"]]},
                ],
            },
        },
        {
            "name": "Newsletter subscribers",
            "description": "Opted in to campaigns.",
            "color": "cyan",
            "filter_spec": {
                "match": "all",
                "conditions": [
                    {"field": "campaign_opt_in", "operator": "is", "value": True},
                ],
            },
        },
        {
            "name": "Enterprise plan",
            "description": "Customers on the Enterprise plan.",
            "color": "indigo",
            "filter_spec": {
                "match": "all",
                "conditions": [
                    {"field": "cf.plan", "operator": "is", "value": "Enterprise"},
                ],
            },
        },
    ]


# --------------------------------------------------------------------------- regions


@dataclass(frozen=True)
class Region:
    """Where a contact is from: the Faker locale for names and the country for phones."""

    locale: str
    weight: float
    calling_code: str
    # National-number prefixes of mobile ranges; six random digits complete the number.
    phone_prefixes: tuple[str, ...]
    email_domains: tuple[str, ...]
    cities: tuple[str, ...]
    script: str = "latin"  # "latin" | "japanese" | "other" (names not in Latin script)


REGIONS: tuple[Region, ...] = (
    Region(
        "en_US",
        20,
        "1",
        ("2128", "3105", "4157", "5129", "6173", "3056", "2064", "3127", "7028", "4045"),
        ("gmail.com", "yahoo.com", "outlook.com", "icloud.com", "hotmail.com", "aol.com"),
        ("New York", "Los Angeles", "Chicago", "Austin", "Seattle", "Miami", "Denver", "Boston"),
    ),
    Region(
        "en_GB",
        9,
        "44",
        ("7400", "7712", "7823", "7903", "7501", "7958"),
        ("gmail.com", "hotmail.co.uk", "outlook.com", "yahoo.co.uk", "btinternet.com"),
        ("London", "Manchester", "Bristol", "Leeds", "Glasgow", "Edinburgh", "Liverpool"),
    ),
    Region(
        "es_ES",
        7,
        "34",
        ("612", "622", "634", "655", "686", "699"),
        ("gmail.com", "hotmail.es", "yahoo.es", "outlook.es", "telefonica.net"),
        ("Madrid", "Barcelona", "Valencia", "Sevilla", "Bilbao", "Málaga", "Zaragoza"),
    ),
    Region(
        "es_MX",
        6,
        "52",
        ("5512", "3312", "8112", "2221", "6641", "5534"),
        ("gmail.com", "hotmail.com", "outlook.com", "yahoo.com.mx", "prodigy.net.mx"),
        ("Ciudad de México", "Guadalajara", "Monterrey", "Puebla", "Tijuana", "Mérida"),
    ),
    Region(
        "de_DE",
        7,
        "49",
        ("15112", "16012", "17045", "17612", "15790", "15223"),
        ("gmail.com", "gmx.de", "web.de", "t-online.de", "outlook.de"),
        ("Berlin", "Hamburg", "München", "Köln", "Frankfurt am Main", "Stuttgart", "Leipzig"),
    ),
    Region(
        "fr_FR",
        7,
        "33",
        ("612", "645", "678", "752", "767", "698"),
        ("gmail.com", "orange.fr", "free.fr", "hotmail.fr", "laposte.net", "sfr.fr"),
        ("Paris", "Lyon", "Marseille", "Toulouse", "Bordeaux", "Lille", "Nantes"),
    ),
    Region(
        "pt_BR",
        10,
        "55",
        ("11991", "21987", "31996", "41988", "51992", "71993"),
        ("gmail.com", "hotmail.com", "outlook.com", "uol.com.br", "bol.com.br", "yahoo.com.br"),
        ("São Paulo", "Rio de Janeiro", "Belo Horizonte", "Curitiba", "Porto Alegre", "Salvador"),
    ),
    Region(
        "it_IT",
        6,
        "39",
        ("3201", "3334", "3471", "3388", "3923", "3296"),
        ("gmail.com", "libero.it", "hotmail.it", "virgilio.it", "alice.it"),
        ("Roma", "Milano", "Napoli", "Torino", "Bologna", "Firenze", "Palermo"),
    ),
    Region(
        "en_IN",
        8,
        "91",
        ("9810", "9920", "8123", "7042", "9845", "9176"),
        ("gmail.com", "yahoo.co.in", "rediffmail.com", "outlook.com", "hotmail.com"),
        ("Mumbai", "Delhi", "Bengaluru", "Hyderabad", "Chennai", "Pune", "Kolkata"),
    ),
    Region(
        "hi_IN",
        2,
        "91",
        ("9811", "9921", "8124", "7043"),
        ("gmail.com", "yahoo.co.in", "rediffmail.com"),
        ("Jaipur", "Lucknow", "Kanpur", "Indore", "Bhopal", "Varanasi"),
        script="other",
    ),
    Region(
        "ar_AA",
        4,
        "971",
        ("501", "523", "554", "561", "585"),
        ("gmail.com", "hotmail.com", "outlook.com", "yahoo.com"),
        ("Dubai", "Abu Dhabi", "Sharjah", "Al Ain", "Ajman"),
        script="other",
    ),
    Region(
        "ar_AA",
        3,
        "966",
        ("501", "533", "555", "569", "598"),
        ("gmail.com", "hotmail.com", "outlook.com", "yahoo.com"),
        ("Riyadh", "Jeddah", "Dammam", "Mecca", "Medina"),
        script="other",
    ),
    Region(
        "ja_JP",
        6,
        "81",
        ("9012", "8034", "7056", "9087", "8065", "9023"),
        ("gmail.com", "yahoo.co.jp", "docomo.ne.jp", "icloud.com", "outlook.jp"),
        ("東京", "大阪", "横浜", "名古屋", "札幌", "福岡", "京都"),
        script="japanese",
    ),
)

# Channel -> (weight, share with a phone, share with an email).
CHANNELS: dict[str, tuple[float, float, float]] = {
    Channel.INSTAGRAM.value: (25, 0.2, 0.6),
    Channel.FACEBOOK.value: (15, 0.25, 0.7),
    Channel.WHATSAPP.value: (32, 1.0, 0.55),
    Channel.WEBCHAT.value: (13, 0.4, 0.85),
    Channel.IMPORTED.value: (15, 0.7, 0.95),
}

# --------------------------------------------------------------------------- messages

# topic -> (customer openers, agent answers)
_TOPIC_TEXTS: dict[str, tuple[list[str], list[str]]] = {
    "Order status": (
        [
            "Hi, where is my order {order}?",
            "Hello! Any update on order {order}? It's been a week.",
            "Can you tell me when {order} will arrive?",
            "My order {order} still says processing, is everything ok?",
        ],
        [
            "Your order {order} shipped yesterday and should arrive in 2–3 days.",
            "I can see {order} is being packed today; you'll get a tracking link by email.",
            "Good news, {order} is out for delivery today!",
        ],
    ),
    "Returns": (
        [
            "I'd like to return the shoes from order {order}, they're too small.",
            "How do I send back an item? It arrived damaged.",
            "Is it possible to exchange for a different size?",
            "I sent the return last Monday, when will I get my refund?",
        ],
        [
            "I've started the return for you. You'll get a prepaid label by email.",
            "Refunds take 5–7 business days once we receive the item.",
            "Sorry about that! We'll send a replacement right away.",
        ],
    ),
    "Billing": (
        [
            "I was charged twice this month, can you check?",
            "Can I get an invoice with my company details?",
            "My card was declined but the money left my account.",
            "How do I update my payment method?",
        ],
        [
            "I've refunded the duplicate charge; it can take a few days to show.",
            "Here's your invoice, with the company details added.",
            "You can update your card under Settings → Billing.",
        ],
    ),
    "Product question": (
        [
            "Do you have this in blue?",
            "Is the large size back in stock?",
            "What's the difference between the Pro and the Starter plan?",
            "Does it come with a warranty?",
            "Hi! Can you deliver this to {city}?",
        ],
        [
            "Yes, it's back in stock in all sizes!",
            "The Pro plan adds automations and unlimited seats.",
            "Every product comes with a 2-year warranty.",
            "We do deliver to {city} 🙂",
        ],
    ),
    "Shipping": (
        [
            "Do you ship to {city}?",
            "How much is express shipping?",
            "The tracking link isn't working.",
            "The courier left a note but I was home all day 😕",
        ],
        [
            "We ship to {city}; express delivery takes 1–2 days.",
            "Here is your updated tracking link.",
            "I've asked the courier to try again tomorrow morning.",
        ],
    ),
    "Technical issue": (
        [
            "The app keeps logging me out.",
            "I can't reset my password, the email never arrives.",
            "The checkout page shows an error when I pay.",
        ],
        [
            "Could you try updating the app to the latest version?",
            "I've sent a new reset link, please check your spam folder too.",
            "Thanks for reporting it! Our team fixed the checkout error.",
        ],
    ),
    "Other": (
        [
            "Hi 👋",
            "Hello, are you open on Sundays?",
            "Can I speak to someone from sales?",
            "Do you have a store in {city}?",
        ],
        [
            "We're open every day from 9am to 8pm.",
            "Sure! Someone from our sales team will reach out today.",
            "Our nearest store is in the city centre.",
        ],
    ),
}
_GREETINGS = [
    "Hi {first}! Thanks for reaching out, let me check that for you.",
    "Hello {first}, happy to help. One moment please.",
    "Thanks for your message! Let me look into it.",
]
_FOLLOW_UPS = [
    "Thanks, that helps.",
    "Ok great 🙏",
    "Perfect, thank you!",
    "Still nothing on my side.",
    "Yes, it's {order}.",
    "Got it, I'll wait.",
    "Can you call me instead?",
    "Awesome, appreciate it!",
    "Thank you so much!!",
    "Ok, and how long does that take?",
]
_CLOSERS = [
    "Anything else I can help with?",
    "You're welcome, have a great day!",
    "Glad I could help 😊",
    "Let us know if there's anything else.",
]


# --------------------------------------------------------------------------- pools


@dataclass
class _RegionPool:
    region: Region
    # (display, ascii) names; ascii is "" for scripts that need a username instead.
    first_names: list[tuple[str, str]]
    last_names: list[tuple[str, str]]
    usernames: list[str]


def _ascii_name(text: str) -> str:
    from faker.decode import unidecode

    return "".join(ch for ch in unidecode(text).lower() if "a" <= ch <= "z")


def _build_pools(seed: int) -> tuple[list[_RegionPool], list[str]]:
    """Names, usernames and company domains, from Faker seeded with `seed`."""
    from faker import Faker

    pools = []
    fakers: dict[str, Faker] = {}
    for number, region in enumerate(REGIONS):
        fake = fakers.get(region.locale)
        if fake is None:
            fake = fakers[region.locale] = Faker(region.locale)
        fake.seed_instance(seed * 1000 + number)
        firsts: dict[str, str] = {}
        lasts: dict[str, str] = {}
        usernames: list[str] = []
        if region.script == "japanese":
            for _ in range(400):
                kanji, _kana, romaji = fake.first_name_pair()
                firsts.setdefault(kanji, _ascii_name(romaji))
                kanji, _kana, romaji = fake.last_name_pair()
                lasts.setdefault(kanji, _ascii_name(romaji))
        else:
            for _ in range(400):
                first, last = fake.first_name(), fake.last_name()
                ascii_first = _ascii_name(first) if region.script == "latin" else ""
                ascii_last = _ascii_name(last) if region.script == "latin" else ""
                if region.script == "other" or (ascii_first and ascii_last):
                    firsts.setdefault(first, ascii_first)
                    lasts.setdefault(last, ascii_last)
            if region.script == "other":
                usernames = sorted(
                    {u for u in (_ascii_name(fake.user_name()) for _ in range(400)) if len(u) > 3}
                )
        pools.append(_RegionPool(region, sorted(firsts.items()), sorted(lasts.items()), usernames))
    fake = Faker("en_US")
    fake.seed_instance(seed)
    domains = sorted({fake.domain_name() for _ in range(300)})
    return pools, domains


# --------------------------------------------------------------------------- generator


def _sqlite_time() -> Callable[[int], str]:
    """Epoch seconds -> the text SQLAlchemy's SQLite DATETIME stores (same order, faster)."""
    days: dict[int, str] = {}

    def fmt(ts: int) -> str:
        day, seconds = divmod(ts, 86400)
        prefix = days.get(day)
        if prefix is None:
            prefix = days[day] = time.strftime("%Y-%m-%d ", time.gmtime(day * 86400))
        hours, seconds = divmod(seconds, 3600)
        minutes, seconds = divmod(seconds, 60)
        return f"{prefix}{hours:02d}:{minutes:02d}:{seconds:02d}.000000"

    return fmt


def _aware_time(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


CONTACT_COLUMNS = (
    "id",
    "workspace_id",
    "name",
    "email",
    "phone",
    "phone_digits",
    "image_url",
    "avatar_color",
    "channel",
    "external_id",
    "created_at",
    "updated_at",
    "last_interaction_at",
    "last_message_text",
    "last_message_direction",
    "campaign_opt_in",
    "has_conversations",
    "custom_fields",
)
CONVERSATION_COLUMNS = (
    "id",
    "workspace_id",
    "contact_id",
    "channel",
    "status",
    "created_at",
    "updated_at",
    "custom_fields",
)
MESSAGE_COLUMNS = (
    "id",
    "conversation_id",
    "workspace_id",
    "channel",
    "external_id",
    "direction",
    "text",
    "sent_at",
)
CONTACT_LABEL_COLUMNS = ("contact_id", "label_id")
CONVERSATION_LABEL_COLUMNS = ("conversation_id", "label_id")

DAY = 86400


@dataclass
class _Batch:
    contacts: list[tuple] = field(default_factory=list)
    contact_labels: list[tuple] = field(default_factory=list)
    conversations: list[tuple] = field(default_factory=list)
    conversation_labels: list[tuple] = field(default_factory=list)
    messages: list[tuple] = field(default_factory=list)


class _Generator:
    """Makes rows in id order from one random.Random: same seed and now, same rows."""

    def __init__(
        self,
        seed: int,
        now: datetime,
        total: int,
        workspace_id: int,
        label_ids: dict[str, int],
        first_ids: tuple[int, int, int],
        dialect: str,
    ) -> None:
        self.rng = random.Random(seed)
        self.pools, self.company_domains = _build_pools(seed)
        self.now_ts = int(now.timestamp())
        self.today = now.date()
        self.total = max(1, total)
        self.workspace_id = workspace_id
        self.label = label_ids
        self.next_contact, self.next_conversation, self.next_message = first_ids
        self.sqlite = dialect == "sqlite"
        self.ts = _sqlite_time() if self.sqlite else _aware_time
        # JSON as text: SQLite stores it so, and PostgreSQL's COPY parses it into jsonb.
        self.dump = json.dumps
        self.region_cum = list(accumulate(p.region.weight for p in self.pools))
        names = list(CHANNELS)
        self.channel_names = names
        self.channel_cum = list(accumulate(CHANNELS[c][0] for c in names))
        # Phone numbers are unique: an affine permutation of a counter over 10**6.
        self.phone_count = 0
        self.phone_offset = self.rng.randrange(10**6)
        self.handle_offset = self.rng.randrange(10**6)
        self.dates = [(self.today + timedelta(days=d)).isoformat() for d in range(-60, 400)]
        self.index = 0

    # -- helpers

    def _pick(self, cum: list[float]) -> int:
        return bisect.bisect_right(cum, self.rng.random() * cum[-1])

    def _phone(self, region: Region) -> tuple[str, str]:
        self.phone_count += 1
        suffix = (self.phone_count * 735_719 + self.phone_offset) % 1_000_000
        digits = f"{region.calling_code}{self.rng.choice(region.phone_prefixes)}{suffix:06d}"
        return "+" + digits, digits

    def _email(self, pool: _RegionPool, first: str, last: str) -> str:
        rng = self.rng
        roll = rng.random()
        if pool.region.script == "other" or not first:
            local = rng.choice(pool.usernames)
            if roll < 0.5:
                local += str(rng.randrange(1, 100))
        elif roll < 0.3:
            local = f"{first}.{last}"
        elif roll < 0.45:
            local = f"{first}{last}{rng.randrange(1, 100)}"
        elif roll < 0.6:
            local = f"{first[0]}{last}"
        elif roll < 0.7:
            local = f"{first}_{last}"
        elif roll < 0.85:
            local = f"{first}.{last}{rng.randrange(1970, 2008)}"
        else:
            local = f"{first}{rng.randrange(1, 1000)}"
        if rng.random() < 0.12:
            domain = rng.choice(self.company_domains)
        else:
            domain = rng.choice(pool.region.email_domains)
        return f"{local}@{domain}"

    def _number(self, value: float) -> int | float:
        value = round(value, 2)
        return int(value) if value.is_integer() else value

    # -- rows

    def batch(self, count: int) -> _Batch:
        out = _Batch()
        for _ in range(count):
            self._contact(out)
        return out

    def _contact(self, out: _Batch) -> None:
        rng = self.rng
        random_ = rng.random
        contact_id = self.next_contact
        self.next_contact += 1
        index = self.index
        self.index += 1
        now_ts = self.now_ts

        pool = self.pools[self._pick(self.region_cum)]
        region = pool.region
        first, ascii_first = rng.choice(pool.first_names)
        last, ascii_last = rng.choice(pool.last_names)
        name = f"{last} {first}" if region.script == "japanese" else f"{first} {last}"
        channel = self.channel_names[self._pick(self.channel_cum)]
        _weight, phone_share, email_share = CHANNELS[channel]

        phone = phone_digits = email = None
        if random_() < phone_share:
            phone, phone_digits = self._phone(region)
        if random_() < email_share:
            email = self._email(pool, ascii_first, ascii_last)
        handle_number = (index * 7_919 + self.handle_offset) % 1_000_000
        if channel == "instagram":
            base = f"{ascii_first}.{ascii_last}" if ascii_first else rng.choice(pool.usernames)
            external_id = f"{base}{handle_number}"
            if random_() < 0.04:
                name = external_id  # some people only ever show their handle
        elif channel == "facebook":
            external_id = str(2_400_000_000_000_000 + index * 104_729 + self.handle_offset)
        elif channel == "whatsapp":
            external_id = phone_digits
        elif channel == "webchat":
            external_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        else:
            external_id = None

        # Ids follow creation time: contacts spread over two years, more of them recently.
        fraction = (index + random_()) / self.total
        age = int(730 * DAY * (1.0 - min(fraction, 1.0)) ** 1.25)
        created = now_ts - max(age, 300 + rng.randrange(600))

        # Contact custom fields (stored as the field types' validators store them).
        values: dict[str, Any] = {}
        if random_() < 0.7:
            values["city"] = rng.choice(region.cities)
        if random_() < 0.15:
            values["website"] = "https://" + rng.choice(self.company_domains)
        if random_() < 0.1:
            values["work_phone"] = self._phone(region)[0]
        if random_() < 0.2 and ascii_last:
            values["billing_email"] = f"billing.{ascii_last}@{rng.choice(self.company_domains)}"
        plan = None
        if random_() < 0.6:
            roll = random_()
            plan = (
                "Free"
                if roll < 0.42
                else "Starter"
                if roll < 0.72
                else "Pro"
                if roll < 0.92
                else "Enterprise"
            )
            values["plan"] = plan
            if plan != "Free":
                values["renewal_date"] = self.dates[rng.randrange(len(self.dates))]
        lifetime = None
        if random_() < 0.45 or plan in ("Pro", "Enterprise"):
            scale = {"Enterprise": 4.0, "Pro": 1.8}.get(plan or "", 1.0)
            lifetime = self._number(rng.lognormvariate(5.4, 1.1) * scale)
            values["lifetime_value"] = lifetime
        if random_() < 0.35:
            chosen = set(rng.sample(INTERESTS, rng.randrange(1, 4)))
            values["interests"] = [i for i in INTERESTS if i in chosen]
        opt_in = random_() < 0.3

        # Labels.
        labels = []
        label = self.label
        customer = lifetime is not None and lifetime > 0
        if (customer and lifetime >= 1500 and random_() < 0.5) or random_() < 0.01:
            labels.append(label["VIP"])
        if customer and random_() < 0.8:
            labels.append(label["Customer"])
        if (not customer and now_ts - created < 60 * DAY and random_() < 0.6) or random_() < 0.04:
            labels.append(label["Lead"])
        if customer and random_() < 0.05:
            labels.append(label["Churn risk"])
        if random_() < 0.06:
            labels.append(label["Support"])
        if opt_in and random_() < 0.7:
            labels.append(label["Newsletter"])
        for label_id in labels:
            out.contact_labels.append((contact_id, label_id))

        # Conversations and messages.
        last_ts = None
        last_text = last_direction = None
        if channel != "imported" and random_() >= 0.08:
            roll = random_()
            n_conversations = 1 if roll < 0.55 else 2 if roll < 0.8 else 3 if roll < 0.93 else 4
            window = max(created + 5, now_ts - 365 * DAY)
            end = now_ts - 30
            starts = []
            for number in range(n_conversations):
                if number == 0 and created >= now_ts - 365 * DAY:
                    starts.append(created + 5 + rng.randrange(60))
                else:
                    starts.append(rng.randint(window, max(window, end - 6 * 3600)))
            starts.sort()
            for start in starts:
                last = self._conversation(out, contact_id, channel, start, end, first, values)
                if last_ts is None or last[0] >= last_ts:
                    last_ts, last_text, last_direction = last

        ts = self.ts
        updated = max(created, last_ts or created)
        out.contacts.append(
            (
                contact_id,
                self.workspace_id,
                name,
                email,
                phone,
                phone_digits,
                None,
                rng.choice(RADIX_COLORS),
                channel,
                external_id,
                ts(created),
                ts(updated),
                ts(last_ts) if last_ts is not None else None,
                last_text[:500] if last_text is not None else None,
                last_direction,
                (1 if opt_in else 0) if self.sqlite else opt_in,
                # What the conversation triggers would set (they then find nothing to do).
                (1 if last_ts is not None else 0) if self.sqlite else last_ts is not None,
                self.dump(values),
            )
        )

    def _conversation(
        self,
        out: _Batch,
        contact_id: int,
        channel: str,
        start: int,
        end: int,
        first: str,
        contact_values: dict[str, Any],
    ) -> tuple[int, str, str]:
        rng = self.rng
        random_ = rng.random
        conversation_id = self.next_conversation
        self.next_conversation += 1

        topic = rng.choice(TOPICS)
        values: dict[str, Any] = {}
        if random_() < 0.8:
            values["topic"] = topic
        if random_() < 0.6:
            values["priority"] = PRIORITIES[self._pick(_PRIORITY_CUM)]
        order = f"#{rng.randrange(10_000, 99_999)}"
        if topic in ("Order status", "Returns", "Shipping", "Billing") and random_() < 0.7:
            values["order_id"] = order
            if random_() < 0.8:
                values["order_value"] = self._number(rng.lognormvariate(4.2, 0.8))
        slots = {
            "order": order,
            "first": first,
            "city": contact_values.get("city") or "your city",
        }

        roll = random_()
        n_messages = (
            2 if roll < 0.3 else 3 if roll < 0.6 else 4 if roll < 0.8 else 5 if roll < 0.92 else 6
        )
        room = max(n_messages, end - start)
        gap_max = max(2, min(3 * 3600, room // n_messages))
        openers, answers = _TOPIC_TEXTS[topic]
        sent = start
        ts = self.ts
        messages = out.messages
        text = direction = ""
        for number in range(n_messages):
            if number:
                sent += rng.randrange(1, gap_max)
            if number % 2 == 0:
                direction = "incoming"
                template = rng.choice(openers if number == 0 else _FOLLOW_UPS)
            else:
                direction = "outgoing"
                template = rng.choice(
                    _GREETINGS
                    if number == 1 and random_() < 0.4
                    else _CLOSERS
                    if number == n_messages - 1 and random_() < 0.5
                    else answers
                )
            text = template.format(**slots) if "{" in template else template
            messages.append(
                (
                    self.next_message,
                    conversation_id,
                    self.workspace_id,
                    channel,
                    None,
                    direction,
                    text,
                    ts(sent),
                )
            )
            self.next_message += 1

        age = self.now_ts - sent
        roll = random_()
        if age < 2 * DAY:
            status = "open" if roll < 0.5 else "pending" if roll < 0.8 else "resolved"
        elif age < 14 * DAY:
            status = "open" if roll < 0.25 else "pending" if roll < 0.5 else "resolved"
        else:
            status = "open" if roll < 0.05 else "pending" if roll < 0.1 else "resolved"
        out.conversations.append(
            (
                conversation_id,
                self.workspace_id,
                contact_id,
                channel,
                status,
                ts(start),
                ts(sent),
                self.dump(values),
            )
        )
        if topic in ("Technical issue", "Returns", "Billing") and random_() < 0.6:
            out.conversation_labels.append((conversation_id, self.label["Support"]))
        if topic == "Product question" and random_() < 0.3:
            out.conversation_labels.append((conversation_id, self.label["Lead"]))
        return sent, text, direction


_PRIORITY_CUM = list(accumulate((15, 60, 20, 5)))


# --------------------------------------------------------------------------- writing


class _Writer:
    """Bulk inserts: the DBAPI's executemany on SQLite (values are already in SQLite's
    storage format), COPY on PostgreSQL (psycopg), SQLAlchemy Core insert batches elsewhere."""

    use_copy = True

    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect.name
        self.copy = (
            self.use_copy
            and self.dialect == "postgresql"
            and connection.dialect.driver == "psycopg"
        )

    def insert(self, table: sa.Table, columns: tuple[str, ...], rows: list[tuple]) -> None:
        if not rows:
            return
        if self.dialect == "sqlite":
            placeholders = ", ".join("?" * len(columns))
            self.connection.exec_driver_sql(
                f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({placeholders})",
                rows,
            )
        elif self.copy:
            if not self.connection.in_transaction():
                self.connection.begin()
            raw = self.connection.connection.dbapi_connection
            with raw.cursor() as cursor:
                statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
                with cursor.copy(statement) as copy:
                    for row in rows:
                        copy.write_row(row)
        else:
            json_columns = [i for i, c in enumerate(columns) if c == "custom_fields"]
            if json_columns:  # rows carry JSON text; Core wants the objects back
                rows = [
                    tuple(json.loads(v) if i in json_columns else v for i, v in enumerate(row))
                    for row in rows
                ]
            for start in range(0, len(rows), 5000):
                self.connection.execute(
                    sa.insert(table),
                    [dict(zip(columns, row, strict=True)) for row in rows[start : start + 5000]],
                )

    def write(self, batch: _Batch) -> None:
        self.insert(Contact.__table__, CONTACT_COLUMNS, batch.contacts)
        self.insert(ContactLabel.__table__, CONTACT_LABEL_COLUMNS, batch.contact_labels)
        self.insert(Conversation.__table__, CONVERSATION_COLUMNS, batch.conversations)
        self.insert(
            ConversationLabel.__table__, CONVERSATION_LABEL_COLUMNS, batch.conversation_labels
        )
        self.insert(Message.__table__, MESSAGE_COLUMNS, batch.messages)


@contextmanager
def _bulk_load(connection: sa.Connection) -> Iterator[None]:
    """On SQLite: fast pragmas and no per-row search-index triggers for the load; the index
    is rebuilt and the triggers put back afterwards (also when the load fails)."""
    if connection.dialect.name != "sqlite":
        yield
        return
    connection.commit()
    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    connection.exec_driver_sql("PRAGMA synchronous=OFF")
    connection.exec_driver_sql("PRAGMA cache_size=-1048576")
    connection.exec_driver_sql("PRAGMA temp_store=MEMORY")
    search_index.drop_sqlite_triggers(connection)
    connection.commit()
    try:
        yield
    finally:
        connection.rollback()
        search_index.rebuild_sqlite_index(connection)
        search_index.create_sqlite_triggers(connection)
        connection.commit()
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.exec_driver_sql("PRAGMA synchronous=NORMAL")
        connection.exec_driver_sql("PRAGMA cache_size=-2000")
        connection.exec_driver_sql("PRAGMA temp_store=DEFAULT")
        connection.commit()


def _clear_workspace(connection: sa.Connection, workspace_id: int) -> None:
    """Delete everything the workspace owns except the workspace row itself."""
    conversations = sa.select(Conversation.id).where(Conversation.workspace_id == workspace_id)
    contacts = sa.select(Contact.id).where(Contact.workspace_id == workspace_id)
    for statement in (
        sa.delete(Message).where(Message.conversation_id.in_(conversations)),
        sa.delete(ConversationLabel).where(ConversationLabel.conversation_id.in_(conversations)),
        sa.delete(Conversation).where(Conversation.workspace_id == workspace_id),
        sa.delete(ContactLabel).where(ContactLabel.contact_id.in_(contacts)),
        sa.delete(Contact).where(Contact.workspace_id == workspace_id),
        sa.delete(SegmentDailyCount).where(SegmentDailyCount.workspace_id == workspace_id),
        sa.delete(Segment).where(Segment.workspace_id == workspace_id),
        sa.delete(Label).where(Label.workspace_id == workspace_id),
        sa.delete(CustomFieldDefinition).where(CustomFieldDefinition.workspace_id == workspace_id),
    ):
        connection.execute(statement)


def _next_id(connection: sa.Connection, table: sa.Table) -> int:
    return (connection.execute(sa.select(sa.func.max(table.c.id))).scalar() or 0) + 1


def _ensure_catalog(session: Session, workspace_id: int) -> dict[str, int]:
    """Labels, custom fields and segments, created where missing; returns label ids."""
    labels = {
        label.name: label
        for label in session.execute(
            sa.select(Label).where(Label.workspace_id == workspace_id)
        ).scalars()
    }
    for name, color in LABELS:
        if name not in labels:
            labels[name] = Label(workspace_id=workspace_id, name=name, color=color)
            session.add(labels[name])
    existing = {
        (d.entity, d.key): d
        for d in session.execute(
            sa.select(CustomFieldDefinition).where(
                CustomFieldDefinition.workspace_id == workspace_id
            )
        ).scalars()
    }
    positions = {FieldEntity.CONTACT.value: 0, FieldEntity.CONVERSATION.value: 0}
    for entity, key, label, type_, options in CUSTOM_FIELDS:
        definition = existing.get((entity, key))
        if definition is None:
            session.add(
                CustomFieldDefinition(
                    workspace_id=workspace_id,
                    entity=entity,
                    key=key,
                    label=label,
                    type=type_,
                    options=list(options),
                    position=positions[entity],
                )
            )
        elif definition.type != type_ or not set(options) <= set(definition.options or []):
            raise ValueError(
                f"The workspace already has a {entity} field “{key}” of another shape; "
                "seed it with --force to replace its data."
            )
        positions[entity] += 1
    session.flush()
    label_ids = {name: label.id for name, label in labels.items()}

    catalog = field_catalog(session, workspace_id)
    segments = set(
        session.execute(sa.select(Segment.name).where(Segment.workspace_id == workspace_id))
        .scalars()
        .all()
    )
    for position, definition in enumerate(segment_definitions(label_ids)):
        # A segment the filter language would refuse must never be stored.
        spec = validate_spec(FilterSpec.parse(definition["filter_spec"]), catalog)
        if definition["name"] in segments:
            continue
        session.add(
            Segment(
                workspace_id=workspace_id,
                name=definition["name"],
                description=definition["description"],
                color=definition["color"],
                filter_spec=spec.model_dump(mode="json"),
                position=position,
                on_board=True,
            )
        )
    session.flush()
    return label_ids


def _url_of(engine: sa.Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def seed_demo(
    engine_or_url: sa.Engine | str,
    contacts: int,
    seed: int = 42,
    workspace_slug: str = "demo",
    now: datetime | None = None,
    *,
    force: bool = False,
    batch_size: int = 10_000,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Fill `workspace_slug` with `contacts` demo contacts; return the workspace id.

    A workspace that already has contacts is left alone (so app start-up can call this every
    time) unless `force`, which deletes the workspace's contacts, conversations, labels,
    fields and segments first. Same `seed` and `now` give identical rows.
    """
    if isinstance(engine_or_url, str):
        url, engine, owned = engine_or_url, make_engine(engine_or_url), True
    else:
        url, engine, owned = _url_of(engine_or_url), engine_or_url, False
    migrate(url)
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    try:
        with engine.connect() as connection:
            with Session(bind=connection) as session:
                workspace_id = ensure_workspace(session, workspace_slug).id
                session.commit()
            has_contacts = connection.execute(
                sa.select(Contact.id).where(Contact.workspace_id == workspace_id).limit(1)
            ).first()
            connection.commit()
            if has_contacts and not force:
                return workspace_id
            with _bulk_load(connection):
                if force:
                    _clear_workspace(connection, workspace_id)
                connection.commit()
                with Session(bind=connection) as session:
                    label_ids = _ensure_catalog(session, workspace_id)
                    session.commit()
                first_ids = (
                    _next_id(connection, Contact.__table__),
                    _next_id(connection, Conversation.__table__),
                    _next_id(connection, Message.__table__),
                )
                generator = _Generator(
                    seed,
                    now,
                    contacts,
                    workspace_id,
                    label_ids,
                    first_ids,
                    connection.dialect.name,
                )
                writer = _Writer(connection)
                done = 0
                while done < contacts:
                    count = min(batch_size, contacts - done)
                    writer.write(generator.batch(count))
                    connection.commit()
                    done += count
                    if progress:
                        progress(done, contacts)
            _finish(connection, workspace_id)
        # A connection of its own: _finish left that one in autocommit (PostgreSQL).
        with Session(engine) as session:
            _trend_history(session, workspace_id, now, contacts)
            session.commit()
        return workspace_id
    finally:
        if owned:
            engine.dispose()


# Days of segment counts a new demo workspace starts with (the sparklines' width).
DEMO_TREND_DAYS = 30
# Rebuilding them reads the contacts once per day: 14 s of a 39 s seed at 100,000 contacts
# on SQLite. Bigger (benchmark) workspaces start with today's count only.
DEMO_TREND_MAX_CONTACTS = 100_000


def _trend_history(session: Session, workspace_id: int, now: datetime, contacts: int) -> None:
    """The demo's segment trends: a count for each of the last 30 days, rebuilt from the
    contacts' creation dates (segment_trends.counts_as_of: the contacts that existed by the
    end of that day, with their values of today), and today's real count. A real workspace
    gets no such past: its history starts on the day it is first counted."""
    today = segment_trends.utc_today(now)
    history = {}
    days = DEMO_TREND_DAYS if contacts <= DEMO_TREND_MAX_CONTACTS else 1
    for offset in range(days - 1, 0, -1):
        day = today - timedelta(days=offset)
        end_of_day = datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=UTC)
        history[day] = segment_trends.counts_as_of(session, workspace_id, end_of_day)
    segment_trends.store_history(session, workspace_id, history)
    segment_trends.count_today(session, workspace_id, now)


def _finish(connection: sa.Connection, workspace_id: int) -> None:
    """The custom fields' expression indexes, statistics for the planner, sequences past
    our ids, and a data_version bump."""
    from cloodot_app.services.custom_fields.indexes import sync_on

    sync_on(connection)
    connection.commit()
    if connection.dialect.name == "postgresql":
        for table in ("contact", "conversation", "message"):
            connection.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
            )
        connection.commit()
        # VACUUM (outside a transaction) also fills the visibility map, so the sort
        # indexes serve index-only scans right away.
        autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
        for table in ("contact", "contact_label", "conversation", "conversation_label", "message"):
            autocommit.exec_driver_sql(f"VACUUM ANALYZE {table}")
    else:
        connection.exec_driver_sql("ANALYZE")
    connection.execute(
        sa.update(Workspace)
        .where(Workspace.id == workspace_id)
        .values(data_version=Workspace.data_version + 1)
    )
    connection.commit()


# --------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    from cloodot_app.settings import settings

    parser = argparse.ArgumentParser(
        prog="python -m cloodot_app.seed", description="Fill a workspace with demo data."
    )
    parser.add_argument("--contacts", type=int, default=settings.demo_contacts)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--database-url", default=settings.database_url)
    parser.add_argument("--workspace", default=settings.workspace_slug)
    parser.add_argument(
        "--now",
        type=date.fromisoformat,
        default=None,
        help="pretend today is this date (YYYY-MM-DD), for reproducible data",
    )
    parser.add_argument(
        "--force", action="store_true", help="delete the workspace's existing data first"
    )
    args = parser.parse_args(argv)
    now = (
        datetime.combine(args.now, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
        if args.now
        else None
    )
    started = time.perf_counter()

    def report(done: int, total: int) -> None:
        elapsed = time.perf_counter() - started
        print(f"\r{done:,}/{total:,} contacts ({elapsed:.0f} s)", end="", file=sys.stderr)

    workspace_id = seed_demo(
        args.database_url,
        args.contacts,
        seed=args.seed,
        workspace_slug=args.workspace,
        now=now,
        force=args.force,
        progress=report,
    )
    print(
        f"\nworkspace {args.workspace!r} (id {workspace_id}) ready "
        f"in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
