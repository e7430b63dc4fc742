"""Reflex state: what one browser tab shows, and the events that change it."""
