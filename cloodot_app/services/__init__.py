"""Services: plain functions taking (session, workspace_id, ...). No Reflex in here.

They are the only code that touches the database, and every query they run is scoped by
the workspace id they are given.
"""
