"""Cloodot Contacts: the Contacts module of an omnichannel messaging product."""
