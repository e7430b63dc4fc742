"""The roles table: what each role may do, the refusals' words, and the README's copy."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloodot_app.access import (
    CAPABILITY_WORDS,
    ROLE_CAPABILITIES,
    Capability,
    Identity,
    Role,
    capability_table,
    require,
)
from cloodot_app.errors import AccessDenied, UserError

README = Path(__file__).resolve().parents[2] / "README.md"

# The issue's table, row by row: (capability, agent, manager, admin).
EXPECTED = [
    (Capability.VIEW, True, True, True),
    (Capability.EDIT_CONTACTS, True, True, True),
    (Capability.MANAGE_SEGMENTS, False, True, True),
    (Capability.EXPORT, False, True, True),
    (Capability.DELETE_CONTACTS, False, True, True),
    (Capability.IMPORT, False, True, True),
    (Capability.BULK_EDIT, False, True, True),
    (Capability.MERGE_CONTACTS, False, True, True),
    (Capability.MANAGE_FIELDS, False, False, True),
    (Capability.MANAGE_WORKSPACE, False, False, True),
    (Capability.MANAGE_CHANNELS, False, False, True),
]


def identity(role: Role) -> Identity:
    return Identity(
        user_id=1,
        email="ana@acme.example",
        name="Ana",
        workspace_id=7,
        workspace_name="Acme",
        role=role,
        session_id=3,
    )


def test_capabilities_are_exactly_the_issues_rows():
    assert [row[0] for row in EXPECTED] == list(Capability)
    assert set(CAPABILITY_WORDS) == set(Capability)


@pytest.mark.parametrize(("capability", "agent", "manager", "admin"), EXPECTED)
def test_each_role_has_exactly_its_capabilities(capability, agent, manager, admin):
    assert identity(Role.AGENT).can(capability) is agent
    assert identity(Role.MANAGER).can(capability) is manager
    assert identity(Role.ADMIN).can(capability) is admin
    assert (capability in ROLE_CAPABILITIES[Role.AGENT]) is agent


def test_roles_only_add_capabilities_upwards():
    assert ROLE_CAPABILITIES[Role.AGENT] < ROLE_CAPABILITIES[Role.MANAGER]
    assert ROLE_CAPABILITIES[Role.MANAGER] < ROLE_CAPABILITIES[Role.ADMIN]
    assert ROLE_CAPABILITIES[Role.ADMIN] == frozenset(Capability)


def test_require_returns_the_identity_that_may():
    admin = identity(Role.ADMIN)
    assert require(admin, Capability.MANAGE_WORKSPACE) is admin


def test_require_without_a_session_asks_to_sign_in():
    with pytest.raises(AccessDenied, match=r"^Sign in to continue\.$"):
        require(None, Capability.VIEW)


def test_a_refusal_names_the_role_and_the_action():
    with pytest.raises(AccessDenied) as refused:
        require(identity(Role.AGENT), Capability.DELETE_CONTACTS)
    assert str(refused.value) == "Your role (Agent) cannot delete contacts. Ask an admin."
    assert isinstance(refused.value, UserError)
    with pytest.raises(AccessDenied, match=r"Your role \(Manager\) cannot manage the workspace"):
        require(identity(Role.MANAGER), Capability.MANAGE_WORKSPACE)


def test_the_table_is_rendered_from_the_rules():
    table = capability_table().splitlines()
    assert table[0] == "| capability | Agent | Manager | Admin |"
    assert table[1] == "|---|---|---|---|"
    assert len(table) == 2 + len(Capability)
    assert table[2].endswith("| ✔ | ✔ | ✔ |")
    assert table[-1] == (
        "| channel connections (WhatsApp, Messenger, Instagram, WebChat) | — | — | ✔ |"
    )
    for line, (_, agent, manager, admin) in zip(table[2:], EXPECTED, strict=True):
        marks = [cell.strip() for cell in line.strip("|").split("|")[1:]]
        assert marks == ["✔" if allowed else "—" for allowed in (agent, manager, admin)]


def test_the_readme_shows_the_table_the_code_enforces():
    assert capability_table() in README.read_text(encoding="utf-8"), (
        "README.md's roles table differs from access.capability_table(): paste its output"
    )
