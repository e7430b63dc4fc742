"""Small UI pieces, each named for what it shows."""
