"""Pins down what every typed model (and a few untyped ones) gives the rest of pybruin.

The expected values were produced by the pydantic models these declarative ones replaced, from
one representative ``.bruin.yml`` (values as YAML writes them) and from secrets-style payloads
(values as JSON decodes them): the injected JSON byte for byte, the masking forms, the filled
fields and the ``repr``.
"""

from pathlib import Path

import pytest

from pybruin.config.bruin_yml import load_config
from pybruin.config.connections import CONNECTION_TYPES, build_connection

CONFIG = """\
environments:
  default:
    connections:
      generic:
        - name: api-key
          value: " generic-secret-1 "
        - name: json-doc
          value: '{"client_secret": "doc-secret-2", "token_url": "https://t/", "nested": {"api_key": "doc-key-3"}}'
      postgres:
        - name: pg
          username: pg-user
          password: pg-pass-4
          host: db.internal
          port: 5432
          database: app
          schema: analytics
          pool_max_conns: 8
          ssl_mode: require
          max_concurrent_assets: 2
      redshift:
        - name: rs
          username: rs-user
          password: 007
          host: rs.internal
          port: "5439"
          database: dw
          ssl_mode: prefer
      mysql:
        - name: my
          username: my-user
          password: my-pass-5
          host: my.internal
          port: 3306
          database: shop
          driver: mysql
          ssl_ca_path: certs/ca.pem
          ssl_cert_path: /etc/certs/client.pem
          ssl_key_path: keys/client.key
      mssql:
        - name: ms
          username: sa
          password: ms-pass-6
          host: ms.internal
          port: 1433
          database: master
          options: encrypt=true
      snowflake:
        - name: sf
          account: acme-1
          username: sf-user
          password: sf-pass-7
          region: eu-west-1
          role: loader
          database: RAW
          schema: PUBLIC
          warehouse: WH
          private_key_path: keys/rsa.p8
          token: sf-token-8
      google_cloud_platform:
        - name: gcp
          service_account_file: sa.json
          project_id: proj-1
          location: EU
          use_application_default_credentials: yes
          max_billable_bytes: 1000000
          max_query_cost: 1.50
          max_billable_bytes_soft: 500
          max_query_cost_soft: 2
        - name: gcp-inline
          service_account_json: '{"type": "service_account", "private_key": "gcp-key-9", "client_email": "a@b"}'
          access_token: gcp-token-10
          use_application_default_credentials: false
      databricks:
        - name: dbx
          token: dbx-token-11
          path: /sql/1.0/warehouses/abc
          host: dbc.cloud
          port: 443
          catalog: main
          schema: default
          client_id: cid
          client_secret: dbx-secret-12
      duckdb:
        - name: duck
          path: data/warehouse.db
          read_only: true
        - name: lake
          path: /data/lake.db
          lakehouse:
            format: ducklake
            catalog:
              type: postgres
              host: pg.internal
              port: 5433
              database: catalog
              auth: {username: lake-user, password: lake-pass-13}
            storage:
              type: s3
              path: s3://bucket/lake/
              region: eu-central-1
              endpoint: s3.local:9000
              url_style: path
              use_ssl: false
              auth: {access_key: lake-ak-14, secret_key: lake-sk-15, session_token: lake-st-16}
        - name: iceberg
          path: ':memory:'
          lakehouse:
            format: iceberg
            catalog:
              type: glue
              catalog_id: "123456789012"
              region: us-east-1
              auth: {access_key: ice-ak-17, secret_key: ice-sk-18}
            storage: {type: azure, path: "abfss://c@a/", auth: {connection_string: ice-cs-19, account_name: acct}}
      sqlite:
        - name: lite
          path: ../other/lite.sqlite
      clickhouse:
        - name: ch
          username: default
          password: 12345678
          host: ch.internal
          port: 9000
          database: events
          http_port: 8123
          secure: 1
      aws:
        - name: aws
          access_key: AKIAEXAMPLE20
          secret_key: aws-secret-21
          region: eu-west-1
      athena:
        - name: athena
          access_key_id: AKIAEXAMPLE22
          secret_access_key: athena-secret-23
          session_token: athena-st-24
          query_results_path: s3://results/
          region: us-east-1
          database: default
          profile: prod
      motherduck:
        - name: md
          token: md-token-25
          database: my_db
      chess:
        - name: chess
          players: [Hikaru, 1234]
      google_sheets:
        - name: sheets
          service_account_file: sa.json
          credentials_json: '{"private_key": "sheets-key-26"}'
          spreadsheet: ${SHEET}
          retries: 5
          ratio: 1.5
          flag: yes
          stamp: 2024-01-01
      hubspot:
        - name: hubspot
          api_key: hub-key-27
          max_concurrent_assets: 1
          extra: {password: hub-pw-28, list: [a, 2]}
"""

# What each connection of CONFIG gives: (injection_value, sensitive_values, filled_fields, repr);
# {dir} stands for the project folder, {parent} for its parent.
FROM_CONFIG = {
    "api-key": (
        " generic-secret-1 ",
        [" generic-secret-1 ", "generic-secret-1"],
        ["value"],
        "GenericConnection(name='api-key', max_concurrent_assets=None)",
    ),
    "json-doc": (
        '{"client_secret": "doc-secret-2", "token_url": "https://t/", "nested": {"api_key": "doc-key-3"}}',
        [
            '{"client_secret": "doc-secret-2", "token_url": "https://t/", "nested": {"api_key": "doc-key-3"}}',
            "doc-secret-2",
            "doc-key-3",
        ],
        ["value"],
        "GenericConnection(name='json-doc', max_concurrent_assets=None)",
    ),
    "pg": (
        (
            '{"name":"pg","max_concurrent_assets":2,"username":"pg-user","password":"pg-pass-4","host":'
            '"db.internal","port":5432,"database":"app","schema":"analytics","pool_max_conns":8,"ssl_mo'
            'de":"require"}'
        ),
        ["pg-pass-4"],
        [
            "max_concurrent_assets",
            "username",
            "password",
            "host",
            "port",
            "database",
            "schema",
            "pool_max_conns",
            "ssl_mode",
        ],
        (
            "PostgresConnection(name='pg', max_concurrent_assets=2, username='pg-user', host='db.intern"
            "al', port=5432, database='app', schema_='analytics', pool_max_conns=8, ssl_mode='require')"
        ),
    ),
    "rs": (
        (
            '{"name":"rs","username":"rs-user","password":"007","host":"rs.internal","port":5439,"datab'
            'ase":"dw","schema":"","ssl_mode":"prefer"}'
        ),
        ["007"],
        ["username", "password", "host", "port", "database", "ssl_mode"],
        (
            "RedshiftConnection(name='rs', max_concurrent_assets=None, username='rs-user', host='rs.int"
            "ernal', port=5439, database='dw', schema_='', ssl_mode='prefer')"
        ),
    ),
    "my": (
        (
            '{"name":"my","username":"my-user","password":"my-pass-5","host":"my.internal","port":3306,'
            '"database":"shop","driver":"mysql","ssl_ca_path":"{dir}/certs/ca.pem","ssl_cert_path":"/et'
            'c/certs/client.pem","ssl_key_path":"{dir}/keys/client.key"}'
        ),
        ["my-pass-5", "  client-key-30\n", "client-key-30"],
        ["username", "password", "host", "port", "database", "driver", "ssl_ca_path", "ssl_cert_path", "ssl_key_path"],
        (
            "MySQLConnection(name='my', max_concurrent_assets=None, username='my-user', host='my.intern"
            "al', port=3306, database='shop', driver='mysql', ssl_ca_path='{dir}/certs/ca.pem', ssl_cer"
            "t_path='/etc/certs/client.pem')"
        ),
    ),
    "ms": (
        (
            '{"name":"ms","username":"sa","password":"ms-pass-6","host":"ms.internal","port":1433,"data'
            'base":"master","options":"encrypt=true"}'
        ),
        ["ms-pass-6"],
        ["username", "password", "host", "port", "database", "options"],
        (
            "MsSQLConnection(name='ms', max_concurrent_assets=None, username='sa', host='ms.internal', "
            "port=1433, database='master', options='encrypt=true')"
        ),
    ),
    "sf": (
        (
            '{"account":"acme-1","database":"RAW","name":"sf","password":"sf-pass-7","private_key":"---'
            '--BEGIN PRIVATE KEY-----\\nrsa-body-29\\n-----END PRIVATE KEY-----\\n","region":"eu-west-1","'
            'role":"loader","schema":"PUBLIC","token":"sf-token-8","username":"sf-user","warehouse":"WH'
            '"}'
        ),
        [
            "sf-pass-7",
            "-----BEGIN PRIVATE KEY-----\nrsa-body-29\n-----END PRIVATE KEY-----\n",
            "-----BEGIN PRIVATE KEY-----\nrsa-body-29\n-----END PRIVATE KEY-----",
            "sf-token-8",
        ],
        [
            "account",
            "username",
            "password",
            "region",
            "role",
            "database",
            "schema",
            "warehouse",
            "private_key_path",
            "token",
        ],
        (
            "SnowflakeConnection(name='sf', max_concurrent_assets=None, account='acme-1', username='sf-"
            "user', region='eu-west-1', role='loader', database='RAW', schema_='PUBLIC', warehouse='WH'"
            ")"
        ),
    ),
    "gcp": (
        (
            '{"location":"EU","max_billable_bytes":1000000,"max_billable_bytes_soft":500,"max_query_cos'
            't":1.5,"max_query_cost_soft":2.0,"name":"gcp","project_id":"proj-1","service_account_file"'
            ':"{dir}/sa.json","service_account_json":"{\\"type\\": \\"service_account\\", \\"private_key\\": '
            '\\"sa-key-31\\", \\"client_email\\": \\"x@y\\"}","use_application_default_credentials":"true"}'
        ),
        ['{"type": "service_account", "private_key": "sa-key-31", "client_email": "x@y"}', "sa-key-31"],
        [
            "service_account_file",
            "project_id",
            "location",
            "use_application_default_credentials",
            "max_billable_bytes",
            "max_query_cost",
            "max_billable_bytes_soft",
            "max_query_cost_soft",
        ],
        (
            "GoogleCloudPlatformConnection(name='gcp', max_concurrent_assets=None, project_id='proj-1',"
            " location='EU', use_application_default_credentials=True, max_billable_bytes=1000000, max_"
            "query_cost=1.5, max_billable_bytes_soft=500, max_query_cost_soft=2.0)"
        ),
    ),
    "gcp-inline": (
        (
            '{"access_token":"gcp-token-10","location":"","name":"gcp-inline","project_id":"","service_'
            'account_file":"","service_account_json":"{\\"type\\": \\"service_account\\", \\"private_key\\": '
            '\\"gcp-key-9\\", \\"client_email\\": \\"a@b\\"}","use_application_default_credentials":"false"}'
        ),
        ['{"type": "service_account", "private_key": "gcp-key-9", "client_email": "a@b"}', "gcp-key-9", "gcp-token-10"],
        ["service_account_json", "access_token"],
        (
            "GoogleCloudPlatformConnection(name='gcp-inline', max_concurrent_assets=None, project_id=''"
            ", location='', use_application_default_credentials=False, max_billable_bytes=0, max_query_"
            "cost=0, max_billable_bytes_soft=0, max_query_cost_soft=0)"
        ),
    ),
    "dbx": (
        (
            '{"name":"dbx","token":"dbx-token-11","path":"/sql/1.0/warehouses/abc","host":"dbc.cloud","'
            'port":443,"catalog":"main","schema":"default","client_id":"cid","client_secret":"dbx-secre'
            't-12"}'
        ),
        ["dbx-token-11", "dbx-secret-12"],
        ["token", "path", "host", "port", "catalog", "schema", "client_id", "client_secret"],
        (
            "DatabricksConnection(name='dbx', max_concurrent_assets=None, path='/sql/1.0/warehouses/abc"
            "', host='dbc.cloud', port=443, catalog='main', schema_='default', client_id='cid')"
        ),
    ),
    "duck": (
        '{"name":"duck","path":"{dir}/data/warehouse.db","read_only":true}',
        [],
        ["path", "read_only"],
        (
            "DuckDBConnection(name='duck', max_concurrent_assets=None, path='{dir}/data/warehouse.db', "
            "read_only=True, lakehouse=None)"
        ),
    ),
    "lake": (
        (
            '{"name":"lake","path":"/data/lake.db","lakehouse":{"format":"ducklake","catalog":{"type":"'
            'postgres","host":"pg.internal","port":5433,"database":"catalog","auth":{"username":"lake-u'
            'ser","password":"lake-pass-13"}},"storage":{"type":"s3","path":"s3://bucket/lake/","region'
            '":"eu-central-1","endpoint":"s3.local:9000","url_style":"path","auth":{"access_key":"lake-'
            'ak-14","secret_key":"lake-sk-15","session_token":"lake-st-16"}}}}'
        ),
        ["lake-pass-13", "lake-ak-14", "lake-sk-15", "lake-st-16"],
        ["path", "lakehouse"],
        (
            "DuckDBConnection(name='lake', max_concurrent_assets=None, path='/data/lake.db', read_only="
            "False, lakehouse=Lakehouse(format='ducklake', catalog=LakehouseCatalog(type='postgres', ca"
            "talog_id='', region='', path='', host='pg.internal', port=5433, database='catalog', auth=L"
            "akehouseCatalogAuth(username='lake-user')), storage=LakehouseStorage(type='s3', path='s3:/"
            "/bucket/lake/', region='eu-central-1', endpoint='s3.local:9000', url_style='path', use_ssl"
            "=False, auth=LakehouseStorageAuth(account_name=''))))"
        ),
    ),
    "iceberg": (
        (
            '{"name":"iceberg","path":":memory:","lakehouse":{"format":"iceberg","catalog":{"type":"glu'
            'e","catalog_id":"123456789012","region":"us-east-1","auth":{"access_key":"ice-ak-17","secr'
            'et_key":"ice-sk-18"}},"storage":{"type":"azure","path":"abfss://c@a/","auth":{"connection_'
            'string":"ice-cs-19","account_name":"acct"}}}}'
        ),
        ["ice-ak-17", "ice-sk-18", "ice-cs-19"],
        ["path", "lakehouse"],
        (
            "DuckDBConnection(name='iceberg', max_concurrent_assets=None, path=':memory:', read_only=Fa"
            "lse, lakehouse=Lakehouse(format='iceberg', catalog=LakehouseCatalog(type='glue', catalog_i"
            "d='123456789012', region='us-east-1', path='', host='', port=0, database='', auth=Lakehous"
            "eCatalogAuth(username='')), storage=LakehouseStorage(type='azure', path='abfss://c@a/', re"
            "gion='', endpoint='', url_style='', use_ssl=False, auth=LakehouseStorageAuth(account_name="
            "'acct'))))"
        ),
    ),
    "lite": (
        '{"name":"lite","path":"{parent}/other/lite.sqlite"}',
        [],
        ["path"],
        "SQLiteConnection(name='lite', max_concurrent_assets=None, path='{parent}/other/lite.sqlite')",
    ),
    "ch": (
        (
            '{"name":"ch","username":"default","password":"12345678","host":"ch.internal","port":9000,"'
            'database":"events","http_port":8123,"secure":1}'
        ),
        ["12345678"],
        ["username", "password", "host", "port", "database", "http_port", "secure"],
        (
            "ClickHouseConnection(name='ch', max_concurrent_assets=None, username='default', host='ch.i"
            "nternal', port=9000, database='events', http_port=8123, secure=1)"
        ),
    ),
    "aws": (
        '{"name":"aws","access_key":"AKIAEXAMPLE20","secret_key":"aws-secret-21","region":"eu-west-1"}',
        ["AKIAEXAMPLE20", "aws-secret-21"],
        ["access_key", "secret_key", "region"],
        "AwsConnection(name='aws', max_concurrent_assets=None, region='eu-west-1')",
    ),
    "athena": (
        (
            '{"name":"athena","access_key_id":"AKIAEXAMPLE22","secret_access_key":"athena-secret-23","s'
            'ession_token":"athena-st-24","query_results_path":"s3://results/","region":"us-east-1","da'
            'tabase":"default","profile":"prod"}'
        ),
        ["AKIAEXAMPLE22", "athena-secret-23", "athena-st-24"],
        ["access_key_id", "secret_access_key", "session_token", "query_results_path", "region", "database", "profile"],
        (
            "AthenaConnection(name='athena', max_concurrent_assets=None, query_results_path='s3://resul"
            "ts/', region='us-east-1', database='default', profile='prod')"
        ),
    ),
    "md": (
        '{"name":"md","token":"md-token-25","database":"my_db"}',
        ["md-token-25"],
        ["token", "database"],
        "MotherDuckConnection(name='md', max_concurrent_assets=None, database='my_db')",
    ),
    "chess": (
        '{"name":"chess","players":["Hikaru",1234]}',
        [],
        ["players"],
        "ChessConnection(name='chess')",
    ),
    "sheets": (
        (
            '{"name":"sheets","service_account_file":"{dir}/sa.json","credentials_json":"{\\"private_key'
            '\\": \\"sheets-key-26\\"}","spreadsheet":"sheet-id","retries":5,"ratio":1.5,"flag":"yes","sta'
            'mp":"2024-01-01"}'
        ),
        [
            '{"type": "service_account", "private_key": "sa-key-31", "client_email": "x@y"}',
            "sa-key-31",
            '{"private_key": "sheets-key-26"}',
            "sheets-key-26",
        ],
        ["service_account_file", "credentials_json", "spreadsheet", "retries", "ratio", "flag", "stamp"],
        "GoogleSheetsConnection(name='sheets')",
    ),
    "hubspot": (
        (
            '{"name":"hubspot","max_concurrent_assets":1,"api_key":"hub-key-27","extra":{"password":"hu'
            'b-pw-28","list":["a",2]}}'
        ),
        ["hub-key-27", "hub-pw-28"],
        ["max_concurrent_assets", "api_key", "extra"],
        "HubspotConnection(name='hubspot')",
    ),
}

# Fields as a secret's JSON gives them: (type_key, fields, injection_value, sensitive_values, filled_fields, repr)
FROM_PAYLOADS = [
    (
        "postgres",
        {
            "name": "pg-json",
            "port": 5432,
            "password": 98765,
            "host": "h",
            "max_concurrent_assets": "3",
            "pool_max_conns": "4",
        },
        (
            '{"name":"pg-json","max_concurrent_assets":3,"username":"","password":"98765","host":"h","p'
            'ort":5432,"database":"","pool_max_conns":4}'
        ),
        ["98765"],
        ["max_concurrent_assets", "password", "host", "port", "pool_max_conns"],
        (
            "PostgresConnection(name='pg-json', max_concurrent_assets=3, username='', host='h', port=54"
            "32, database='', schema_='', pool_max_conns=4, ssl_mode='')"
        ),
    ),
    (
        "google_cloud_platform",
        {
            "name": "gcp-json",
            "use_application_default_credentials": True,
            "max_query_cost": 1.5,
            "max_billable_bytes": 10,
            "max_query_cost_soft": 3,
        },
        (
            '{"location":"","max_billable_bytes":10,"max_query_cost":1.5,"max_query_cost_soft":3.0,"nam'
            'e":"gcp-json","project_id":"","service_account_file":"","service_account_json":"","use_app'
            'lication_default_credentials":"true"}'
        ),
        [],
        ["use_application_default_credentials", "max_billable_bytes", "max_query_cost", "max_query_cost_soft"],
        (
            "GoogleCloudPlatformConnection(name='gcp-json', max_concurrent_assets=None, project_id='', "
            "location='', use_application_default_credentials=True, max_billable_bytes=10, max_query_co"
            "st=1.5, max_billable_bytes_soft=0, max_query_cost_soft=3.0)"
        ),
    ),
    (
        "clickhouse",
        {"name": "ch-json", "secure": 0, "port": 9000.0, "password": 1.25},
        '{"name":"ch-json","username":"","password":"1.25","host":"","port":9000,"database":"","secure":0}',
        ["1.25"],
        ["password", "port"],
        (
            "ClickHouseConnection(name='ch-json', max_concurrent_assets=None, username='', host='', por"
            "t=9000, database='', http_port=0, secure=0)"
        ),
    ),
    (
        "duckdb",
        {
            "name": "duck-json",
            "path": "/x.db",
            "read_only": "false",
            "lakehouse": {"format": "iceberg", "storage": {"type": "gcs", "use_ssl": 1}},
        },
        (
            '{"name":"duck-json","path":"/x.db","lakehouse":{"format":"iceberg","storage":{"type":"gcs"'
            ',"use_ssl":true}}}'
        ),
        [],
        ["path", "lakehouse"],
        (
            "DuckDBConnection(name='duck-json', max_concurrent_assets=None, path='/x.db', read_only=Fal"
            "se, lakehouse=Lakehouse(format='iceberg', catalog=None, storage=LakehouseStorage(type='gcs"
            "', path='', region='', endpoint='', url_style='', use_ssl=True, auth=None)))"
        ),
    ),
    (
        "snowflake",
        {"name": "sf-json", "private_key": "  inline-key  ", "account": 17},
        (
            '{"account":"17","database":"","name":"sf-json","password":"","private_key":"  inline-key  '
            '","region":"","role":"","schema":"","token":"","username":"","warehouse":""}'
        ),
        ["  inline-key  ", "inline-key"],
        ["account", "private_key"],
        (
            "SnowflakeConnection(name='sf-json', max_concurrent_assets=None, account='17', username='',"
            " region='', role='', database='', schema_='', warehouse='')"
        ),
    ),
    (
        "kafka",
        {"name": "k", "token": "vt", "nested": {"deep": [{"password": 5}]}, "skip": None},
        '{"name":"k","token":"vt","nested":{"deep":[{"password":5}]}}',
        ["vt", "5"],
        ["token", "nested"],
        "KafkaConnection(name='k')",
    ),
]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".bruin.yml").write_text(CONFIG)
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "rsa.p8").write_text("-----BEGIN PRIVATE KEY-----\nrsa-body-29\n-----END PRIVATE KEY-----\n")
    (tmp_path / "keys" / "client.key").write_text("  client-key-30\n")
    (tmp_path / "sa.json").write_text('{"type": "service_account", "private_key": "sa-key-31", "client_email": "x@y"}')
    return tmp_path


def test_connections_from_a_config(project: Path) -> None:
    connections = load_config(project, None, {"SHEET": "sheet-id"}).environment("default").connections

    assert list(connections) == list(FROM_CONFIG)
    assert {connection.type_key for connection in connections.values()} >= set(CONNECTION_TYPES)
    for name, (injection, sensitive, filled, shown) in FROM_CONFIG.items():
        connection = connections[name]
        assert connection.injection_value() == in_project(injection, project), name
        assert connection.sensitive_values() == sensitive, name
        assert connection.filled_fields() == filled, name
        assert repr(connection) == in_project(shown, project), name


def in_project(text: str, project: Path) -> str:
    return text.replace("{dir}", str(project)).replace("{parent}", str(project.parent))


@pytest.mark.parametrize(("type_key", "fields", "injection", "sensitive", "filled", "shown"), FROM_PAYLOADS)
def test_connections_from_payloads(
    type_key: str, fields: dict, injection: str, sensitive: list[str], filled: list[str], shown: str
) -> None:
    connection = build_connection(type_key, fields, base_dir=None, environ={})

    assert connection.injection_value() == injection
    assert connection.sensitive_values() == sensitive
    assert connection.filled_fields() == filled
    assert repr(connection) == shown
