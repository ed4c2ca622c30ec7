# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations


class ModuleDocFragment(object):
    """Options every module of the collection that talks to an HTTP API shares.

    The argument spec behind them is plugins/module_utils/http_api.py (module_kwargs).
    """

    # The connection to the service (the shared HTTP client).
    DOCUMENTATION = r"""
options:
  url:
    description:
      - Base URL of the service, for example V(http://127.0.0.1:9090) for Prometheus or
        V(http://127.0.0.1:3000) for Grafana, including the path prefix when the service is served
        behind one (Prometheus' C(--web.external-url), Grafana's C(root_url) with
        C(serve_from_sub_path)), for example V(https://monitoring.example.com/prometheus).
      - The module appends the API path (C(/api/...)) itself.
      - Do not embed credentials in the URL; use O(url_username) and O(url_password), or O(bearer_token).
    type: str
    required: true
  url_username:
    description:
      - User name for HTTP basic authentication (C(basic_auth_users) of a Prometheus or Alertmanager
        web configuration file, a Grafana user).
    type: str
    aliases: [username]
  url_password:
    description:
      - Password for HTTP basic authentication.
      - Never shown in results or error messages.
    type: str
    aliases: [password]
  bearer_token:
    description:
      - "Token sent as C(Authorization: Bearer <token>): a Grafana service account token, or the token
        of an authenticating reverse proxy in front of the service."
      - Never shown in results or error messages.
      - Mutually exclusive with O(url_username) and O(url_password).
    type: str
    aliases: [token]
  force_basic_auth:
    description:
      - Send the basic authentication header with the first request instead of waiting for a
        C(401) challenge.
      - "Prometheus answers with a bare C(WWW-Authenticate: Basic) challenge without a realm, which
        the Python HTTP client does not answer, and Grafana's API sends none, so keep the default
        V(true) when using basic authentication."
    type: bool
    default: true
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
      - PEM client certificate for mutual TLS (C(tls_server_config.client_auth_type) of a Prometheus
        web configuration file, or a proxy that asks for one).
      - May also hold the private key, otherwise set O(client_key).
    type: path
  client_key:
    description:
      - PEM private key of O(client_cert).
    type: path
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
notes:
  - The connection options are good candidates for C(module_defaults) with
    C(group/ilp.observability.observability), or with the modules' names when a play talks to
    several services.
  - Errors name the method, the URL without credentials and the service's answer, and never the
    password or the token.
"""

    # What every check module shares: one way of waiting and of ending (http_api.run_check).
    CHECK = r"""
options:
  wait_timeout:
    description:
      - Seconds to keep asking, every O(wait_interval) seconds, until the check finds no problem, for
        example right after the service started or reloaded.
      - Connection failures, timeouts and HTTP 5xx answers (a service answers C(503) while it
        starts) are retried too; authentication and other client errors fail at once.
      - With the default V(0) the service is asked once.
    type: int
    default: 0
  wait_interval:
    description:
      - Seconds between two attempts while waiting (O(wait_timeout)).
    type: float
    default: 5.0
  fail_on_problems:
    description:
      - When V(true), the module fails naming every problem left after O(wait_timeout). When
        V(false) it returns them in RV(problems) (and RV(ok) false) with a warning, so that a
        play can collect several checks before it decides.
      - A service that cannot be asked always fails the module.
    type: bool
    default: true
notes:
  - Every check module returns RV(ok), RV(problems) (each with C(kind), C(subject) and
    C(message)), RV(http_calls) and RV(elapsed), besides its own findings.
"""

    # The optional second connection of the stack checks, to the Prometheus that scrapes the
    # checked service (plugins/module_utils/stack_checks.py).
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

    # Attributes of the read-only modules. List this fragment before
    # ansible.builtin.action_common_attributes(.actiongroups) in extends_documentation_fragment:
    # on a merge the values already in the documentation win, so the builtin fragments then only
    # add their descriptions.
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
