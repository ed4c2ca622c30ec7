# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations


class ModuleDocFragment(object):
    """What the Grafana modules add to the shared connection options (ilp.observability.http_api)."""

    DOCUMENTATION = r"""
options:
  org_id:
    description:
      - Numeric id of the Grafana organization to work in, sent as the C(X-Grafana-Org-Id)
        header. A service account token always works in the organization of its service account.
      - When not set, Grafana uses the current organization of the user.
    type: int
notes:
  - Writing dashboards and folders needs the Editor or Admin role in the organization, or the
    matching C(dashboards:) and C(folders:) permissions.
"""
