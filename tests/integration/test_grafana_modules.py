# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Integration tests of grafana_dashboard and grafana_check, run with the ansible CLI.

Run from the repository root with the project venv:  .venv/bin/python -m pytest -q tests/integration
Every test runs against the Grafana HTTP API DOUBLE of grafana_api_double.py (not Grafana: this
project does not run Grafana, which is AGPL-licensed) and, when ILP_GRAFANA_URL is set, against
that real Grafana too, with ILP_GRAFANA_TOKEN or ILP_GRAFANA_USER/ILP_GRAFANA_PASSWORD. Against
a real Grafana the tests work in folders and uids of their own (prefix ``ilpit<hex>``) and
delete them afterwards; a few need an admin user (to create a second user and a viewer) or
something only the double can stage (provisioned and plugin dashboards, a concurrent save), and
skip with the reason otherwise. Nothing here talks to anything but 127.0.0.1 and ILP_GRAFANA_URL.
"""

from __future__ import annotations

import base64
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from grafana_api_double import GrafanaAPIDouble  # noqa: E402  pylint: disable=wrong-import-position

TOP = Path(__file__).resolve().parents[2]
ANSIBLE = Path(sys.executable).parent / 'ansible'
COLLECTIONS = TOP / 'collections'
ANSIBLE_TIMEOUT = 180
REAL_SKIP = ('no real Grafana here: Grafana is AGPL and not run in this project\'s tests; '
             'set ILP_GRAFANA_URL to run these against one')

ADMIN_PASSWORD = 'It-Gr4fana-Admin-Passw0rd'
TOKEN = 'glsa_itDoubleToken_0123456789abcdef'
WRONG_PASSWORD = 'Wr0ng-Gr4fana-Passw0rd-not-this-one'


# --- running modules -----------------------------------------------------------------------------

class AnsibleRun(object):
    def __init__(self, completed, args):
        self.rc = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr
        self.args = args
        match = re.search(r'^localhost \| (SUCCESS|CHANGED|FAILED!|UNREACHABLE!|SKIPPED)[^=\n]*=> ', self.stdout, re.M)
        if not match:
            raise AssertionError('no result in the ansible output of %s:\n%s\n%s' % (args, self.stdout, self.stderr))
        self.status = match.group(1)
        self.result, dummy = json.JSONDecoder().raw_decode(self.stdout[match.end():])
        self.before_result = self.stdout[:match.start()]

    @property
    def failed(self):
        return self.status not in ('SUCCESS', 'CHANGED')

    @property
    def output(self):
        return self.stdout + self.stderr

    def __repr__(self):
        return 'AnsibleRun(%s -> %s: %s)' % (self.args[3:5], self.status, self.result.get('msg'))


def run_module(module, args, check=False, diff=False):
    """Run a module of the collection on localhost with the ansible CLI and return its result."""
    command = [str(ANSIBLE), 'localhost', '-m', 'ilp.observability.' + module, '-a', json.dumps(args)]
    if check:
        command.append('--check')
    if diff:
        command.append('--diff')
    env = dict(os.environ)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        ANSIBLE_NOCOLOR='1',
        ANSIBLE_FORCE_COLOR='0',
        ANSIBLE_DEPRECATION_WARNINGS='false',
        ANSIBLE_LOCALHOST_WARNING='false',
        ANSIBLE_INVENTORY_UNPARSED_WARNING='false',
        ANSIBLE_RETRY_FILES_ENABLED='false',
        PATH=str(ANSIBLE.parent) + os.pathsep + env.get('PATH', ''),
    )
    env.pop('ANSIBLE_CONFIG', None)
    completed = subprocess.run(command, env=env, cwd=tempfile.gettempdir(), capture_output=True, text=True,
                               timeout=ANSIBLE_TIMEOUT, check=False)
    return AnsibleRun(completed, command)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def assert_clean_failure(run, *secrets):
    assert run.failed, run
    assert 'Traceback' not in run.output, run.output
    assert 'MODULE FAILURE' not in run.output, run.output
    for secret in secrets:
        assert secret not in run.output


# --- targets: the double, or a real Grafana ------------------------------------------------------

class Target(object):
    """A Grafana API to test against: ``url``, module credentials ``auth`` and an HTTP helper."""

    kind = None

    def http(self, method, path, body=None, auth=None):
        """``(status, document)`` of one request, with ``auth`` = (user, password), a token or the admin's."""
        request = urllib.request.Request(self.url + path, method=method,
                                         data=json.dumps(body).encode() if body is not None else None)
        request.add_header('Accept', 'application/json')
        if body is not None:
            request.add_header('Content-Type', 'application/json')
        auth = auth or self.admin_auth
        if isinstance(auth, tuple):
            request.add_header('Authorization', 'Basic ' + base64.b64encode(('%s:%s' % auth).encode()).decode())
        elif auth:
            request.add_header('Authorization', 'Bearer ' + auth)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the target under test
                return response.status, json.loads(response.read() or b'null')
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                return exc.code, json.loads(raw or b'null')
            except ValueError:
                return exc.code, raw.decode('utf-8', 'replace')

    def require_double(self, why):
        if self.kind != 'double':
            pytest.skip('only the double can %s' % why)

    def calls_mark(self):
        return None

    def calls_since(self, mark):
        return None


class DoubleTarget(Target):
    kind = 'double'

    def __init__(self):
        self.double = GrafanaAPIDouble(admin_password=ADMIN_PASSWORD).start()
        self.double.add_token(TOKEN, 'sa-ansible', 'Admin')
        self.url = self.double.url
        self.auth = dict(token=TOKEN)
        self.basic_auth = dict(url_username='admin', url_password=ADMIN_PASSWORD)
        self.admin_auth = ('admin', ADMIN_PASSWORD)

    def user(self, login, role):
        password = 'pw-%s-%s' % (login, uuid.uuid4().hex[:8])
        self.double.add_user(login, password, role)
        return login, password

    def add_datasource(self, name, healthy, message):
        ds = self.double.add_datasource(name, 'prometheus', uid=name.lower(),
                                        health=('OK', message) if healthy else ('ERROR', message))
        return ds['uid']

    def delete_datasource(self, uid):
        self.double.datasources = [d for d in self.double.datasources if d['uid'] != uid]

    def calls_mark(self):
        return self.double.call_count()

    def calls_since(self, mark):
        return self.double.calls_since(mark)

    def close(self):
        self.double.stop()


class RealTarget(Target):
    kind = 'real'

    def __init__(self, url):
        self.url = url.rstrip('/')
        token = os.environ.get('ILP_GRAFANA_TOKEN')
        user, password = os.environ.get('ILP_GRAFANA_USER'), os.environ.get('ILP_GRAFANA_PASSWORD')
        if token:
            self.auth = dict(token=token)
        elif user and password:
            self.auth = dict(url_username=user, url_password=password)
        else:
            pytest.skip('ILP_GRAFANA_URL is set but neither ILP_GRAFANA_TOKEN nor ILP_GRAFANA_USER/ILP_GRAFANA_PASSWORD')
        self.basic_auth = dict(url_username=user, url_password=password) if user and password else None
        self.admin_auth = (user, password) if user and password else token
        self.created_users = []

    def user(self, login, role):
        if not self.basic_auth:
            pytest.skip('creating a second Grafana user needs ILP_GRAFANA_USER/ILP_GRAFANA_PASSWORD of a server admin')
        login = '%s-%s' % (login, uuid.uuid4().hex[:8])
        password = 'pw-%s' % uuid.uuid4().hex
        status, doc = self.http('POST', '/api/admin/users', dict(name=login, login=login, password=password,
                                                                 email='%s@example.invalid' % login))
        if status != 200:
            pytest.skip('cannot create a Grafana user (HTTP %s: %s)' % (status, doc))
        self.created_users.append(doc['id'])
        status, doc = self.http('PATCH', '/api/org/users/%s' % doc['id'], dict(role=role))
        if status != 200:
            pytest.skip('cannot give the new Grafana user the %s role (HTTP %s: %s)' % (role, status, doc))
        return login, password

    def add_datasource(self, name, healthy, message):
        # TestData (built in) passes its health check; a Prometheus on a closed port fails it.
        uid = ('%s-%s' % (name, uuid.uuid4().hex[:6])).lower()
        body = dict(name=uid, uid=uid, access='proxy', type='grafana-testdata-datasource') if healthy else \
            dict(name=uid, uid=uid, access='proxy', type='prometheus', url='http://127.0.0.1:%d' % free_port())
        status, doc = self.http('POST', '/api/datasources', body)
        assert status == 200, doc
        return uid

    def delete_datasource(self, uid):
        self.http('DELETE', '/api/datasources/uid/%s' % uid)

    def close(self):
        for user_id in self.created_users:
            self.http('DELETE', '/api/admin/users/%s' % user_id)


@pytest.fixture(scope='session', params=['double', 'real'])
def grafana(request):
    """The Grafana API under test: the double always, a real Grafana when ILP_GRAFANA_URL is set."""
    if request.param == 'real':
        url = os.environ.get('ILP_GRAFANA_URL')
        if not url:
            pytest.skip(REAL_SKIP)
        target = RealTarget(url)
    else:
        target = DoubleTarget()
    request.addfinalizer(target.close)
    return target


@pytest.fixture
def space(grafana):
    """A prefix of our own for folder titles and uids; the folders made under it are deleted after the test."""
    prefix = 'ilpit%s' % uuid.uuid4().hex[:8]
    yield prefix
    status, folders = grafana.http('GET', '/api/folders?limit=1000')
    for folder in folders if status == 200 else []:
        if folder.get('title', '').startswith(prefix):
            grafana.http('DELETE', '/api/folders/%s?forceDeleteRules=true' % folder['uid'])
    status, hits = grafana.http('GET', '/api/search?type=dash-db&query=%s&limit=5000' % prefix)
    for hit in hits if status == 200 else []:
        if hit.get('uid', '').startswith(prefix):
            grafana.http('DELETE', '/api/dashboards/uid/%s' % hit['uid'])


def dashboard(uid, title, panels=2, **extra):
    doc = dict(uid=uid, title=title, tags=['ilp'], timezone='utc', schemaVersion=SCHEMA_VERSION_GIVEN,
               time={'from': 'now-6h', 'to': 'now'},
               panels=[dict(id=i + 1, type='timeseries', title='panel %d' % (i + 1),
                            gridPos=dict(h=8, w=12, x=12 * (i % 2), y=8 * (i // 2)),
                            datasource=dict(type='prometheus', uid='prometheus'),
                            targets=[dict(refId='A', expr='sum(rate(ilp_packets_total[5m]))')])
                       for i in range(panels)])
    doc.update(extra)
    return doc


SCHEMA_VERSION_GIVEN = 39  # older than the double's (41): every read is "migrated"


def write_set(directory, prefix, count, title='ILP'):
    directory.mkdir(parents=True, exist_ok=True)
    docs = []
    for i in range(count):
        doc = dashboard('%s-d%02d' % (prefix, i), '%s %s %02d' % (prefix, title, i))
        (directory / ('%02d.json' % i)).write_text(json.dumps(doc, indent=2))
        docs.append(doc)
    return docs


def push(grafana, check=False, diff=False, **args):
    return run_module('grafana_dashboard', dict(dict(url=grafana.url, **grafana.auth), **args), check=check, diff=diff)


def actions(run):
    return dict((d['uid'], d['action']) for d in run.result['dashboards'])


# --- grafana_dashboard ---------------------------------------------------------------------------

def test_push_creates_then_an_unchanged_repush_changes_nothing(grafana, space, tmp_path):
    write_set(tmp_path / 'set', space, 5)
    folder = '%s/Connectors' % space
    first = push(grafana, path=str(tmp_path / 'set'), folder=folder)
    assert not first.failed, first
    assert first.result['changed'] is True
    assert first.result['counts'] == dict(created=5, updated=0, unchanged=0, deleted=0, skipped=0)
    assert [f['created'] for f in first.result['folders']] == [True, True]
    assert {d['folder'] for d in first.result['dashboards']} == {folder}

    mark = grafana.calls_mark()
    second = push(grafana, path=str(tmp_path / 'set'), folder=folder)
    assert not second.failed, second
    assert second.result['changed'] is False
    assert second.result['counts'] == dict(created=0, updated=0, unchanged=5, deleted=0, skipped=0)
    assert [f['created'] for f in second.result['folders']] == [False, False]
    # two folder levels looked up, one listing, one read per dashboard, no write
    assert second.result['http_calls'] == 2 + 1 + 5
    assert second.result['http_calls_by_method'] == {'GET': 8}
    calls = grafana.calls_since(mark)
    if calls is not None:
        assert len(calls) == second.result['http_calls']
        assert len([c for c in calls if c.startswith('GET /api/search')]) == 1
        assert not [c for c in calls if not c.startswith('GET ')]


def test_a_repush_right_after_a_push_with_a_lagging_search_index_changes_nothing(grafana, space, tmp_path):
    """Grafana 12/13 (unified storage): /api/search does not list a dashboard right after its write.
    The double's index takes a write in only after two more searches; a real Grafana lags as it does."""
    write_set(tmp_path / 'set', space, 3)
    folder = '%s/Lagging' % space
    if grafana.kind == 'double':
        grafana.double.search_lag_requests = 2
    try:
        first = push(grafana, path=str(tmp_path / 'set'), folder=folder)
        assert not first.failed, first
        assert first.result['counts']['created'] == 3
        mark = grafana.calls_mark()
        again = push(grafana, path=str(tmp_path / 'set'), folder=folder)
        assert not again.failed, again
        assert again.result['changed'] is False, again.result
        assert again.result['counts'] == dict(created=0, updated=0, unchanged=3, deleted=0, skipped=0)
        if grafana.kind == 'double':
            uids = set(actions(again))
            assert not uids & set(grafana.double.search_index), 'the re-push ran while search did not list them'
            assert not [c for c in grafana.calls_since(mark) if not c.startswith('GET ')], 'nothing was written'
            assert {grafana.double.dashboards[uid]['version'] for uid in uids} == {1}
    finally:
        if grafana.kind == 'double':
            grafana.double.search_lag_requests = 0


def test_check_mode_reports_and_writes_nothing(grafana, space, tmp_path):
    write_set(tmp_path / 'set', space, 3)
    mark = grafana.calls_mark()
    run = push(grafana, check=True, path=str(tmp_path / 'set'), folder='%s/A/B' % space)
    assert not run.failed, run
    assert run.result['changed'] is True
    assert set(actions(run).values()) == {'created'}
    assert 'would be created' in run.result['msg']
    assert [f['created'] for f in run.result['folders']] == [True, True, True]
    for uid in actions(run):
        assert grafana.http('GET', '/api/dashboards/uid/%s' % uid)[0] == 404
    calls = grafana.calls_since(mark)
    if calls is not None:
        assert [c for c in calls if not c.startswith('GET ')][:1] == []


def test_diff_shows_the_normalised_json_change(grafana, space, tmp_path):
    (doc,) = write_set(tmp_path / 'set', space, 1)
    assert not push(grafana, path=str(tmp_path / 'set'), folder=space).failed
    doc['panels'][0]['title'] = 'packets per second'
    changed = tmp_path / 'changed.json'
    changed.write_text(json.dumps(doc))
    run = push(grafana, check=True, diff=True, path=str(changed), folder=space)
    assert not run.failed, run
    assert actions(run) == {doc['uid']: 'updated'}
    assert '--- before: grafana: %s (version 1)' % doc['uid'] in run.before_result
    assert '+++ after: %s' % changed in run.before_result
    assert re.search(r'^-\s+"title": "panel 1",$', run.before_result, re.M), run.before_result
    assert re.search(r'^\+\s+"title": "packets per second",$', run.before_result, re.M), run.before_result
    assert '"schemaVersion"' not in run.before_result  # normalised: Grafana's fields are not shown
    # the check changed nothing
    assert grafana.http('GET', '/api/dashboards/uid/%s' % doc['uid'])[1]['meta']['version'] == 1


def test_edit_in_grafana_is_not_overwritten_unless_overwrite(grafana, space, tmp_path):
    docs = write_set(tmp_path / 'set', space, 2)
    assert not push(grafana, path=str(tmp_path / 'set'), folder=space).failed
    uid = docs[0]['uid']
    # another user edits the dashboard "in the UI": read it, change it, save it with its version
    login, password = grafana.user('alice', 'Editor')
    status, current = grafana.http('GET', '/api/dashboards/uid/%s' % uid, auth=(login, password))
    assert status == 200
    edited = current['dashboard']
    edited['panels'][0]['title'] = 'edited by alice'
    save = dict(dashboard=edited, folderUid=current['meta']['folderUid'], message='tweak', overwrite=False)
    status, answer = grafana.http('POST', '/api/dashboards/db', save, auth=(login, password))
    assert status == 200, answer
    meta = grafana.http('GET', '/api/dashboards/uid/%s' % uid)[1]['meta']
    assert meta['updatedBy'] == login

    run = push(grafana, path=str(tmp_path / 'set'), folder=space)
    assert_clean_failure(run, password)
    msg = run.result['msg']
    assert "(uid %s) was changed in Grafana since this module pushed it: saved by %s at %s" % (uid, login, meta['updated']) in msg
    assert 'nothing was written' in msg and 'overwrite: true' in msg
    assert grafana.http('GET', '/api/dashboards/uid/%s' % uid)[1]['meta']['version'] == meta['version']

    run = push(grafana, path=str(tmp_path / 'set'), folder=space, overwrite=True)
    assert not run.failed, run
    assert actions(run) == {uid: 'updated', docs[1]['uid']: 'unchanged'}
    status, now = grafana.http('GET', '/api/dashboards/uid/%s' % uid)
    assert now['dashboard']['panels'][0]['title'] == 'panel 1'

    run = push(grafana, path=str(tmp_path / 'set'), folder=space)
    assert not run.failed, run
    assert run.result['changed'] is False


def test_a_concurrent_save_is_a_412_version_mismatch(grafana, space, tmp_path):
    grafana.require_double('save a dashboard between the module reading it and writing it')
    (doc,) = write_set(tmp_path / 'set', space, 1)
    assert not push(grafana, path=str(tmp_path / 'set'), folder=space).failed
    doc['title'] += ' v2'
    (tmp_path / 'set' / '00.json').write_text(json.dumps(doc))

    def race(double, method, path):
        if method == 'POST' and path == '/api/dashboards/db':
            double.hooks.remove(race)
            stored = double.dashboards[doc['uid']]
            double.save_as('bob', dict(stored['data'], description='bob was here'), stored['folderUid'], 'bob')
    grafana.double.hooks.append(race)
    run = push(grafana, path=str(tmp_path / 'set'), folder=space)
    assert_clean_failure(run)
    assert '412 version-mismatch' in run.result['msg']
    assert 'HTTP 412' in run.result['msg']


def test_duplicate_titles_are_saved_and_a_plugin_dashboard_is_named(grafana, space, tmp_path):
    # Since Grafana 11.3 titles need not be unique in a folder (grafana/grafana#90687): no 412 name-exists.
    assert not push(grafana, dashboard=dashboard('%s-first' % space, '%s same title' % space), folder=space).failed
    run = push(grafana, dashboard=dashboard('%s-second' % space, '%s same title' % space), folder=space)
    assert not run.failed, run
    assert actions(run) == {'%s-second' % space: 'created'}

    grafana.require_double('make a dashboard belong to an app plugin')
    grafana.double.mark_plugin_dashboard('%s-first' % space, 'grafana-ilp-app')
    run = push(grafana, dashboard=dashboard('%s-first' % space, '%s other title' % space), folder=space)
    assert_clean_failure(run)
    assert "cannot save '%s other title' (uid %s-first): it belongs to a Grafana plugin (412 plugin-dashboard)" \
        % (space, space) in run.result['msg']
    assert 'The dashboard belongs to plugin grafana-ilp-app.' in run.result['msg']


def test_a_long_commit_message_is_cut_to_grafanas_500_bytes(grafana, space):
    doc = dashboard('%s-long' % space, '%s long message' % space)
    text = 'Pushed by the nightly job: ' + 'é' * 600  # 1227 bytes
    run = push(grafana, dashboard=doc, folder=space, commit_message=text)
    assert not run.failed, run
    status, doc_versions = grafana.http('GET', '/api/dashboards/uid/%s/versions?limit=1' % doc['uid'])
    assert status == 200
    versions = doc_versions['versions'] if isinstance(doc_versions, dict) else doc_versions
    message = versions[0]['message']
    assert len(message.encode('utf-8')) <= 500
    assert message.startswith('Pushed by the nightly job: éé') and '...' in message
    assert re.search(r'\[ilp\.observability sha256:[0-9a-f]{64}\]$', message), message
    again = push(grafana, dashboard=doc, folder=space, commit_message=text)
    assert not again.failed and again.result['changed'] is False, again


def test_the_double_refuses_a_message_over_500_bytes(grafana, space):
    grafana.require_double('be checked for its own limit (a real Grafana is checked by the test above)')
    body = dict(dashboard=dashboard('%s-raw' % space, '%s raw' % space), folderUid='', message='x' * 501, overwrite=False)
    assert grafana.http('POST', '/api/dashboards/db', body) == (400, {'message': 'message too long, max 500 characters'})


def test_migrated_dashboard_is_unchanged(grafana, space, tmp_path):
    old = dashboard('%s-old' % space, '%s old style' % space, schemaVersion=27)
    old['panels'][0]['datasource'] = 'prometheus'  # a data source name: migrated to a reference on read
    first = push(grafana, dashboard=old, folder=space)
    assert not first.failed, first
    mark = grafana.calls_mark()
    again = push(grafana, dashboard=old, folder=space)
    assert not again.failed, again
    assert again.result['changed'] is False
    assert actions(again) == {old['uid']: 'unchanged'}
    if grafana.kind == 'double':
        assert 'migrated form' in again.result['dashboards'][0]['reason']
        assert 'GET /api/dashboards/uid/%s/versions?limit=1' % old['uid'] in grafana.calls_since(mark)


def test_prune_deletes_the_other_dashboards_of_the_folder(grafana, space, tmp_path):
    docs = write_set(tmp_path / 'set', space, 3)
    assert not push(grafana, path=str(tmp_path / 'set'), folder=space).failed
    sub = dashboard('%s-sub' % space, '%s in a subfolder' % space)
    assert not push(grafana, dashboard=sub, folder='%s/Sub' % space).failed
    (tmp_path / 'set' / '02.json').unlink()

    preview = push(grafana, check=True, path=str(tmp_path / 'set'), folder=space, prune=True)
    assert not preview.failed, preview
    assert actions(preview)[docs[2]['uid']] == 'deleted'
    assert grafana.http('GET', '/api/dashboards/uid/%s' % docs[2]['uid'])[0] == 200

    run = push(grafana, path=str(tmp_path / 'set'), folder=space, prune=True)
    assert not run.failed, run
    assert actions(run) == {docs[0]['uid']: 'unchanged', docs[1]['uid']: 'unchanged', docs[2]['uid']: 'deleted'}
    assert run.result['counts']['deleted'] == 1
    assert grafana.http('GET', '/api/dashboards/uid/%s' % docs[2]['uid'])[0] == 404
    assert grafana.http('GET', '/api/dashboards/uid/%s' % sub['uid'])[0] == 200  # subfolders are not pruned

    refused = push(grafana, path=str(tmp_path / 'set'), prune=True)
    assert_clean_failure(refused)
    assert 'does not prune the root folder' in refused.result['msg']


def test_nested_folders_are_created_once_with_their_parents(grafana, space, tmp_path):
    doc = dashboard('%s-deep' % space, '%s deep' % space)
    path = '%s/Connectors/Production' % space
    first = push(grafana, dashboard=doc, folder=path)
    assert not first.failed, first
    folders = first.result['folders']
    assert [(f['title'], f['created']) for f in folders] == [(space, True), ('Connectors', True), ('Production', True)]
    assert [f['parent_uid'] for f in folders] == ['', folders[0]['uid'], folders[1]['uid']]
    status, leaf = grafana.http('GET', '/api/folders/%s' % folders[2]['uid'])
    assert status == 200
    assert leaf['parentUid'] == folders[1]['uid']
    assert [p['title'] for p in leaf['parents']] == [space, 'Connectors']
    status, current = grafana.http('GET', '/api/dashboards/uid/%s' % doc['uid'])
    assert current['meta']['folderUid'] == folders[2]['uid']

    mark = grafana.calls_mark()
    again = push(grafana, dashboard=doc, folder=path)
    assert not again.failed, again
    assert [f['created'] for f in again.result['folders']] == [False, False, False]
    assert again.result['changed'] is False
    calls = grafana.calls_since(mark)
    if calls is not None:
        assert 'POST /api/folders' not in calls

    by_uid = push(grafana, dashboard=doc, folder_uid=folders[2]['uid'])
    assert not by_uid.failed, by_uid
    assert by_uid.result['dashboards'][0]['folder'] == path
    assert by_uid.result['changed'] is False


def test_bad_json_reports_file_and_position(grafana, tmp_path):
    bad = tmp_path / 'bad.json'
    bad.write_text('{\n  "uid": "ilp-bad",\n  "title": "Bad",\n  "panels": [\n    {"id": 1,}\n  ]\n}\n')
    mark = grafana.calls_mark()
    run = push(grafana, path=str(bad))
    assert_clean_failure(run)
    assert '%s: invalid JSON at line 5 column 14' % bad in run.result['msg']
    assert 'nothing was sent to Grafana' in run.result['msg']
    assert grafana.calls_since(mark) in (None, [])


def test_missing_uid_names_the_file(grafana, tmp_path):
    write_set(tmp_path / 'set', 'ilp-nouid', 2)
    (tmp_path / 'set' / '01.json').write_text(json.dumps({'title': 'no uid here', 'panels': []}))
    run = push(grafana, path=str(tmp_path / 'set'))
    assert_clean_failure(run)
    assert '%s: the dashboard has no "uid"' % (tmp_path / 'set' / '01.json') in run.result['msg']


def test_basic_auth_works_and_a_wrong_password_is_a_clear_401(grafana, space):
    if not grafana.basic_auth:
        pytest.skip('needs ILP_GRAFANA_USER/ILP_GRAFANA_PASSWORD')
    doc = dashboard('%s-basic' % space, '%s basic' % space)
    args = dict(url=grafana.url, dashboard=doc, folder=space)
    run = run_module('grafana_dashboard', dict(args, **grafana.basic_auth))
    assert not run.failed, run
    assert run.result['changed'] is True
    wrong = run_module('grafana_dashboard', dict(args, url_username=grafana.basic_auth['url_username'], url_password=WRONG_PASSWORD))
    assert_clean_failure(wrong, WRONG_PASSWORD)
    assert 'HTTP 401' in wrong.result['msg']
    assert 'check url_username/url_password or bearer_token' in wrong.result['msg']


def test_a_viewer_gets_a_clear_403(grafana, space):
    login, password = grafana.user('viewer', 'Viewer')
    run = run_module('grafana_dashboard', dict(url=grafana.url, url_username=login, url_password=password,
                                               dashboard=dashboard('%s-viewer' % space, '%s viewer' % space)))
    assert_clean_failure(run, password)
    assert 'HTTP 403' in run.result['msg']
    assert 'needs the Editor or Admin role' in run.result['msg']
    assert 'POST %s/api/dashboards/db' % grafana.url in run.result['msg']


def test_provisioned_dashboard_is_reported_not_overwritten(grafana, space):
    grafana.require_double('provision a dashboard from files')
    doc = dashboard('%s-prov' % space, '%s provisioned' % space)
    grafana.double.provision_dashboard(doc)
    run = push(grafana, dashboard=dict(doc, title='%s changed' % space))
    assert not run.failed, run
    assert actions(run) == {doc['uid']: 'skipped'}
    assert run.result['changed'] is False
    assert 'provisioned' in run.output
    assert grafana.http('GET', '/api/dashboards/uid/%s' % doc['uid'])[1]['dashboard']['title'] == doc['title']
    grafana.double.dashboards.pop(doc['uid'])


def test_bulk_repush_lists_once(grafana, space, tmp_path):
    write_set(tmp_path / 'set', space, 40)
    assert not push(grafana, path=str(tmp_path / 'set'), folder=space).failed
    mark = grafana.calls_mark()
    run = push(grafana, path=str(tmp_path / 'set'), folder=space)
    assert not run.failed, run
    assert run.result['counts']['unchanged'] == 40
    assert run.result['http_calls'] == 1 + 1 + 40
    calls = grafana.calls_since(mark)
    if calls is not None:
        assert [c for c in calls if c.startswith('GET /api/search')] == ['GET /api/search?type=dash-db&limit=1000&page=1']


def test_unreachable_grafana_fails_clearly():
    port = free_port()
    run = run_module('grafana_dashboard', dict(url='http://127.0.0.1:%d' % port, token=TOKEN, request_timeout=2,
                                               dashboard=dashboard('ilp-unreachable', 'unreachable')))
    assert_clean_failure(run, TOKEN)
    assert 'Cannot connect to Grafana' in run.result['msg']
    assert 'http://127.0.0.1:%d/api/search' % port in run.result['msg']
    check = run_module('grafana_check', dict(url='http://127.0.0.1:%d' % port, token=TOKEN, request_timeout=2))
    assert_clean_failure(check, TOKEN)
    assert 'Cannot connect to Grafana: GET http://127.0.0.1:%d/api/health' % port in check.result['msg']


# --- grafana_check -------------------------------------------------------------------------------

def test_check_healthy(grafana, space):
    ds = grafana.add_datasource('%s-ok' % space, True, 'Data source is working')
    try:
        doc = dashboard('%s-present' % space, '%s present' % space)
        assert not push(grafana, dashboard=doc, folder=space).failed
        args = dict(url=grafana.url, expected_datasources=[ds], check_all_datasources=False,
                    expected_dashboards=[doc['uid']], **grafana.auth)
        for check in (False, True):
            run = run_module('grafana_check', args, check=check)
            assert not run.failed, run
            assert run.result['changed'] is False
            assert [(d['uid'], d['status']) for d in run.result['datasources']] == [(ds, 'OK')]
            assert run.result['dashboards'][0]['present'] is True
            assert run.result['health']['database'] == 'ok'
            assert run.result['http_calls'] == 4
    finally:
        grafana.delete_datasource(ds)


def test_check_unhealthy_names_what_is_wrong(grafana, space):
    bad = grafana.add_datasource('%s-down' % space, False, 'dial tcp 127.0.0.1:1: connect: connection refused')
    try:
        run = run_module('grafana_check', dict(url=grafana.url, expected_datasources=[bad, '%s-missing' % space],
                                               check_all_datasources=False, expected_dashboards=['%s-absent' % space],
                                               **grafana.auth))
        assert_clean_failure(run)
        kinds = [(p['kind'], p['subject']) for p in run.result['problems']]
        assert ('missing_datasource', '%s-missing' % space) in kinds
        assert ('missing_dashboard', '%s-absent' % space) in kinds
        assert [k for k, dummy in kinds].count('unhealthy_datasource') == 1
        msg = run.result['msg']
        assert "data source '%s'" % bad in msg and 'health check failed (HTTP 400, status ERROR)' in msg
        assert 'dashboard uid %s-absent: not in Grafana' % space in msg
    finally:
        grafana.delete_datasource(bad)


def test_check_names_a_data_source_whose_plugin_is_missing(grafana, space):
    grafana.require_double('remove a data source plugin from Grafana')
    ds = grafana.double.add_datasource('%s-traces' % space, 'jaeger', uid='%s-traces' % space)
    grafana.double.plugins.discard('jaeger')
    try:
        run = run_module('grafana_check', dict(url=grafana.url, expected_datasources=[ds['uid']], check_all_datasources=False,
                                               **grafana.auth))
        assert_clean_failure(run)
        assert [(p['kind'], p['subject']) for p in run.result['problems']] == [('missing_plugin', ds['name'])]
        assert "its plugin 'jaeger' is not installed in Grafana" in run.result['msg']
    finally:
        grafana.double.plugins.add('jaeger')
        grafana.delete_datasource(ds['uid'])
