# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations


class ModuleDocFragment(object):
    """Connection options of the modules that talk to the Prometheus HTTP API."""

    DOCUMENTATION = r"""
options:
  url:
    description:
      - Base URL of the Prometheus server, for example V(http://127.0.0.1:9090), including the
        path prefix when Prometheus runs with C(--web.external-url) or C(--web.route-prefix) behind
        a path, for example V(https://monitoring.example.com/prometheus).
      - The module appends the API path (C(/api/v1/...)) itself.
      - Do not embed credentials in the URL; use O(url_username) and O(url_password) instead.
    type: str
    required: true
  validate_certs:
    description:
      - Verify the TLS certificate of the server when O(url) uses C(https).
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
      - PEM client certificate for mutual TLS (C(tls_server_config.client_auth_type) in the
        Prometheus web configuration file).
      - May also hold the private key, otherwise set O(client_key).
    type: path
  client_key:
    description:
      - PEM private key of O(client_cert).
    type: path
  url_username:
    description:
      - User name for HTTP basic authentication (C(basic_auth_users) in the Prometheus web
        configuration file).
    type: str
    aliases: [username]
  url_password:
    description:
      - Password for HTTP basic authentication.
      - Never shown in results or error messages.
    type: str
    aliases: [password]
  force_basic_auth:
    description:
      - Send the basic authentication header with the first request instead of waiting for a
        C(401) challenge.
      - "Prometheus answers with a bare C(WWW-Authenticate: Basic) challenge without a realm, which
        the Python HTTP client does not answer, so keep the default V(true) when using basic
        authentication."
    type: bool
    default: true
  bearer_token:
    description:
      - "Token sent as C(Authorization: Bearer <token>), for Prometheus behind an authenticating
        reverse proxy."
      - Never shown in results or error messages.
      - Mutually exclusive with O(url_username) and O(url_password).
    type: str
  request_timeout:
    description:
      - Timeout in seconds of each HTTP request to Prometheus.
    type: float
    default: 10.0
  use_proxy:
    description:
      - Use the proxy from the C(http_proxy), C(https_proxy) and C(no_proxy) environment variables.
    type: bool
    default: true
notes:
  - The connection options are good candidates for
    C(module_defaults) with C(group/ilp.observability.observability).
"""

    # Attributes of the read-only modules that query the Prometheus API. List this fragment
    # before ansible.builtin.action_common_attributes(.actiongroups) in extends_documentation_fragment:
    # on a merge the values already in the documentation win, so the builtin fragments then only
    # add their descriptions.
    READ_ONLY_ATTRIBUTES = r"""
attributes:
  check_mode:
    support: full
    details: The module only reads from the Prometheus API, so it runs unchanged in check mode.
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
