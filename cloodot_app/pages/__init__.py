"""Pages: layout only; their state lives in cloodot_app/state/."""
