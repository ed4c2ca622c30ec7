# ilp.observability: developer entry points. Every target sets up what it needs itself.
#   make lab    the main job: build the lab hosts and run site.yml against inventories/lab
#   make test   everything CI runs: lint, sanity, unit tests, rule tests, packaging (make checks), beside Molecule
#   make upstream-check  every pinned upstream archive and checksum file, amd64 and arm64, one table (needs internet; not in make test)
#   make bench  seconds of a no-op run at 3 and 10 hosts, per extra host, task executions per host
#   ILP_RELEASES=upstream make lab|test   fill the release mirror from the upstream release pages (seconds; needs internet)
#   ILP_RELEASE_DIR=/path make lab|test   take the release archives that folder holds (upstream URL layout), build the rest
#   ILP_MIRROR_ARCHES=amd64,arm64 make mirror-all   also build (or download) every program for arm64 (air-gapped arm64 sites); tests stay amd64
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
VENV ?= .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export ILP_CACHE_DIR ?= $(HOME)/.cache/ilp-observability
export ILP_MIRROR_URL ?= http://127.0.0.1:18080
export ANSIBLE_FORCE_COLOR ?= false
export PY_COLORS ?= 0
# Where the release mirror's programs come from (tools/release-mirror/fetch.py, docs/release-mirror.md):
# unset builds them (the default); ILP_RELEASES=upstream downloads the upstream release archives and
# checksum files; ILP_RELEASE_DIR=<folder laid out like the upstream URL paths> takes what it holds.
export ILP_RELEASES ?=
export ILP_RELEASE_DIR ?=
# The arches the mirror holds (docs/release-mirror.md, Architectures): unset is amd64 alone.
export ILP_MIRROR_ARCHES ?=
# Molecule scenarios run by `make test`, and the mirror programs they need.
SCENARIOS ?= stack
TEST_PROGRAMS ?= node_exporter blackbox_exporter prometheus alertmanager node ilp-connector jaeger otelcol-contrib victorialogs
# The programs site.yml deploys today.
LAB_PROGRAMS ?= node_exporter blackbox_exporter prometheus alertmanager node ilp-connector jaeger otelcol-contrib victorialogs
# Requested too by `make lab` and `make test`, never built (AGPL-3.0, and the plugin Grafana needs with
# VictoriaLogs): present only from ILP_RELEASES=upstream or ILP_RELEASE_DIR, else listed as missing. With
# them the lab adds Grafana and Loki, and `make test` runs the real-Grafana and real-Loki tests.
OPTIONAL_PROGRAMS ?= grafana loki victorialogs-datasource
# Shell lines exporting ILP_GRAFANA_ARCHIVE, ILP_LOKI_ARCHIVE, ILP_GRAFANA_VL_PLUGIN from the mirror's
# index.json when it holds those archives and the variable is not set already.
INDEX_ENV = eval "$$($(PY) tools/release-mirror/index_env.py)"

.PHONY: help venv hosts upstream-check mirror mirror-all mirror-check lint sanity unit rules integration package checks molecule test lab lab-destroy bench clean

help:
	@sed -n 's/^#   //p' Makefile

$(VENV)/.installed: requirements-dev.txt
	@command -v python3 >/dev/null
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

hosts:
	tools/test-hosts/build-images.sh

mirror: venv hosts
	$(PY) tools/release-mirror/build.py $(TEST_PROGRAMS)
	tools/release-mirror/serve.sh

mirror-all: venv hosts
	$(PY) tools/release-mirror/build.py
	tools/release-mirror/serve.sh

# Start every mirrored program on a test host and check its health endpoint.
mirror-check: mirror-all
	$(PY) tools/release-mirror/smoke_test.py

# For maintainers and users with internet access: for every program of the upstream facts
# (roles/service_lifecycle/files/upstream.yml) and amd64 and arm64, the archive URL answers and the
# checksum file names it in the facts' algorithm; exits non-zero on any miss. UPSTREAM_CHECK_BASE
# checks a mirror with the upstream layout instead.
upstream-check: venv
	$(PY) tools/upstream_facts.py check $(if $(UPSTREAM_CHECK_BASE),--base $(UPSTREAM_CHECK_BASE),)

lint: venv
	yamllint --strict .
	ansible-lint --profile production

sanity: venv
	tools/ci/ansible-test.sh sanity --python 3.11

unit: venv
	tools/ci/ansible-test.sh units --python 3.11
	$(PY) -m pytest -q tests/tools tests/roles

# promtool check and promtool test rules on the collection's rules, rendered with their defaults.
rules: venv
	$(PY) tools/release-mirror/build.py prometheus
	tools/ci/rules-test.sh

# The modules against real Prometheus servers started on loopback from the mirror's archive.
integration: venv
	$(PY) tools/release-mirror/build.py prometheus
	$(PY) -m pytest -q tests/integration

package: venv
	tools/ci/package-test.sh

molecule: venv hosts
	$(MAKE) mirror TEST_PROGRAMS="$(TEST_PROGRAMS) $(OPTIONAL_PROGRAMS)"
	$(INDEX_ENV); for s in $(SCENARIOS); do molecule test -s $$s; done

# The static checks and the Molecule scenarios run side by side: the scenarios mostly wait on
# their hosts and timers, so the checks run beside them at a lower priority (nice), and the
# scenarios' timings (alerts, log delays) keep their CPU. Each lane's output is kept whole.
checks: lint sanity unit rules integration package

test: venv hosts
	@mkdir -p build
	$(MAKE) --no-print-directory mirror TEST_PROGRAMS="$(TEST_PROGRAMS) $(OPTIONAL_PROGRAMS)"
	@$(INDEX_ENV); env | grep -E '^ILP_(GRAFANA_ARCHIVE|LOKI_ARCHIVE|GRAFANA_VL_PLUGIN)=' || true; \
	  rm -f build/checks.rc; ( nice -n 10 $(MAKE) --no-print-directory checks > build/checks.log 2>&1; echo $$? > build/checks.rc ) & \
	  start=$$(date +%s); m=0; $(MAKE) --no-print-directory molecule || m=$$?; \
	  echo "molecule: exit $$m after $$(( $$(date +%s) - start )) s"; wait; c=$$(cat build/checks.rc); \
	  echo "==== checks (lint sanity unit rules integration package): exit $$c; their output ===="; \
	  cat build/checks.log; echo "make test: molecule exit $$m, checks exit $$c"; [ "$$m" = 0 ] && [ "$$c" = 0 ]

lab: venv hosts
	$(MAKE) mirror TEST_PROGRAMS="$(LAB_PROGRAMS) $(OPTIONAL_PROGRAMS)"
	tools/lab/run.sh

lab-destroy:
	tools/lab/run.sh --destroy

# Cost per host (tools/bench/bench.py): no-op node_exporter runs on ilp-bench-1..10, and the lab's
# no-op site.yml when the lab hosts run. Not part of `make test`. BENCH_COLLECTION=<checkout>
# measures another commit (a git worktree); BENCH_RUNS, BENCH_SIZES, BENCH_MAX_SECONDS, BENCH_OUTPUT.
bench: venv hosts
	$(MAKE) mirror TEST_PROGRAMS=node_exporter
	$(PY) tools/bench/bench.py

clean:
	rm -rf tests/output build *.tar.gz
