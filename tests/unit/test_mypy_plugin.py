"""tools/mypy_sqlmodel.py: SQLModel columns and Session.execute typed as SQLAlchemy types them."""

from __future__ import annotations

import textwrap
from pathlib import Path

from mypy import api

ROOT = Path(__file__).resolve().parents[2]

SNIPPET = """
import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app.models import Contact


def check(session: Session, contact: Contact) -> None:
    reveal_type(Contact.id)
    reveal_type(Contact.email)
    reveal_type(contact.id)
    reveal_type(session.execute(sa.select(sa.func.count())).scalar_one())
    reveal_type(session.execute(sa.update(Contact).values(name="x")).rowcount)
    Contact.id.in_([1, 2])
    Contact.no_such_column
"""


def test_the_plugin_types_columns_and_results(tmp_path):
    module = tmp_path / "snippet.py"
    module.write_text(textwrap.dedent(SNIPPET))
    out, _, status = api.run(
        ["--config-file", str(ROOT / "pyproject.toml"), "--no-error-summary", str(module)]
    )
    revealed = [
        line.split("Revealed type is ")[1] for line in out.splitlines() if "Revealed" in line
    ]
    assert revealed == [
        '"sqlalchemy.orm.attributes.InstrumentedAttribute[int]"',  # a key: never NULL
        '"sqlalchemy.orm.attributes.InstrumentedAttribute[str | None]"',
        '"int | None"',  # an instance's id: None until flushed
        '"int"',
        '"int"',
    ]
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert len(errors) == 1 and "no_such_column" in errors[0], out
    assert status == 1
