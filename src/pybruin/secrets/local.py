"""The default backend: connections of the selected ``.bruin.yml`` environment."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pybruin.config.bruin_yml import CONTENT_VARIABLE
from pybruin.config.sops import KEY_VARIABLES, SECRET_KEY_VARIABLES
from pybruin.secrets.base import SecretsBackend, StoreDeclaration

if TYPE_CHECKING:
    from pathlib import Path

    from pybruin.config.bruin_yml import Environment
    from pybruin.config.connections import Connection


class LocalBackend(SecretsBackend):
    """Answers from connections already loaded, validated and expanded with the config file."""

    name = "local"
    is_config_file = True

    def __init__(self, environment: Environment, config_path: Path) -> None:
        self.environment = environment
        self.config_path = config_path

    def get_connection(self, name: str) -> Connection | None:
        return self.environment.connections.get(name)


#: ``.bruin.yml`` itself; its settings are the variable that can carry the whole file and those telling sops
#: where the key of an encrypted one is (the key itself is masked).
STORE = StoreDeclaration(
    name=LocalBackend.name,
    label="config file",
    open=lambda context: LocalBackend(context.environment, context.config_path),
    settings=frozenset({CONTENT_VARIABLE, *KEY_VARIABLES}),
    secret_settings=SECRET_KEY_VARIABLES,
)
