# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0), the license of the collection.
"""lifecycle_entries: the service lifecycle's folders or files with the defaults of its argument
spec filled in (plugins/plugin_utils/lifecycle_plan.py); documentation in lifecycle_entries.yml."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.ilp.observability.plugins.plugin_utils.lifecycle_plan import LifecyclePlanError, entries


def _lifecycle_entries(items, kind, group):
    try:
        return entries(items, kind, group)
    except LifecyclePlanError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):

    def filters(self):
        return {'lifecycle_entries': _lifecycle_entries}
