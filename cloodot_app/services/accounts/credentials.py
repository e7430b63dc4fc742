"""Passwords: the rules a new one must keep, argon2id hashing, and verification that takes
as long for an account no password opens as for a real one."""

from __future__ import annotations

import secrets
from functools import cache

from pwdlib import PasswordHash
from pwdlib.exceptions import UnknownHashError
from pwdlib.hashers.argon2 import Argon2Hasher

from cloodot_app.errors import PasswordError

PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 1024  # argon2 hashes anything; a megabyte "password" is a DoS
# Stored instead of a hash for accounts no password opens (demo users): argon2 hashes
# start with "$", so nothing verifies against it.
UNUSABLE_PASSWORD_PREFIX = "!"

# argon2id with pwdlib's recommended parameters (tests swap in cheaper ones).
passwords = PasswordHash((Argon2Hasher(),))


def check_password(password: str, email: str) -> None:
    """Raise `PasswordError` (for the user) unless `password` keeps the password rules."""
    if len(password) < PASSWORD_MIN_LENGTH:
        raise PasswordError(f"Use at least {PASSWORD_MIN_LENGTH} characters.")
    if len(password) > PASSWORD_MAX_LENGTH:
        raise PasswordError(f"Use at most {PASSWORD_MAX_LENGTH:,} characters.")
    if len(set(password)) == 1:
        raise PasswordError("One character repeated is too easy to guess: mix characters.")
    lowered = password.strip().lower()
    email = email.strip().lower()
    if lowered in {email, email.split("@", 1)[0]}:
        raise PasswordError("Your password cannot be your email address.")


def hash_password(password: str) -> str:
    return passwords.hash(password)


def unusable_password_hash() -> str:
    """A stored "hash" that no password verifies against (for demo users)."""
    return UNUSABLE_PASSWORD_PREFIX + secrets.token_hex(8)


@cache
def _dummy_hash(hasher: PasswordHash) -> str:
    return hasher.hash(secrets.token_urlsafe(16))


def burn_a_verification(password: str) -> None:
    """Take as long as checking a real password (unknown email, demo user): the response
    time must not tell whether the email has an account."""
    passwords.verify(password, _dummy_hash(passwords))


def verify_password(password: str, stored: str) -> tuple[bool, str | None]:
    """Whether `password` matches the `stored` hash, and a new hash to store when the
    hasher's parameters changed since `stored` was made (else None)."""
    if stored.startswith(UNUSABLE_PASSWORD_PREFIX):
        burn_a_verification(password)
        return False, None
    try:
        return passwords.verify_and_update(password, stored)
    except UnknownHashError:
        burn_a_verification(password)
        return False, None
