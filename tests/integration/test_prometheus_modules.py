# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Integration tests of prometheus_rules_check and prometheus_targets_check against a real Prometheus.

Run from the repository root with the project venv:  .venv/bin/python -m pytest -q tests/integration
The Prometheus release archive comes from the release mirror cache (tools/release-mirror); the
tests are skipped when it is missing. Every Prometheus started here listens on 127.0.0.1 on a free
port and is stopped by its fixture's finalizer.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parents[2]
PROMETHEUS_VERSION = '3.16.0'
CACHE = Path(os.environ.get('ILP_CACHE_DIR') or Path.home() / '.cache' / 'ilp-observability')
RELEASE_DIR = CACHE / 'mirror' / 'prometheus' / 'prometheus' / 'releases' / 'download' / ('v' + PROMETHEUS_VERSION)
ARCHIVE = RELEASE_DIR / ('prometheus-%s.linux-amd64.tar.gz' % PROMETHEUS_VERSION)
UNPACKED = CACHE / 'it' / ('prometheus-%s.linux-amd64' % PROMETHEUS_VERSION)
ANSIBLE = Path(sys.executable).parent / 'ansible'
COLLECTIONS = TOP / 'collections'

START_TIMEOUT = 60  # seconds for a Prometheus to answer /-/ready
ANSIBLE_TIMEOUT = 180  # seconds for one ansible run
PASSWORD = 'It-Pr0metheus-Passw0rd-42'
WRONG_PASSWORD = 'Wr0ng-Passw0rd-not-this-one'

HEALTHY_GROUP = {
    'name': 'healthy',
    'rules': [
        {'record': 'job:up:sum', 'expr': 'sum by (job) (up)'},
        {'alert': 'PrometheusSelfScrapeDown', 'expr': 'up{job="prometheus"} == 0', 'for': '5m',
         'labels': {'severity': 'critical'}, 'annotations': {'summary': 'Prometheus cannot scrape itself'}},
    ],
}
# Both rules pass `promtool check rules` but fail at every evaluation once `up` has two series:
# renaming up and scrape_duration_seconds to one name gives duplicate series, and on() matches
# every `up` series against every other one (many-to-many).
BROKEN_GROUP = {
    'name': 'broken',
    'rules': [
        {'record': 'broken:duplicate_series', 'expr': '{__name__=~"up|scrape_duration_seconds"}'},
        {'record': 'broken:many_to_many', 'expr': 'up + on() up'},
    ],
}
DUPLICATE_ERROR = 'vector contains metrics with the same labelset after applying rule labels'
MANY_TO_MANY_ERROR = 'many-to-many matching not allowed'


# --- helpers -------------------------------------------------------------------------------------

def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def write_yaml(path, doc):
    # JSON is YAML: no PyYAML needed to write Prometheus configuration files.
    path.write_text(json.dumps(doc, indent=2) + '\n')
    return path


def http_get(url, auth=None, timeout=5):
    request = urllib.request.Request(url)
    if auth:
        request.add_header('Authorization', 'Basic ' + base64.b64encode(('%s:%s' % auth).encode()).decode())
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - local test server
        return response.status, response.read()


def api(server, path):
    return json.loads(http_get(server.url + path, auth=server.auth)[1])['data']


def wait_for(what, predicate, timeout=60, interval=0.5):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except (OSError, ValueError, KeyError) as exc:
            last = exc
        time.sleep(interval)
    pytest.fail('timed out after %ss waiting for %s (last: %r)' % (timeout, what, last))


class Server(object):
    """A running Prometheus process."""

    def __init__(self, name, workdir, binary, port, config, rules_file, web_config=None, auth=None):
        self.name = name
        self.workdir = workdir
        self.port = port
        self.rules_file = rules_file
        self.url = 'http://127.0.0.1:%d' % self.port
        self.auth = auth
        self.log = workdir / 'prometheus.log'
        self.config = config
        args = [
            str(binary),
            '--config.file=%s' % config,
            '--storage.tsdb.path=%s' % (workdir / 'data'),
            '--web.listen-address=127.0.0.1:%d' % self.port,
            '--web.enable-lifecycle',
        ]
        if web_config:
            args.append('--web.config.file=%s' % web_config)
        with open(self.log, 'wb') as log:
            self.proc = subprocess.Popen(args, cwd=str(workdir), stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)

    def log_tail(self, lines=30):
        try:
            return '\n'.join(self.log.read_text(errors='replace').splitlines()[-lines:])
        except OSError:
            return '<no log>'

    def wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail('prometheus %s exited with %s:\n%s' % (self.name, self.proc.returncode, self.log_tail()))
            try:
                status, dummy = http_get(self.url + '/-/ready', auth=self.auth, timeout=2)
                if status == 200:
                    return
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.3)
        pytest.fail('prometheus %s not ready after %ss:\n%s' % (self.name, START_TIMEOUT, self.log_tail()))

    def reload(self):
        request = urllib.request.Request(self.url + '/-/reload', method='POST')
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - local test server
            assert response.status == 200

    def stop(self):
        if self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


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

    @property
    def failed(self):
        return self.status != 'SUCCESS'

    @property
    def output(self):
        return self.stdout + self.stderr

    def __repr__(self):
        return 'AnsibleRun(%s -> %s: %s)' % (self.args[3:5], self.status, self.result.get('msg'))


def run_module(module, args, check=False):
    """Run a module of the collection on localhost with the ansible CLI and return its result."""
    command = [str(ANSIBLE), 'localhost', '-m', 'ilp.observability.' + module, '-a', json.dumps(args)]
    if check:
        command.append('--check')
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


# --- fixtures ------------------------------------------------------------------------------------

@pytest.fixture(scope='session')
def prometheus_bin():
    """Directory with the prometheus and promtool binaries, unpacked once per version."""
    if platform.system() != 'Linux' or platform.machine() not in ('x86_64', 'amd64'):
        pytest.skip('the mirrored Prometheus %s build is linux-amd64 only' % PROMETHEUS_VERSION)
    if not ARCHIVE.is_file():
        pytest.skip('Prometheus %s archive not in the release mirror cache: %s (build it with tools/release-mirror/build.py prometheus)'
                    % (PROMETHEUS_VERSION, ARCHIVE))
    if not ((UNPACKED / 'prometheus').is_file() and (UNPACKED / 'promtool').is_file()):
        sums = RELEASE_DIR / 'sha256sums.txt'
        if sums.is_file():
            expected = dict(reversed(line.split()) for line in sums.read_text().splitlines() if line.strip())
            digest = hashlib.sha256(ARCHIVE.read_bytes()).hexdigest()
            assert expected.get(ARCHIVE.name) in (None, digest), 'checksum mismatch for %s' % ARCHIVE
        UNPACKED.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix='.unpack-', dir=str(UNPACKED.parent)))
        try:
            with tarfile.open(ARCHIVE) as archive:
                for member in archive.getmembers():
                    name = Path(member.name).name
                    if member.isfile() and name in ('prometheus', 'promtool'):
                        with archive.extractfile(member) as src, open(staging / name, 'wb') as dst:
                            shutil.copyfileobj(src, dst)
                        (staging / name).chmod(0o755)
            if not (UNPACKED / 'prometheus').is_file():
                if UNPACKED.exists():
                    shutil.rmtree(str(UNPACKED))
                os.replace(str(staging), str(UNPACKED))
        finally:
            shutil.rmtree(str(staging), ignore_errors=True)
    return UNPACKED


def promtool(bindir, *args):
    completed = subprocess.run([str(bindir / 'promtool')] + list(args), capture_output=True, text=True, timeout=60, check=False)
    assert completed.returncode == 0, 'promtool %s failed:\n%s%s' % (' '.join(args), completed.stdout, completed.stderr)


def start_server(request, tmp_path_factory, bindir, name, rule_groups, dead_target=False, web_config=None, auth=None):
    """Start a Prometheus scraping itself (plus 127.0.0.1:1 in job dead) with ``rule_groups``."""
    workdir = tmp_path_factory.mktemp(name)
    rules = write_yaml(workdir / 'rules.yml', {'groups': rule_groups})
    promtool(bindir, 'check', 'rules', str(rules))
    port = free_port()
    own = {'job_name': 'prometheus', 'static_configs': [{'targets': ['127.0.0.1:%d' % port]}]}
    if auth:
        own['basic_auth'] = {'username': auth[0], 'password_file': str(write_secret(workdir / 'scrape-password', auth[1]))}
    scrape_configs = [own]
    if dead_target:
        scrape_configs.append({'job_name': 'dead', 'static_configs': [{'targets': ['127.0.0.1:1']}]})
    config = write_yaml(workdir / 'prometheus.yml', {
        'global': {'scrape_interval': '1s', 'scrape_timeout': '1s', 'evaluation_interval': '1s'},
        'rule_files': [str(rules)],
        'scrape_configs': scrape_configs,
    })
    promtool(bindir, 'check', 'config', str(config))
    web_path = write_yaml(workdir / 'web.yml', web_config) if web_config else None
    if web_path:
        promtool(bindir, 'check', 'web-config', str(web_path))
    server = Server(name, workdir, bindir / 'prometheus', port, config, str(rules), web_config=web_path, auth=auth)
    request.addfinalizer(server.stop)
    server.wait_ready()
    return server


def write_secret(path, value):
    path.write_text(value)
    path.chmod(0o600)
    return path


@pytest.fixture(scope='session')
def lab(request, tmp_path_factory, prometheus_bin):
    """Prometheus with a healthy and a broken rule group, scraping itself and a dead target."""
    server = start_server(request, tmp_path_factory, prometheus_bin, 'lab', [HEALTHY_GROUP, BROKEN_GROUP], dead_target=True)

    # Evaluation errors need data: wait until both targets were scraped and the broken rules failed.
    def scraped():
        health = {t['labels']['job']: t['health'] for t in api(server, '/api/v1/targets?state=active')['activeTargets']}
        return health == {'prometheus': 'up', 'dead': 'down'}

    def evaluated():
        groups = {g['name']: g for g in api(server, '/api/v1/rules')['groups']}
        return all(r['health'] == 'err' for r in groups['broken']['rules'])

    wait_for('the targets of %s to be scraped' % server.url, scraped)
    wait_for('the broken rules of %s to fail evaluation' % server.url, evaluated)
    return server


@pytest.fixture(scope='session')
def secured(request, tmp_path_factory, prometheus_bin):
    """Prometheus behind basic authentication (bcrypt hash in --web.config.file), healthy rules only."""
    bcrypt = pytest.importorskip('bcrypt', reason='python bcrypt is needed to hash the basic auth password')
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=10)).decode()
    return start_server(request, tmp_path_factory, prometheus_bin, 'secured', [HEALTHY_GROUP],
                        web_config={'basic_auth_users': {'ansible': hashed}}, auth=('ansible', PASSWORD))


@pytest.fixture
def reloadable(request, tmp_path_factory, prometheus_bin):
    """A Prometheus of its own for the test, with healthy rules, whose rules the test may change."""
    return start_server(request, tmp_path_factory, prometheus_bin, 'reloadable', [HEALTHY_GROUP])


def problems_by_rule(result):
    return {(p['group'], p['rule']): p for p in result['problems']}


# --- prometheus_rules_check ----------------------------------------------------------------------

def test_rules_erroring_rules_reported_healthy_group_clean(lab):
    run = run_module('prometheus_rules_check', dict(url=lab.url, expected_groups=['healthy', 'broken'],
                                                    expected_files=[lab.rules_file], max_evaluation_seconds=5))
    assert run.failed, run
    problems = problems_by_rule(run.result)
    assert set(problems) == {('broken', 'broken:duplicate_series'), ('broken', 'broken:many_to_many')}, run.result['problems']
    duplicate = problems[('broken', 'broken:duplicate_series')]
    assert duplicate['kind'] == 'last_error'
    assert duplicate['file'] == lab.rules_file
    assert DUPLICATE_ERROR in duplicate['message']
    assert MANY_TO_MANY_ERROR in problems[('broken', 'broken:many_to_many')]['message']
    msg = run.result['msg']
    assert "group 'broken' rule 'broken:duplicate_series'" in msg and DUPLICATE_ERROR in msg
    assert "group 'broken' rule 'broken:many_to_many'" in msg and MANY_TO_MANY_ERROR in msg
    assert 'healthy' not in {p['group'] for p in run.result['problems']}
    groups = {g['name']: g for g in run.result['groups']}
    assert groups['healthy']['rule_count'] == 2
    assert groups['healthy']['file'] == lab.rules_file
    assert run.result['rules'] == 4
    assert run.result['changed'] is False


def test_rules_missing_group_reported(lab):
    run = run_module('prometheus_rules_check', dict(url=lab.url, expected_groups=['healthy', 'ilp_connector_alerts'],
                                                    allow_unhealthy=True))
    assert run.failed, run
    assert [(p['group'], p['kind']) for p in run.result['problems']] == [('ilp_connector_alerts', 'missing_group')]
    assert "group 'ilp_connector_alerts': expected group is not loaded (loaded groups: broken, healthy)" in run.result['msg']
    # allow_unhealthy turned the broken rules into warnings
    assert DUPLICATE_ERROR in run.output


def test_rules_unexpected_file_reported(lab):
    run = run_module('prometheus_rules_check', dict(url=lab.url, expected_files=['/etc/prometheus/rules/ilp.yml'],
                                                    allow_unhealthy=True))
    assert run.failed, run
    assert {(p['group'], p['kind']) for p in run.result['problems']} == {('healthy', 'unexpected_file'), ('broken', 'unexpected_file')}


def test_rules_check_mode_reports_the_same(lab):
    run = run_module('prometheus_rules_check', dict(url=lab.url, expected_groups=['broken']), check=True)
    assert run.failed, run
    assert ('broken', 'broken:duplicate_series') in problems_by_rule(run.result)


def test_rules_healthy_server_passes_also_in_check_mode(reloadable):
    args = dict(url=reloadable.url, expected_groups=['healthy'], expected_files=[reloadable.rules_file],
                max_evaluation_seconds=5, wait_timeout=30)
    run = run_module('prometheus_rules_check', args)
    assert not run.failed, run
    assert run.result['problems'] == []
    assert run.result['rules'] == 2
    assert run.result['changed'] is False
    run = run_module('prometheus_rules_check', args, check=True)
    assert not run.failed, run
    assert run.result['changed'] is False


def test_rules_wait_after_reload(reloadable):
    added = {'name': 'added_after_reload', 'rules': [{'record': 'prometheus:up:max', 'expr': 'max(up{job="prometheus"})'}]}
    write_yaml(Path(reloadable.rules_file), {'groups': [HEALTHY_GROUP, added]})
    reloadable.reload()
    run = run_module('prometheus_rules_check', dict(url=reloadable.url, expected_groups=['healthy', 'added_after_reload'],
                                                    wait_timeout=60))
    assert not run.failed, run
    assert {g['name'] for g in run.result['groups']} == {'healthy', 'added_after_reload'}


def test_rules_unreachable_server_fails_clearly():
    port = free_port()
    run = run_module('prometheus_rules_check', dict(url='http://127.0.0.1:%d' % port, request_timeout=2))
    assert run.failed
    assert 'Cannot connect to Prometheus' in run.result['msg']
    assert 'http://127.0.0.1:%d/api/v1/rules' % port in run.result['msg']


# --- prometheus_targets_check --------------------------------------------------------------------

def test_targets_prometheus_job_up(lab):
    run = run_module('prometheus_targets_check', dict(url=lab.url, expected=[{'job': 'prometheus', 'count': 1}],
                                                      wait_timeout=30, wait_interval=1))
    assert not run.failed, run
    assert [t['job'] for t in run.result['up']] == ['prometheus']
    assert run.result['down'] == [] and run.result['missing'] == []
    assert run.result['elapsed'] < 30
    assert {t['job'] for t in run.result['targets']} == {'prometheus', 'dead'}


def test_targets_dead_job_reported_down(lab):
    run = run_module('prometheus_targets_check', dict(url=lab.url, expected=[{'job': 'prometheus'}, {'job': 'dead'}],
                                                      wait_timeout=3, wait_interval=1))
    assert run.failed, run
    down = run.result['down']
    assert [(t['job'], t['instance']) for t in down] == [('dead', '127.0.0.1:1')]
    assert 'connection refused' in down[0]['lastError']
    assert down[0]['scrapeUrl'] == 'http://127.0.0.1:1/metrics'
    msg = run.result['msg']
    assert "target job 'dead' instance '127.0.0.1:1'" in msg
    assert down[0]['lastError'] in msg
    assert 'prometheus' in {t['job'] for t in run.result['up']}
    assert run.result['elapsed'] >= 3


def test_targets_missing_job_reported(lab):
    run = run_module('prometheus_targets_check', dict(url=lab.url, expected=[{'job': 'prometheus'}, {'job': 'ilp_connector'}]))
    assert run.failed, run
    assert [m['job'] for m in run.result['missing']] == ['ilp_connector']
    assert "no active target for job 'ilp_connector' (jobs found: dead, prometheus)" in run.result['msg']


def test_targets_fail_on_problems_false_and_check_mode(lab):
    run = run_module('prometheus_targets_check', dict(url=lab.url, fail_on_problems=False), check=True)
    assert not run.failed, run
    assert [t['job'] for t in run.result['down']] == ['dead']
    assert run.result['changed'] is False
    assert run.result['ok'] is False and run.result['http_calls'] == 1
    assert [(p['kind'], p['subject']) for p in run.result['problems']] == [('target_down', 'dead/127.0.0.1:1')]
    assert 'connection refused' in run.output


# --- basic authentication ------------------------------------------------------------------------

def test_basic_auth_right_password(secured):
    auth = dict(url=secured.url, url_username='ansible', url_password=PASSWORD)
    rules = run_module('prometheus_rules_check', dict(auth, expected_groups=['healthy'], wait_timeout=30))
    assert not rules.failed, rules
    targets = run_module('prometheus_targets_check', dict(auth, expected=[{'job': 'prometheus'}], wait_timeout=30, wait_interval=1))
    assert not targets.failed, targets
    for run in (rules, targets):
        assert PASSWORD not in run.output


def test_basic_auth_missing_credentials_401(secured):
    run = run_module('prometheus_rules_check', dict(url=secured.url, wait_timeout=10))
    assert run.failed
    assert run.result['status'] == 401
    assert 'HTTP 401' in run.result['msg']
    assert secured.url + '/api/v1/rules' in run.result['msg']


def test_basic_auth_wrong_password_401_not_shown(secured):
    run = run_module('prometheus_targets_check', dict(url=secured.url, url_username='ansible', url_password=WRONG_PASSWORD,
                                                      expected=[{'job': 'prometheus'}], wait_timeout=10))
    assert run.failed
    assert run.result['status'] == 401
    assert 'HTTP 401' in run.result['msg']
    assert WRONG_PASSWORD not in run.output


def test_basic_auth_password_not_in_other_failures(secured):
    run = run_module('prometheus_targets_check', dict(url=secured.url, url_username='ansible', url_password=PASSWORD,
                                                      expected=[{'job': 'not_scraped'}]))
    assert run.failed
    assert run.result['missing'][0]['job'] == 'not_scraped'
    assert PASSWORD not in run.output
    run = run_module('prometheus_rules_check', dict(url=secured.url + '/wrong/prefix', url_username='ansible', url_password=PASSWORD))
    assert run.failed
    assert run.result['status'] == 404
    assert PASSWORD not in run.output


def test_basic_auth_needs_force_basic_auth(secured):
    # Prometheus challenges with a bare "WWW-Authenticate: Basic" that urllib does not answer,
    # which is why force_basic_auth defaults to true.
    run = run_module('prometheus_rules_check', dict(url=secured.url, url_username='ansible', url_password=PASSWORD,
                                                    force_basic_auth=False))
    assert run.failed
    assert run.result['status'] == 401
    assert PASSWORD not in run.output
