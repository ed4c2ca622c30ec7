# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0), the license of the collection.
"""Filters of the endpoint model (plugins/plugin_utils/endpoints.py): where each component
instance of the inventory answers and how. Documentation: endpoints.yml, endpoint.yml and log_store.yml."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.ilp.observability.plugins.plugin_utils import endpoints as model


def _endpoints(groups, hostvars, component, endpoint):
    try:
        return model.endpoints(groups, hostvars, component, endpoint)
    except model.EndpointError as err:
        raise AnsibleFilterError("endpoints: %s" % err)


def _endpoint(host, hostvars, component, endpoint, address_var=""):
    try:
        return model.resolve(component, endpoint, host, hostvars[host], address_var=address_var)
    except model.EndpointError as err:
        raise AnsibleFilterError("endpoint: %s" % err)


def _log_store(groups, hostvars=None):
    """The log store in use, and with hostvars its hosts' OTLP logs endpoints."""
    try:
        if hostvars is None:
            return model.log_store(groups)
        return {"kind": model.log_store(groups), "endpoints": model.log_store_endpoints(groups, hostvars)}
    except model.EndpointError as err:
        raise AnsibleFilterError("log_store: %s" % err)


class FilterModule:
    """The endpoint model."""

    def filters(self):
        return {"endpoints": _endpoints, "endpoint": _endpoint, "log_store": _log_store}
