# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Unit tests of the grafana_dashboard module, with Grafana's answers mocked by method and path."""

from __future__ import annotations

import copy
import json

import pytest

from ansible_collections.ilp.observability.plugins.modules import grafana_dashboard as gd
from ansible_collections.ilp.observability.tests.unit.plugins import fakes

MODULE = gd
URL = 'http://127.0.0.1:3000'
PASSWORD = 'Gr4fana-Passw0rd!'

DASH = {'uid': 'ilp-a', 'title': 'ILP A', 'schemaVersion': 39, 'tags': ['ilp'],
        'panels': [{'id': 1, 'type': 'timeseries', 'title': 'packets', 'datasource': {'type': 'prometheus', 'uid': 'prom'}}]}


@pytest.fixture
def run(monkeypatch):
    runner = fakes.module_runner(monkeypatch, gd)

    def go(args, routes):
        fake = fakes.RoutedOpenUrl(URL, routes)
        outcome, result, dummy = runner(dict(dict(url=URL, url_username='admin', url_password=PASSWORD), **args), [fake])
        return outcome, result, fake
    return go


def as_stored(dashboard, version=3, id_=7):
    """What Grafana answers for ``dashboard``: its ids, a newer schemaVersion and a default added."""
    doc = copy.deepcopy(dashboard)
    doc.update(id=id_, version=version, schemaVersion=41, fiscalYearStartMonth=0, graphTooltip=0,
               annotations={'list': [{'builtIn': 1, 'name': 'Annotations & Alerts', 'type': 'dashboard'}]})
    return doc


def current(dashboard, version=3, folder_uid='', updated_by='admin', provisioned=False):
    return {'dashboard': as_stored(dashboard, version),
            'meta': {'version': version, 'folderUid': folder_uid, 'updatedBy': updated_by, 'updated': '2026-11-29T02:15:00Z',
                     'provisioned': provisioned}}


def hit(uid, folder_uid=None, title='x'):
    doc = {'uid': uid, 'title': title, 'type': 'dash-db'}
    if folder_uid:
        doc['folderUid'] = folder_uid
    return doc


def ours(dashboard, folder_uid='', version=3):
    digest = gd.digest_of(gd.normalize_dashboard(dashboard), folder_uid)
    return {'versions': [{'version': version, 'createdBy': 'ansible', 'message': 'Pushed [ilp.observability sha256:%s]' % digest}]}


def saved(call):
    return {'id': 7, 'uid': call['json']['dashboard']['uid'], 'status': 'success', 'version': (call['json']['dashboard'].get('version') or 0) + 1}


# --- normalisation -------------------------------------------------------------------------------

def test_normalize_ignores_what_grafana_owns_and_adds():
    assert gd.normalize_dashboard(as_stored(DASH)) == gd.normalize_dashboard(DASH)
    norm = gd.normalize_dashboard(DASH)
    assert 'schemaVersion' not in norm and 'id' not in norm and 'version' not in norm
    assert norm['panels'][0]['datasource'] == {'type': 'prometheus', 'uid': 'prom'}


def test_normalize_drops_empty_values_but_keeps_real_settings():
    doc = {'uid': 'a', 'title': 'A', 'description': '', 'links': [], 'templating': {'list': []}, 'gnetId': None,
           'editable': False, 'graphTooltip': 1, 'iteration': 123, 'panels': [{'id': 1, 'options': {}}, {}]}
    assert gd.normalize_dashboard(doc) == {'uid': 'a', 'title': 'A', 'editable': False, 'graphTooltip': 1,
                                           'panels': [{'id': 1}, {}]}


def test_normalize_keeps_user_annotations():
    user = {'name': 'deploys', 'datasource': {'uid': 'prom'}, 'enable': True}
    doc = {'uid': 'a', 'title': 'A', 'annotations': {'list': [{'builtIn': 1, 'name': 'Annotations & Alerts'}, user]}}
    assert gd.normalize_dashboard(doc)['annotations'] == {'list': [user]}


def test_digest_depends_on_folder_and_content_only():
    norm = gd.normalize_dashboard(DASH)
    assert gd.digest_of(norm, 'f') == gd.digest_of(gd.normalize_dashboard(as_stored(DASH)), 'f')
    assert gd.digest_of(norm, 'f') != gd.digest_of(norm, 'g')
    assert gd.marker_digest('x [ilp.observability sha256:%s]' % ('a' * 64)) == 'a' * 64
    assert gd.marker_digest('edited in the UI') is None


def test_derived_folder_uid_is_stable_and_valid():
    uid = gd.derived_folder_uid(['ILP', 'Connectors with a very very long title indeed'])
    assert uid == gd.derived_folder_uid(['ILP', 'Connectors with a very very long title indeed'])
    assert gd.UID_RE.match(uid) and len(uid) <= 40
    assert gd.derived_folder_uid(['A', 'X']) != gd.derived_folder_uid(['B', 'X'])


# --- reading files -------------------------------------------------------------------------------

def test_bad_json_names_file_line_and_column(run, tmp_path):
    bad = tmp_path / 'broken.json'
    bad.write_text('{\n  "uid": "x",\n  "title": "X"\n  "panels": []\n}\n')
    outcome, result, fake = run(dict(path=str(bad)), {})
    assert outcome == 'fail'
    assert '%s: invalid JSON at line 4 column 3' % bad in result['msg']
    assert "Expecting ',' delimiter" in result['msg']
    assert fake.calls == []  # nothing sent


def test_missing_uid_names_the_file(run, tmp_path):
    (tmp_path / 'a.json').write_text(json.dumps(dict(DASH)))
    (tmp_path / 'b.json').write_text(json.dumps({'title': 'No uid'}))
    outcome, result, fake = run(dict(path=str(tmp_path)), {})
    assert outcome == 'fail'
    assert '%s: the dashboard has no "uid"' % (tmp_path / 'b.json') in result['msg']
    assert fake.calls == []


def test_duplicate_and_invalid_uids_and_empty_directory(run, tmp_path):
    one, two, empty = tmp_path / 'one', tmp_path / 'two', tmp_path / 'empty'
    for d in (one, two, empty):
        d.mkdir()
    (one / 'a.json').write_text(json.dumps(DASH))
    (two / 'a.json').write_text(json.dumps(DASH))
    (two / 'bad.json').write_text(json.dumps(dict(DASH, uid='has space')))
    outcome, result, dummy = run(dict(paths=[str(one), str(two), str(empty)]), {})
    assert outcome == 'fail'
    msg = result['msg']
    assert 'uid ilp-a is used by two dashboards: %s and %s' % (one / 'a.json', two / 'a.json') in msg
    assert "invalid uid 'has space'" in msg
    assert '%s: no *.json file in this directory' % empty in msg


def test_export_format_is_unwrapped(tmp_path):
    path = tmp_path / 'export.json'
    path.write_text(json.dumps({'dashboard': DASH, 'meta': {'version': 3}}))
    assert gd.load_file(str(path))['uid'] == 'ilp-a'


# --- pushing -------------------------------------------------------------------------------------

def test_create_in_root_sends_folder_uid_and_marker(run):
    outcome, result, fake = run(dict(dashboard=DASH), {('GET', '/api/search'): [[]], ('POST', '/api/dashboards/db'): saved})
    assert outcome == 'exit', result['msg']
    assert result['changed'] is True
    assert result['dashboards'] == [dict(uid='ilp-a', title='ILP A', folder='', folder_uid='', action='created', version=1,
                                         source='dashboard')]
    body = fake.calls[-1]['json']
    assert body['folderUid'] == '' and 'folderId' not in body and body['overwrite'] is False
    assert body['dashboard']['id'] is None and 'version' not in body['dashboard']
    assert gd.marker_digest(body['message']) == gd.digest_of(gd.normalize_dashboard(DASH), '')
    assert body['message'].startswith('Pushed by ilp.observability.grafana_dashboard [')
    # search, then a read by uid (404: it really is new) before creating it
    assert result['http_calls'] == 3 and result['http_calls_by_method'] == {'GET': 2, 'POST': 1}
    assert fake.requests() == ['GET /api/search', 'GET /api/dashboards/uid/ilp-a', 'POST /api/dashboards/db']


def test_unchanged_dashboard_is_read_once_and_not_written(run):
    outcome, result, fake = run(dict(dashboard=DASH), {('GET', '/api/search'): [[hit('ilp-a')]],
                                                       ('GET', '/api/dashboards/uid/ilp-a'): current(DASH)})
    assert outcome == 'exit', result['msg']
    assert result['changed'] is False
    assert result['counts'] == dict(created=0, updated=0, unchanged=1, deleted=0, skipped=0)
    assert fake.requests() == ['GET /api/search', 'GET /api/dashboards/uid/ilp-a']


def test_changed_dashboard_last_pushed_by_the_module_is_updated_with_version_check(run):
    new = dict(DASH, title='ILP A v2')
    outcome, result, fake = run(dict(dashboard=new), {('GET', '/api/search'): [[hit('ilp-a')]],
                                                      ('GET', '/api/dashboards/uid/ilp-a'): current(DASH, version=3),
                                                      ('GET', '/api/dashboards/uid/ilp-a/versions'): ours(DASH),
                                                      ('POST', '/api/dashboards/db'): saved})
    assert outcome == 'exit', result['msg']
    assert result['dashboards'][0]['action'] == 'updated' and result['dashboards'][0]['version'] == 4
    body = fake.calls[-1]['json']
    assert body['overwrite'] is False and body['dashboard']['version'] == 3 and body['dashboard']['id'] == 7


def test_dashboard_edited_in_grafana_fails_naming_who_and_when(run):
    new = dict(DASH, title='ILP A v2')
    ui = {'versions': [{'version': 4, 'createdBy': 'alice', 'message': 'tweaked thresholds'}]}
    outcome, result, fake = run(dict(dashboard=new), {('GET', '/api/search'): [[hit('ilp-a')]],
                                                      ('GET', '/api/dashboards/uid/ilp-a'): current(
                                                          dict(DASH, refresh='5s'), version=4, updated_by='alice'),
                                                      ('GET', '/api/dashboards/uid/ilp-a/versions'): ui})
    assert outcome == 'fail'
    msg = result['msg']
    assert "'ILP A v2' (uid ilp-a) was changed in Grafana since this module pushed it: saved by alice at " \
           "2026-11-29T02:15:00Z (version 4, message 'tweaked thresholds'), not by this module" in msg
    assert 'nothing was written' in msg and 'overwrite: true' in msg
    assert fake.requests('POST') == []


def test_overwrite_replaces_an_edited_dashboard(run):
    ui = {'versions': [{'version': 4, 'createdBy': 'alice', 'message': ''}]}
    outcome, result, fake = run(dict(dashboard=DASH, overwrite=True), {
        ('GET', '/api/search'): [[hit('ilp-a')]],
        ('GET', '/api/dashboards/uid/ilp-a'): current(dict(DASH, refresh='5s'), version=4, updated_by='alice'),
        ('GET', '/api/dashboards/uid/ilp-a/versions'): ui,
        ('POST', '/api/dashboards/db'): saved})
    assert outcome == 'exit', result['msg']
    assert fake.calls[-1]['json']['overwrite'] is True
    assert result['counts']['updated'] == 1


def test_migration_on_read_is_not_a_change_when_the_module_pushed_it(run):
    old = dict(DASH, panels=[{'id': 1, 'type': 'graph', 'datasource': 'Prometheus'}])
    migrated = current(dict(old, panels=[{'id': 1, 'type': 'timeseries', 'datasource': {'uid': 'Prometheus'}}]))
    outcome, result, fake = run(dict(dashboard=old), {('GET', '/api/search'): [[hit('ilp-a')]],
                                                      ('GET', '/api/dashboards/uid/ilp-a'): migrated,
                                                      ('GET', '/api/dashboards/uid/ilp-a/versions'): [ours(old)['versions']]})
    assert outcome == 'exit', result['msg']
    assert result['changed'] is False
    assert result['dashboards'][0]['action'] == 'unchanged'
    assert 'migrated form' in result['dashboards'][0]['reason']


def test_moved_out_of_the_folder_in_grafana_is_a_conflict(run):
    outcome, result, dummy = run(dict(dashboard=DASH, folder_uid='ops'), {
        ('GET', '/api/folders/ops'): {'uid': 'ops', 'title': 'Ops'},
        ('GET', '/api/search'): [[hit('ilp-a', 'elsewhere')]],
        ('GET', '/api/dashboards/uid/ilp-a'): current(DASH, folder_uid='elsewhere'),
        ('GET', '/api/dashboards/uid/ilp-a/versions'): ours(DASH, 'ops')})
    assert outcome == 'fail'
    assert 'moved out of folder ops' in result['msg']


def test_a_dashboard_search_does_not_list_yet_is_compared_not_created(run):
    """Unified storage's search index lags writes: the read by uid finds the dashboard just pushed."""
    outcome, result, fake = run(dict(dashboard=DASH), {
        ('GET', '/api/search'): [[]],
        ('GET', '/api/dashboards/uid/ilp-a'): current(DASH)})
    assert outcome == 'exit', result['msg']
    assert result['changed'] is False and result['dashboards'][0]['action'] == 'unchanged'
    assert fake.requests('POST') == []


@pytest.mark.parametrize('text', ['x' * 2000, 'é' * 700, 'short'])
def test_save_message_fits_grafanas_500_bytes_with_the_marker_whole(text):
    digest = 'a' * 64
    message = gd.save_message(text, digest)
    assert len(message.encode('utf-8')) <= 500
    assert message.endswith(' [ilp.observability sha256:%s]' % digest)
    assert gd.marker_digest(message) == digest
    assert message.startswith(text if len(text) < 100 else text[:50])
    assert gd.save_message('', digest) == 'ilp.observability sha256:' + digest


def test_provisioned_dashboard_is_skipped(run):
    outcome, result, fake = run(dict(dashboard=dict(DASH, title='other')), {
        ('GET', '/api/search'): [[hit('ilp-a')]],
        ('GET', '/api/dashboards/uid/ilp-a'): current(DASH, provisioned=True)})
    assert outcome == 'exit', result['msg']
    assert result['dashboards'][0]['action'] == 'skipped'
    assert 'provisioned' in result['_warnings'][0]
    assert fake.requests('POST') == []


@pytest.mark.parametrize('status, expected', [
    ('version-mismatch', 'someone saved it in Grafana between the module reading it and writing it (412 version-mismatch)'),
    ('name-exists', 'Grafana refused it with 412 Precondition Failed (status name-exists)'),  # not raised since 11.3
    ('plugin-dashboard', 'it belongs to a Grafana plugin (412 plugin-dashboard)'),
])
def test_412_says_which(run, status, expected):
    body = json.dumps({'message': 'refused', 'status': status}).encode()
    outcome, result, dummy = run(dict(dashboard=DASH), {
        ('GET', '/api/search'): [[]],
        ('POST', '/api/dashboards/db'): fakes.http_error(URL + '/api/dashboards/db', 412, 'Precondition Failed', body)})
    assert outcome == 'fail'
    assert expected in result['msg']
    assert "cannot save 'ILP A' (uid ilp-a)" in result['msg']
    assert PASSWORD not in json.dumps(result)


def test_check_mode_and_diff_write_nothing(run):
    new = dict(DASH, title='ILP A v2')
    outcome, result, fake = run(dict(dashboard=new, _ansible_check_mode=True, _ansible_diff=True), {
        ('GET', '/api/search'): [[hit('ilp-a')]],
        ('GET', '/api/dashboards/uid/ilp-a'): current(DASH),
        ('GET', '/api/dashboards/uid/ilp-a/versions'): ours(DASH)})
    assert outcome == 'exit', result['msg']
    assert result['changed'] is True
    assert result['dashboards'][0]['action'] == 'updated'
    assert fake.requests('POST') == []
    (diff,) = result['diff']
    assert '"title": "ILP A"' in diff['before'] and '"title": "ILP A v2"' in diff['after']
    assert diff['before_header'] == 'grafana: ilp-a (version 3)'
    assert 'would be updated' in result['msg']


def test_nested_folder_is_created_under_its_parent(run):
    routes = {('GET', '/api/folders'): [[{'uid': 'ilp-root', 'title': 'ILP'}], []],
              ('POST', '/api/folders'): lambda call: dict(call['json'], id=3),
              ('GET', '/api/search'): [[]],
              ('POST', '/api/dashboards/db'): saved}
    outcome, result, fake = run(dict(dashboard=DASH, folder='ILP/ Connectors '), routes)
    assert outcome == 'exit', result['msg']
    created_uid = gd.derived_folder_uid(['ILP', 'Connectors'])
    assert result['folders'] == [dict(title='ILP', uid='ilp-root', parent_uid='', created=False),
                                 dict(title='Connectors', uid=created_uid, parent_uid='ilp-root', created=True)]
    folder_post = [c for c in fake.calls if c['path'] == '/api/folders' and c['method'] == 'POST'][0]
    assert folder_post['json'] == {'uid': created_uid, 'title': 'Connectors', 'parentUid': 'ilp-root'}
    assert fake.calls[1]['query'] == 'parentUid=ilp-root&limit=1000&page=1'
    assert fake.calls[-1]['json']['folderUid'] == created_uid
    assert result['dashboards'][0]['folder'] == 'ILP/Connectors'


def test_folder_not_nested_by_grafana_fails(run):
    def at_the_root(call):
        return {'uid': call['json']['uid'], 'title': call['json']['title'], 'parentUid': ''}
    routes = {('GET', '/api/folders'): [[]], ('POST', '/api/folders'): at_the_root, ('GET', '/api/search'): [[]]}
    outcome, result, dummy = run(dict(dashboard=DASH, folder='A/B'), routes)
    assert outcome == 'fail'
    assert 'nested folders are not enabled' in result['msg']


def test_folder_uid_must_exist(run):
    outcome, result, dummy = run(dict(dashboard=DASH, folder_uid='nope'), {})
    assert outcome == 'fail'
    assert 'folder_uid nope: there is no folder with this uid' in result['msg']


def test_prune_deletes_the_others_of_the_folder(run):
    routes = {('GET', '/api/folders/ops'): {'uid': 'ops', 'title': 'Ops'},
              ('GET', '/api/search'): [[hit('ilp-a', 'ops'), hit('old', 'ops', 'Old'), hit('elsewhere', 'other'), hit('root')]],
              ('GET', '/api/dashboards/uid/ilp-a'): current(DASH, folder_uid='ops'),
              ('GET', '/api/dashboards/uid/old'): current(dict(DASH, uid='old', title='Old'), folder_uid='ops'),
              ('DELETE', '/api/dashboards/uid/old'): {'message': 'deleted'}}
    outcome, result, fake = run(dict(dashboard=DASH, folder_uid='ops', prune=True), routes)
    assert outcome == 'exit', result['msg']
    assert [(d['uid'], d['action']) for d in result['dashboards']] == [('ilp-a', 'unchanged'), ('old', 'deleted')]
    assert fake.requests('DELETE') == ['DELETE /api/dashboards/uid/old']
    assert result['changed'] is True


def test_prune_of_the_root_folder_is_refused(run):
    outcome, result, fake = run(dict(dashboard=DASH, prune=True), {})
    assert outcome == 'fail'
    assert 'prune: true needs folder or folder_uid' in result['msg']
    assert fake.calls == []


def test_401_is_clear_and_secret_free(run):
    body = b'{"message": "invalid username or password"}'
    outcome, result, dummy = run(dict(dashboard=DASH), {
        ('GET', '/api/search'): fakes.http_error(URL + '/api/search', 401, 'Unauthorized', body)})
    assert outcome == 'fail'
    assert 'HTTP 401' in result['msg'] and 'check url_username/url_password or bearer_token' in result['msg']
    assert PASSWORD not in json.dumps(result)
