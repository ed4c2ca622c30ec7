# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations


class ModuleDocFragment(object):
    """Options of the stack check modules (alertmanager_check, jaeger_check, logs_check)."""

    # The connection to the checked service (shared HTTP client, plugins/module_utils/http_api.py).
    DOCUMENTATION = r"""
options:
  url:
    description:
      - Base URL of the checked service (its API's own path is appended by the module), for
        example V(http://127.0.0.1:9093) for Alertmanager, including a path prefix when it is
        served behind one.
      - Do not embed credentials in the URL; use O(url_username) and O(url_password) instead.
    type: str
    required: true
  validate_certs:
    description:
      - Verify the TLS certificate of the service when O(url) uses C(https).
      - Only set to V(false) on lab hosts with self-signed certificates.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file with the CA certificates used to verify the server certificate, instead of the
        system trust store.
    type: path
  client_cert:
    description:
      - PEM client certificate for mutual TLS; may also hold the private key, otherwise set O(client_key).
    type: path
  client_key:
    description:
      - PEM private key of O(client_cert).
    type: path
  url_username:
    description:
      - User name for HTTP basic authentication (C(basic_auth_users) of the service's web configuration).
    type: str
    aliases: [username]
  url_password:
    description:
      - Password for HTTP basic authentication; never shown in results or error messages.
    type: str
    aliases: [password]
  force_basic_auth:
    description:
      - Send the basic authentication header with the first request instead of waiting for a C(401) challenge.
    type: bool
    default: true
  bearer_token:
    description:
      - "Token sent as C(Authorization: Bearer <token>), for a service behind an authenticating reverse proxy."
      - Never shown in results or error messages. Mutually exclusive with O(url_username) and O(url_password).
    type: str
  request_timeout:
    description:
      - Timeout in seconds of each HTTP request.
    type: float
    default: 10.0
  use_proxy:
    description:
      - Use the proxy from the C(http_proxy), C(https_proxy) and C(no_proxy) environment variables.
    type: bool
    default: true
  fail_on_problems:
    description:
      - When V(true), the module fails naming every problem it found. When V(false) it returns them
        in RV(problems) (and RV(ok) false) with a warning, so that a play can collect several checks
        before it decides.
      - A service that cannot be reached always fails the module.
    type: bool
    default: true
notes:
  - The connection options are good candidates for
    C(module_defaults) with C(group/ilp.observability.observability).
"""

    # The optional second connection, to the Prometheus that scrapes the checked service.
    PROMETHEUS = r"""
options:
  prometheus_url:
    description:
      - Base URL of the Prometheus server that scrapes the checked service, for example
        V(http://127.0.0.1:9090). The checks that need a rate of one of the service's counters query it
        (C(/api/v1/query)); without it they are skipped.
    type: str
  prometheus_username:
    description:
      - User name for HTTP basic authentication to Prometheus.
    type: str
  prometheus_password:
    description:
      - Password of O(prometheus_username); never shown in results or error messages.
    type: str
  prometheus_bearer_token:
    description:
      - "Token sent to Prometheus as C(Authorization: Bearer <token>); never shown."
    type: str
  prometheus_validate_certs:
    description:
      - Verify Prometheus' TLS certificate; unset means the value of O(validate_certs).
    type: bool
  prometheus_ca_path:
    description:
      - PEM file with the CA certificates that verify Prometheus' certificate.
    type: path
"""

    READ_ONLY_ATTRIBUTES = r"""
attributes:
  check_mode:
    support: full
    details: The module only reads from the service's API, so it runs unchanged in check mode.
  diff_mode:
    support: none
    details: Nothing is changed, so there is nothing to show a diff for.
  platform:
    platforms: posix
  action_group:
    support: full
    membership:
      - ilp.observability.observability
"""
