"""Project discovery, ``.bruin.yml`` loading, ``${VAR}`` expansion and typed connections.

Nothing is imported here: commands that never read ``.bruin.yml`` (``bruin internal parse-*``) must not pay
for the connection models.
"""
