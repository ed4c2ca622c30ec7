"""The victorialogs role's flags, rendered by Ansible from the role's defaults and vars.

VictoriaLogs has no configuration file: the role writes its command-line flags into an
environment file the unit reads ($VICTORIALOGS_FLAGS, split at whitespace by systemd). The role's
own flags come first, victorialogs_flags is passed through (true -> -name, false -> -name=false, a
list repeats the flag, null leaves it out), what the shell and systemd would read differently is
refused before anything changes, and, with the mirror's archive at hand, the binary's own flag
parser (the check the role runs before the file goes live) accepts what the role writes and
refuses unknown flags and malformed values.
"""
from __future__ import annotations

import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import pytest
import yaml

TOP = Path(__file__).resolve().parents[2]
ROLE = TOP / "roles" / "victorialogs"
CACHE = Path(os.environ.get("ILP_CACHE_DIR", Path.home() / ".cache" / "ilp-observability"))
VERSION = yaml.safe_load((ROLE / "defaults/main.yml").read_text())["victorialogs_version"]
ARCH = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
ARCHIVE = (CACHE / "mirror/VictoriaMetrics/VictoriaLogs/releases/download" / f"v{VERSION}"
           / f"victoria-logs-linux-{ARCH}-v{VERSION}.tar.gz")
DEFAULT_FLAGS = ["-storageDataPath=/var/lib/victorialogs", "-httpListenAddr=0.0.0.0:9428", "-retentionPeriod=7d"]

PLAYBOOK = textwrap.dedent(f"""\
    - name: Render VictoriaLogs' flags file with the role's defaults and vars
      hosts: localhost
      gather_facts: false
      vars_files:
        - {ROLE}/defaults/main.yml
        - {ROLE}/vars/main.yml
      tasks:
        - name: Render the flags file
          ansible.builtin.template:
            src: {ROLE}/templates/victorialogs.env.j2
            dest: "{{{{ out }}}}/victorialogs.env"
            mode: "0644"
        - name: Write what the role derives
          ansible.builtin.copy:
            content: "{{{{ {{'refused': victorialogs__refused_flags, 'check': victorialogs__flags_check,
                            'ready': victorialogs__local_url ~ '/health', 'file': victorialogs__flags_file}} | to_json }}}}"
            dest: "{{{{ out }}}}/derived.json"
            mode: "0644"
    """)


def render(tmp_path: Path, extra: dict | None = None) -> tuple[Path, dict]:
    """The rendered flags file and the role's derived values, for the given extra vars."""
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "render.yml").write_text(PLAYBOOK)
    extra_file = tmp_path / "extra.json"
    extra_file.write_text(json.dumps({"out": str(out), "ansible_python_interpreter": sys.executable, **(extra or {})}))
    ansible = shutil.which("ansible-playbook") or str(TOP / ".venv" / "bin" / "ansible-playbook")
    proc = subprocess.run([ansible, str(tmp_path / "render.yml"), "-i", "localhost,", "-c", "local",
                           "-e", f"@{extra_file}"],
                          capture_output=True, text=True, timeout=120, check=False,
                          env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(TOP / "collections"),
                                   ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_NOCOLOR="1"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out / "victorialogs.env", json.loads((out / "derived.json").read_text())


def systemd_args(env_file: Path) -> list[str]:
    """The arguments systemd gives the binary: the one VICTORIALOGS_FLAGS="..." line, its value
    split at whitespace ($VAR unquoted in ExecStart)."""
    lines = [line for line in env_file.read_text().splitlines() if line and not line.startswith("#")]
    assert len(lines) == 1, lines
    match = re.fullmatch(r'VICTORIALOGS_FLAGS="([^"\\$`]*)"', lines[0])
    assert match, lines[0]
    return match.group(1).split()


def shell_args(env_file: Path) -> list[str]:
    """The arguments the role's check gives the binary: the file sourced by sh, $VICTORIALOGS_FLAGS split by sh."""
    proc = subprocess.run(["/bin/sh", "-c", '. "$1" && printf "%s\\n" $VICTORIALOGS_FLAGS', "sh", str(env_file)],
                          capture_output=True, text=True, check=True, timeout=10)
    return proc.stdout.splitlines()


def test_default_flags_are_the_roles_own(tmp_path):
    env_file, derived = render(tmp_path)
    assert systemd_args(env_file) == DEFAULT_FLAGS
    assert shell_args(env_file) == DEFAULT_FLAGS
    assert derived["refused"] == []
    assert derived["ready"] == "http://127.0.0.1:9428/health"
    assert derived["file"] == "/etc/victorialogs/victorialogs.env"


def test_victorialogs_flags_are_passed_through(tmp_path):
    env_file, derived = render(tmp_path, {
        "victorialogs_retention_period": "30d", "victorialogs_data_dir": "/srv/vl",
        "victorialogs_listen_address": "10.0.0.5:9500",
        "victorialogs_flags": {"retention.maxDiskSpaceUsageBytes": "50GiB", "search.maxQueryDuration": "1m",
                               "insert.maxLineSizeBytes": 262144, "syslog.useLocalTimestamp.tcp": True,
                               "http.disableResponseCompression": False, "envflag.enable": None,
                               "httpAuth.username": "ops", "loki.maxRequestSize": "8MiB",
                               "syslog.listenAddr.tcp": [":514", ":1514"]}})
    wanted = ["-storageDataPath=/srv/vl", "-httpListenAddr=10.0.0.5:9500", "-retentionPeriod=30d",
              "-retention.maxDiskSpaceUsageBytes=50GiB", "-search.maxQueryDuration=1m",
              "-insert.maxLineSizeBytes=262144", "-syslog.useLocalTimestamp.tcp",
              "-http.disableResponseCompression=false", "-httpAuth.username=ops", "-loki.maxRequestSize=8MiB",
              "-syslog.listenAddr.tcp=:514", "-syslog.listenAddr.tcp=:1514"]
    assert derived["refused"] == []
    assert systemd_args(env_file) == wanted
    assert shell_args(env_file) == wanted, "the check reads the file as systemd does"
    assert derived["ready"] == "http://10.0.0.5:9500/health"


@pytest.mark.parametrize("address, ready", [("0.0.0.0:9428", "http://127.0.0.1:9428/health"),
                                            (":9428", "http://127.0.0.1:9428/health"),
                                            ("[::]:9429", "http://[::1]:9429/health"),
                                            ("192.0.2.7:9428", "http://192.0.2.7:9428/health")])
def test_readiness_is_checked_where_it_listens(tmp_path, address, ready):
    assert render(tmp_path, {"victorialogs_listen_address": address})[1]["ready"] == ready


@pytest.mark.parametrize("flags, message", [
    ({"storageDataPath": "/tmp/x"}, "storageDataPath: set victorialogs_data_dir instead"),
    ({"httpListenAddr": ":1"}, "httpListenAddr: set victorialogs_listen_address instead"),
    ({"retentionPeriod": "1y"}, "retentionPeriod: set victorialogs_retention_period instead"),
    ({"-loggerLevel": "WARN"}, "-loggerLevel: not a flag name"),
    ({"logger level": "WARN"}, "logger level: not a flag name"),
    ({"httpAuth.password": "two words"}, "httpAuth.password: whitespace"),
    ({"httpAuth.password": 'a"b'}, "httpAuth.password: whitespace"),
    ({"httpAuth.password": "a'b"}, "httpAuth.password: whitespace"),
    ({"httpAuth.password": "a\\b"}, "httpAuth.password: whitespace"),
    ({"httpAuth.password": "a$HOME"}, "httpAuth.password: whitespace"),
    ({"httpAuth.password": "a`id`"}, "httpAuth.password: whitespace"),
    ({"syslog.listenAddr.tcp": [":514", "tab\there"]}, "syslog.listenAddr.tcp: whitespace"),
    ({"search": {"maxQueryDuration": "1m"}}, "search: a value is a word"),
    ({"syslog.listenAddr.tcp": [{"a": 1}]}, "syslog.listenAddr.tcp: a value is a word"),
])
def test_values_systemd_and_the_shell_would_read_differently_are_refused(tmp_path, flags, message):
    refused = render(tmp_path, {"victorialogs_flags": flags})[1]["refused"]
    assert len(refused) == 1 and refused[0].startswith(message), refused


def test_the_role_refuses_before_anything_changes():
    tasks = yaml.safe_load((ROLE / "tasks/main.yml").read_text())
    assert tasks[0]["ansible.builtin.assert"]["that"] == "victorialogs__refused_flags | length == 0"
    lifecycle = tasks[1]["vars"]
    config = lifecycle["service_lifecycle_config_files"]
    assert config == [{"src": "victorialogs.env.j2", "dest": "{{ victorialogs__flags_file }}",
                       "validate": "{{ victorialogs__flags_check }}"}]
    assert lifecycle["service_lifecycle_environment_files"] == ["{{ victorialogs__flags_file }}"]
    assert lifecycle["service_lifecycle_exec_start"] == ["/usr/local/bin/victoria-logs", "$VICTORIALOGS_FLAGS"]
    assert lifecycle["service_lifecycle_exec_reload"] == "", "flags are read at start only: a change restarts"
    # VictoriaLogs panics when mincore() is refused (seen at the first read after a start on Debian 12).
    assert lifecycle["service_lifecycle_unit_settings"]["SystemCallFilter"].split() == ["@system-service", "mincore"]


@pytest.fixture(scope="module")
def victoria_logs(tmp_path_factory) -> Path:
    if not ARCHIVE.exists():
        pytest.skip(f"{ARCHIVE} not built (python3 tools/release-mirror/build.py victorialogs)")
    folder = tmp_path_factory.mktemp("victorialogs")
    with tarfile.open(ARCHIVE) as tar:
        assert tar.getnames() == ["victoria-logs-prod"], "upstream packs the one binary at the archive's root"
        tar.extract("victoria-logs-prod", folder, filter="data")
    return folder / "victoria-logs-prod"


def run_check(derived: dict, binary: Path, env_file: Path) -> subprocess.CompletedProcess:
    """The role's validate command, with the extracted binary in place of /usr/local/bin/victoria-logs."""
    command = derived["check"].replace("/usr/local/bin/victoria-logs", str(binary)) % str(env_file)
    return subprocess.run(shlex.split(command), capture_output=True, text=True, timeout=30, check=False)


@pytest.mark.parametrize("case, flags, refused", [
    ("defaults", {}, None),
    ("pass-through", {"retention.maxDiskSpaceUsageBytes": "50GiB", "search.maxQueryDuration": "1m",
                      "loggerLevel": "WARN", "http.disableResponseCompression": False,
                      "syslog.listenAddr.tcp": [":5514", ":5515"]}, None),
    ("unknown flag", {"noSuchFlag": 1}, "flag provided but not defined: -noSuchFlag"),
    ("malformed size", {"retention.maxDiskSpaceUsageBytes": "lots"}, "retention.maxDiskSpaceUsageBytes"),
    ("malformed duration", {"search.maxQueryDuration": "soon"}, "search.maxQueryDuration"),
    ("malformed boolean", {"http.disableResponseCompression": "maybe"}, "http.disableResponseCompression"),
])
def test_the_binarys_flag_parser_judges_what_the_role_writes(tmp_path, victoria_logs, case, flags, refused):
    data = tmp_path / "data"
    env_file, derived = render(tmp_path, {"victorialogs_flags": flags, "victorialogs_data_dir": str(data),
                                          "victorialogs_listen_address": "127.0.0.1:1"})
    proc = run_check(derived, victoria_logs, env_file)
    if refused is None:
        assert proc.returncode == 0, f"{case}: {proc.stdout}{proc.stderr}"
        assert VERSION in proc.stdout, f"{case}: -version prints the release: {proc.stdout}"
    else:
        assert proc.returncode != 0 and refused in proc.stdout + proc.stderr, f"{case}: {proc.stdout}{proc.stderr}"
    assert not data.exists(), "the check opens no storage (and binds no port: 127.0.0.1:1 would need root)"
