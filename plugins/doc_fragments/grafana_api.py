# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations


class ModuleDocFragment(object):
    """Connection options of the modules that talk to the Grafana HTTP API."""

    DOCUMENTATION = r"""
options:
  url:
    description:
      - Base URL of Grafana, for example V(http://127.0.0.1:3000), including the sub path when
        Grafana is served from one (C(root_url) with C(serve_from_sub_path)), for example
        V(https://monitoring.example.com/grafana).
      - The module appends the API path (C(/api/...)) itself.
      - Do not embed credentials in the URL; use O(url_username) and O(url_password), or O(token).
    type: str
    required: true
    aliases: [grafana_url]
  url_username:
    description:
      - User name for HTTP basic authentication (a Grafana user, or an LDAP user when LDAP is set up).
      - Writing dashboards and folders needs the Editor or Admin role in the organization.
    type: str
    aliases: [username]
  url_password:
    description:
      - Password for HTTP basic authentication.
      - Never shown in results or error messages.
    type: str
    aliases: [password]
  token:
    description:
      - "Service account token, sent as C(Authorization: Bearer <token>)."
      - Never shown in results or error messages.
      - Mutually exclusive with O(url_username) and O(url_password).
    type: str
  org_id:
    description:
      - Numeric id of the Grafana organization to work in, sent as the C(X-Grafana-Org-Id)
        header. A service account token always works in the organization of its service account.
      - When not set, Grafana uses the current organization of the user.
    type: int
  force_basic_auth:
    description:
      - Send the basic authentication header with the first request instead of waiting for a
        C(401) challenge, which Grafana's API does not send. Keep the default.
    type: bool
    default: true
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
      - PEM client certificate for mutual TLS, for Grafana behind a proxy that asks for one.
      - May also hold the private key, otherwise set O(client_key).
    type: path
  client_key:
    description:
      - PEM private key of O(client_cert).
    type: path
  request_timeout:
    description:
      - Timeout in seconds of each HTTP request to Grafana.
    type: float
    default: 10.0
  use_proxy:
    description:
      - Use the proxy from the C(http_proxy), C(https_proxy) and C(no_proxy) environment variables.
    type: bool
    default: true
notes:
  - The connection options are good candidates for C(module_defaults) of the modules, for
    example C(module_defaults) with C(ilp.observability.grafana_dashboard) and
    C(ilp.observability.grafana_check), or with C(group/ilp.observability.observability) when
    the play talks to Grafana only (the Prometheus modules of the group take O(url) too).
  - Errors name the method, the URL without credentials and Grafana's answer, and never the
    password or the token.
"""

    # Attributes of the read-only modules that query the Grafana API. List this fragment before
    # ansible.builtin.action_common_attributes(.actiongroups) in extends_documentation_fragment.
    READ_ONLY_ATTRIBUTES = r"""
attributes:
  check_mode:
    support: full
    details: The module only reads from the Grafana API, so it runs unchanged in check mode.
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
