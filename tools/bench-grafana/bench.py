#!/usr/bin/env python3
# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Push 200 dashboards, then push them again unchanged, with two Ansible modules, side by side.

- ilp.observability.grafana_dashboard: one task with ``path: <directory>`` and ``folder``.
- community.grafana.grafana_dashboard 2.3.0 (the release bundled in the ``ansible`` 12.3.0
  package): one task looping over the 200 files, into a folder made beforehand (it cannot
  create folders); re-pushed with ``overwrite: false`` and with ``overwrite: true``.

Two sets: dashboards at an older schemaVersion, which the double (like Grafana) answers
migrated, and dashboards already at its schemaVersion, read back as pushed.

Both run with the project's ansible-core against the Grafana HTTP API DOUBLE of
tests/integration/grafana_api_double.py (not Grafana, which this project does not run), a fresh
one per module, with a service account token. Measured per run: wall time of the
ansible-playbook process, HTTP requests the double received (by method), dashboards reported
changed, and the versions Grafana's history holds afterwards.

community.grafana is taken from the ansible 12.3.0 wheel (``pip download``, nothing installed)
and unpacked under ~/.cache/ilp-observability/bench-grafana/collections. The result goes to
~/.cache/ilp-observability/bench-grafana.json and bench-grafana.md, and is printed. Bounded:
each playbook run has a timeout (--timeout, 900 s) and the double stops when the bench ends.

    .venv/bin/python tools/bench-grafana/bench.py [--count 200] [--scenarios migrated,current]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(TOP / 'tests' / 'integration'))
from grafana_api_double import SCHEMA_VERSION, GrafanaAPIDouble  # noqa: E402  pylint: disable=wrong-import-position

CACHE = Path(os.environ.get('ILP_CACHE_DIR') or Path.home() / '.cache' / 'ilp-observability')
WORK = CACHE / 'bench-grafana'
ANSIBLE_RELEASE = '12.3.0'  # the ansible package release that bundles community.grafana 2.3.0
COMMUNITY_GRAFANA = '2.3.0'
TOKEN = 'bench-token-0123456789abcdef'
BIN = Path(sys.executable).parent


def community_collection():
    """The collections path holding community.grafana 2.3.0, unpacked from the ansible wheel."""
    collections = WORK / 'collections'
    manifest = collections / 'ansible_collections' / 'community' / 'grafana' / 'MANIFEST.json'
    if not manifest.is_file():
        wheel_dir = WORK / 'wheel'
        wheel = wheel_dir / ('ansible-%s-py3-none-any.whl' % ANSIBLE_RELEASE)
        if not wheel.is_file():
            subprocess.run([sys.executable, '-m', 'pip', 'download', '--quiet', '--no-deps', '--only-binary', ':all:',
                            'ansible==%s' % ANSIBLE_RELEASE, '-d', str(wheel_dir)], check=True, timeout=600)
        staging = Path(tempfile.mkdtemp(prefix='.unpack-', dir=str(WORK)))
        try:
            prefix = 'ansible_collections/community/grafana/'
            with zipfile.ZipFile(wheel) as archive:
                archive.extractall(staging, [n for n in archive.namelist() if n.startswith(prefix)])
            if collections.exists():
                shutil.rmtree(str(collections))
            os.replace(str(staging), str(collections))
        finally:
            shutil.rmtree(str(staging), ignore_errors=True)
    version = json.loads(manifest.read_text())['collection_info']['version']
    if version != COMMUNITY_GRAFANA:
        raise SystemExit('ansible %s bundles community.grafana %s, not %s' % (ANSIBLE_RELEASE, version, COMMUNITY_GRAFANA))
    return collections


def generate(directory, count, schema_version):
    """``count`` dashboards of 4 panels each, one JSON file per dashboard."""
    directory.mkdir(parents=True)
    files = []
    for i in range(count):
        doc = dict(uid='bench-%03d' % i, title='Bench connector %03d' % i, tags=['ilp', 'bench'], timezone='utc',
                   schemaVersion=schema_version, time={'from': 'now-6h', 'to': 'now'}, refresh='30s',
                   templating={'list': [dict(name='instance', type='query', datasource=dict(type='prometheus', uid='prometheus'),
                                             query='label_values(up{job="ilp_connector"}, instance)')]},
                   panels=[dict(id=p + 1, type='timeseries', title='panel %d' % (p + 1),
                                gridPos=dict(h=8, w=12, x=12 * (p % 2), y=8 * (p // 2)),
                                datasource=dict(type='prometheus', uid='prometheus'),
                                targets=[dict(refId='A', expr='sum by (instance) (rate(ilp_connector_packets_total{n="%d"}[5m]))' % p)])
                           for p in range(4)])
        path = directory / ('%03d.json' % i)
        path.write_text(json.dumps(doc, indent=2))
        files.append(str(path))
    return files


ILP_PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Start the clock
      ansible.builtin.set_fact:
        started: "{{ now().timestamp() }}"
    - name: Push the dashboards
      ilp.observability.grafana_dashboard:
        url: "{{ url }}"
        token: "{{ token }}"
        path: "{{ directory }}"
        folder: Bench
      register: push
    - name: Stop the clock
      ansible.builtin.set_fact:
        task_seconds: "{{ now().timestamp() - (started | float) }}"
    - name: Write the result
      ansible.builtin.copy:
        dest: "{{ out }}"
        content: "{{ {'changed': push.counts.created + push.counts.updated + push.counts.deleted, 'counts': push.counts,
                      'task_seconds': task_seconds | float,
                      'module_http_calls': push.http_calls, 'failed': 0} | to_json }}"
        mode: "0644"
"""

COMMUNITY_PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Start the clock
      ansible.builtin.set_fact:
        started: "{{ now().timestamp() }}"
    - name: Push the dashboards
      community.grafana.grafana_dashboard:
        grafana_url: "{{ url }}"
        grafana_api_key: "{{ token }}"
        path: "{{ item }}"
        folder: Bench
        overwrite: "{{ overwrite }}"
        commit_message: bench
      loop: "{{ files }}"
      loop_control:
        label: "{{ item | basename }}"
      register: push
      ignore_errors: true
    - name: Stop the clock
      ansible.builtin.set_fact:
        task_seconds: "{{ now().timestamp() - (started | float) }}"
    - name: Write the result
      ansible.builtin.copy:
        dest: "{{ out }}"
        content: "{{ {'changed': push.results | selectattr('changed') | list | length, 'task_seconds': task_seconds | float,
                      'failed': push.results | selectattr('failed', 'defined') | selectattr('failed') | list | length,
                      'first_failure': (push.results | selectattr('failed', 'defined') | selectattr('failed')
                                        | map(attribute='msg') | first | default(''))} | to_json }}"
        mode: "0644"
"""


def run_playbook(workdir, name, play, extra, collections, timeout):
    playbook = workdir / ('%s.yml' % name)
    playbook.write_text(play)
    out = workdir / ('%s.result.json' % name)
    variables = workdir / ('%s.vars.json' % name)
    variables.write_text(json.dumps(dict(extra, out=str(out))))
    env = dict(os.environ)
    env.update(ANSIBLE_COLLECTIONS_PATH=os.pathsep.join([str(collections), str(TOP / 'collections')]),
               ANSIBLE_COLLECTIONS_SCAN_SYS_PATH='false', ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               ANSIBLE_LOCALHOST_WARNING='false', ANSIBLE_INVENTORY_UNPARSED_WARNING='false', ANSIBLE_NOCOLOR='1',
               ANSIBLE_DEPRECATION_WARNINGS='false', ANSIBLE_RETRY_FILES_ENABLED='false')
    env.pop('ANSIBLE_CONFIG', None)
    command = [str(BIN / 'ansible-playbook'), '-i', 'localhost,', '-c', 'local', str(playbook), '-e', '@%s' % variables]
    started = time.monotonic()
    completed = subprocess.run(command, env=env, cwd=str(workdir), capture_output=True, text=True, timeout=timeout, check=False)
    seconds = time.monotonic() - started
    (workdir / ('%s.log' % name)).write_text(completed.stdout + completed.stderr)
    if completed.returncode != 0 or not out.is_file():
        raise SystemExit('%s failed (rc %s), see %s:\n%s' % (name, completed.returncode, workdir / ('%s.log' % name),
                                                             completed.stdout[-3000:] + completed.stderr[-2000:]))
    return seconds, json.loads(out.read_text())


def measure(double, workdir, name, play, extra, collections, timeout):
    mark = double.call_count()
    seconds, result = run_playbook(workdir, name, play, extra, collections, timeout)
    calls = double.calls[mark:]
    by_method = {}
    for method, dummy_path, dummy_user, dummy_status in calls:
        by_method[method] = by_method.get(method, 0) + 1
    versions = sum(len(v) for v in double.versions.values())
    return dict(seconds=round(seconds, 2), task_seconds=round(result['task_seconds'], 2), http_calls=len(calls),
                http_calls_by_method=by_method, changed=result['changed'],
                failed=result.get('failed', 0), versions_in_history=versions, dashboards=len(double.dashboards),
                **dict((k, v) for k, v in result.items() if k in ('counts', 'module_http_calls', 'first_failure') and v))


def table(report):
    rows = ['| dashboards | module | run | wall time (s) | of which the push task (s) | HTTP calls | changed | failed '
            '| versions in history after |',
            '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |']
    for scenario, data in report['scenarios'].items():
        for module, runs in data['modules'].items():
            for run, m in runs.items():
                calls = '%d (%s)' % (m['http_calls'], ', '.join('%s %d' % kv for kv in sorted(m['http_calls_by_method'].items())))
                rows.append('| %s | %s | %s | %.1f | %.1f | %s | %d | %d | %d |'
                            % (scenario, module, run, m['seconds'], m['task_seconds'], calls, m['changed'], m['failed'],
                               m['versions_in_history']))
    return '\n'.join(rows)


SCENARIOS = {
    # Dashboards at an older schemaVersion: the double answers them migrated (schemaVersion
    # bumped, fiscalYearStartMonth: 0 added), as Grafana does with older dashboards.
    'migrated': SCHEMA_VERSION - 2,
    # Dashboards already at the double's schemaVersion: nothing to migrate, what is read back
    # equals what was pushed (plus id and version).
    'current': SCHEMA_VERSION,
}


def bench_ilp(workdir, scenario, extra, collections, timeout):
    double = GrafanaAPIDouble().start()
    try:
        double.add_token(TOKEN, 'sa-bench', 'Admin')
        extra = dict(extra, url=double.url)
        return dict(
            push=measure(double, workdir, '%s-ilp-push' % scenario, ILP_PLAY, extra, collections, timeout),
            repush_unchanged=measure(double, workdir, '%s-ilp-repush' % scenario, ILP_PLAY, extra, collections, timeout))
    finally:
        double.stop()


def bench_community(workdir, scenario, extra, collections, timeout):
    double = GrafanaAPIDouble().start()
    try:
        double.add_token(TOKEN, 'sa-bench', 'Admin')
        # community.grafana cannot create folders: the folder is made beforehand (not measured).
        double.handle('POST', '/api/folders', {'Authorization': 'Bearer ' + TOKEN},
                      json.dumps(dict(uid='bench', title='Bench')).encode())
        extra = dict(extra, url=double.url)
        runs = dict(push=measure(double, workdir, '%s-community-push' % scenario, COMMUNITY_PLAY, dict(extra, overwrite=False),
                                 collections, timeout))
        if scenario == 'migrated':
            runs['repush_unchanged_overwrite_false'] = measure(double, workdir, '%s-community-repush-no-overwrite' % scenario,
                                                               COMMUNITY_PLAY, dict(extra, overwrite=False), collections, timeout)
        runs['repush_unchanged_overwrite_true'] = measure(double, workdir, '%s-community-repush' % scenario, COMMUNITY_PLAY,
                                                          dict(extra, overwrite=True), collections, timeout)
        return runs
    finally:
        double.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--count', type=int, default=200, help='dashboards to push (default 200)')
    parser.add_argument('--timeout', type=int, default=900, help='seconds allowed for each playbook run (default 900)')
    parser.add_argument('--scenarios', default=','.join(SCENARIOS), help='comma separated, of: %s' % ', '.join(SCENARIOS))
    args = parser.parse_args()
    scenarios = [s for s in args.scenarios.split(',') if s]
    unknown = set(scenarios) - set(SCENARIOS)
    if unknown:
        parser.error('unknown scenario(s): %s' % ', '.join(sorted(unknown)))

    WORK.mkdir(parents=True, exist_ok=True)
    for old in WORK.glob('run-*'):  # the logs of the previous bench
        shutil.rmtree(str(old), ignore_errors=True)
    collections = community_collection()
    workdir = Path(tempfile.mkdtemp(prefix='run-', dir=str(WORK)))
    report = dict(count=args.count, ansible_core=subprocess.run([str(BIN / 'ansible'), '--version'], capture_output=True,
                                                                 text=True, check=False).stdout.splitlines()[0],
                  community_grafana=COMMUNITY_GRAFANA, ansible_release_bundling_it=ANSIBLE_RELEASE,
                  server='Grafana HTTP API double (tests/integration/grafana_api_double.py), not Grafana', scenarios={})
    for scenario in scenarios:
        directory = workdir / ('dashboards-%s' % scenario)
        files = generate(directory, args.count, SCENARIOS[scenario])
        extra = dict(token=TOKEN, directory=str(directory), files=files)
        report['scenarios'][scenario] = dict(schema_version=SCENARIOS[scenario], modules={
            'ilp.observability.grafana_dashboard': bench_ilp(workdir, scenario, extra, collections, args.timeout),
            'community.grafana.grafana_dashboard': bench_community(workdir, scenario, extra, collections, args.timeout)})
        shutil.rmtree(str(directory), ignore_errors=True)

    report['table'] = table(report)
    out = CACHE / 'bench-grafana.json'
    out.write_text(json.dumps(report, indent=2) + '\n')
    (CACHE / 'bench-grafana.md').write_text(report['table'] + '\n')
    print(json.dumps(report, indent=2))
    print()
    print(report['table'])
    print('\nwritten: %s and %s (playbook logs in %s)' % (out, CACHE / 'bench-grafana.md', workdir))


if __name__ == '__main__':
    main()
