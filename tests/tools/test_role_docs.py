"""Docs from one source: every role's argument spec, defaults files and README table agree.

The checks live in tools/role_docs.py (which also renders the tables); these tests run them on
every role of the collection, validate the values the repository itself sets (defaults,
inventories, playbooks, Molecule scenarios) against the specs with Ansible's own validator, and
prove on a made-up role that each kind of disagreement is caught."""
from __future__ import annotations

import importlib.util
import textwrap
from pathlib import Path

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

TOP = Path(__file__).resolve().parents[2]
_SPEC = importlib.util.spec_from_file_location("role_docs", TOP / "tools/role_docs.py")
role_docs = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(role_docs)

ROLES = sorted(p.name for p in (TOP / "roles").iterdir() if p.is_dir() and role_docs.spec_path(p))
REPO_VALUES = role_docs.repo_values(TOP)


def templated(value) -> bool:
    """Whether a value holds Jinja anywhere (then only Ansible can tell what it becomes)."""
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, dict):
        return any(templated(k) or templated(v) for k, v in value.items())
    if isinstance(value, list):
        return any(templated(item) for item in value)
    return False


def test_every_role_has_a_spec():
    roles = sorted(p.name for p in (TOP / "roles").iterdir() if p.is_dir())
    assert roles == ROLES, "roles without meta/argument_specs.yml: " + ", ".join(sorted(set(roles) - set(ROLES)))


@pytest.mark.parametrize("role", ROLES)
def test_spec_and_defaults_agree(role):
    problems = role_docs.consistency_problems(TOP / "roles" / role, REPO_VALUES)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("role", ROLES)
def test_readme_table_is_rendered_from_the_spec(role):
    problems = role_docs.readme_problems(TOP / "roles" / role, write=False)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("role", ROLES)
def test_values_set_in_the_repository_pass_the_spec(role):
    """Defaults, inventories, playbooks and scenarios pass Ansible's validation of the spec."""
    role_dir = TOP / "roles" / role
    defaults = role_docs.load_defaults(role_dir)
    errors = []
    checked = 0
    for name, entries in role_docs.all_options(role_docs.load_spec(role_dir)).items():
        values = ([defaults[name]] if name in defaults else []) + REPO_VALUES.get(name, [])
        for entry, option in entries:
            validator = ArgumentSpecValidator({name: option})
            for value in values:
                if templated(value):
                    continue
                checked += 1
                result = validator.validate({name: value})
                errors += [f"{role} ({entry}): {name} = {value!r}: {message}" for message in result.error_messages]
    assert checked, f"{role}: no value was checked"
    assert not errors, "\n".join(errors)


# --- the checks catch what they claim to, on a made-up role ----------------------------------

FAKE_SPEC = """\
---
argument_specs:
  main:
    short_description: A made-up role
    options:
      fake_port:
        type: int
        default: 9000
        description: Port the fake service listens on.
      fake_url:
        type: str
        default: "{{ fake_mirror | default('https://example.org', true) }}/fake"
        description: Where C(fake) comes from.
      fake_hooks:
        type: list
        elements: str
        default: []
        description: Webhooks.
      fake_cases:
        type: list
        elements: dict
        default: [{labels: {a: b}, receivers: [x]}]
        description: Test cases.
      fake_only_in_spec:
        type: str
        default: x
        description: A variable the defaults file forgot.
      fake_token:
        type: str
        description: Optional token; unset means no authentication.
        no_log: true
  archive:
    short_description: Only the archive
    options:
      fake_port:
        type: int
        default: 9000
        description: Port again.
"""

FAKE_DEFAULTS = """\
---
fake_port: 9001
fake_url: "{{ fake_mirror | default('https://example.org', true) }}/fake"
fake_hooks: [{url: "https://hooks.example/x"}]
fake_cases: [{labels: {a: b}, receivers: [x]}]
fake_not_in_spec: 1
__fake_internal: 2
"""

FAKE_README = """\
# fake

A made-up role.

## Variables

<!-- BEGIN VARIABLES (tools/role_docs.py) -->
| stale | table |
<!-- END VARIABLES -->

## Behaviour

Unchanged by the tool.
"""


@pytest.fixture(name="fake_role")
def fixture_fake_role(tmp_path):
    """A role under tmp_path/roles/fake with one disagreement of each kind."""
    role = tmp_path / "roles" / "fake"
    (role / "meta").mkdir(parents=True)
    (role / "defaults").mkdir()
    (role / "meta" / "argument_specs.yml").write_text(FAKE_SPEC)
    (role / "defaults" / "main.yml").write_text(FAKE_DEFAULTS)
    (role / "README.md").write_text(FAKE_README)
    return role


def test_disagreements_are_found(fake_role):
    problems = "\n".join(role_docs.consistency_problems(fake_role))
    assert "fake_not_in_spec is in the defaults but not in the spec" in problems
    assert "__fake_internal" not in problems
    assert "fake_only_in_spec has a spec default but none in the defaults files" in problems
    assert "fake_token" not in problems  # described as optional, no default anywhere
    assert "fake (main): fake_port spec default '9000' differs from the defaults file '9001'" in problems
    assert "fake (archive): fake_port spec default" in problems
    assert "fake_url" not in problems  # templated defaults compare as strings
    assert "fake_hooks holds dicts but is typed elements: str" in problems
    assert "fake_cases is elements: dict without options" in problems


def test_a_corrected_role_passes(fake_role):
    spec = FAKE_SPEC.replace("default: 9000", "default: 9001").replace(
        "        elements: str\n        default: []\n        description: Webhooks.",
        "        elements: dict\n        default: []\n        description: Webhooks, passed through as is.").replace(
        "description: Test cases.",
        "description: Test cases.\n        options:\n          labels: {type: dict, required: true, description: Labels.}\n"
        "          receivers: {type: list, elements: str, required: true, description: Receivers.}")
    spec = spec.replace("      fake_only_in_spec:\n        type: str\n        default: x\n        description: A variable the defaults file forgot.\n", "")
    (fake_role / "meta" / "argument_specs.yml").write_text(spec)
    defaults = FAKE_DEFAULTS.replace("fake_not_in_spec: 1\n", "").replace('[{url: "https://hooks.example/x"}]', "[]")
    (fake_role / "defaults" / "main.yml").write_text(defaults)
    assert role_docs.consistency_problems(fake_role) == []


def test_repository_values_reveal_lists_of_dicts(fake_role):
    (fake_role / "defaults" / "main.yml").write_text(FAKE_DEFAULTS.replace('[{url: "https://hooks.example/x"}]', "[]"))
    assert "fake_hooks holds" not in "\n".join(role_docs.consistency_problems(fake_role))
    problems = role_docs.consistency_problems(fake_role, {"fake_hooks": [[{"url": "https://inventory.example/"}]]})
    assert "fake (main): fake_hooks holds dicts but is typed elements: str (use elements: dict with options)" in problems


def test_readme_table_is_checked_and_rewritten(fake_role):
    readme = fake_role / "README.md"
    problems = role_docs.readme_problems(fake_role, write=False)
    assert len(problems) == 1 and "variables table differs from the spec" in problems[0]
    assert readme.read_text() == FAKE_README  # --check writes nothing
    assert role_docs.main(["--check", "--roles-dir", str(fake_role.parent)]) == 1

    assert role_docs.readme_problems(fake_role, write=True) == []
    text = readme.read_text()
    assert role_docs.readme_problems(fake_role, write=False) == []
    assert text.startswith("# fake\n\nA made-up role.\n\n## Variables\n\n<!-- BEGIN VARIABLES")
    assert text.endswith("<!-- END VARIABLES -->\n\n## Behaviour\n\nUnchanged by the tool.\n")
    # One table per entry point, main first.
    assert text.index("### Entry point `main` (the role itself)") < text.index("### Entry point `archive` (`tasks_from: archive`)")
    assert "| `fake_port` | int | `9000` | Port the fake service listens on. |" in text
    # Templated defaults as their Jinja, in code, with the table's pipes escaped; doc markup as Markdown.
    assert ("| `fake_url` | str | `{{ fake_mirror \\| default('https://example.org', true) }}/fake` | "
            "Where `fake` comes from. |") in text
    assert "| `fake_token` | str (secret) | *none* |" in text
    assert "| `fake_cases` | list of dict | `[{labels: {a: b}, receivers: [x]}]` |" in text

    # A hand edit inside the table is a disagreement again.
    readme.write_text(text.replace("Port the fake service listens on.", "Port."))
    assert role_docs.readme_problems(fake_role, write=False)


def test_readme_without_markers_is_reported(fake_role):
    (fake_role / "README.md").write_text("# fake\n\nNo table.\n")
    assert "has no <!-- BEGIN VARIABLES" in role_docs.readme_problems(fake_role, write=True)[0]


def test_long_defaults_go_below_the_table():
    spec = {"main": {"options": {"x_cases": {
        "type": "list", "elements": "dict", "description": "Cases.",
        "default": [{"labels": {"alertname": f"Alert{i}", "severity": "critical"}, "receivers": ["pager"]} for i in range(3)],
        "options": {"labels": {"type": "dict", "description": "Labels."},
                    "receivers": {"type": "list", "elements": "str", "description": "Receivers."}}}}}}
    block = role_docs.render(spec)
    assert "| `x_cases` | list of dict | 3 items, below the table | Cases. |" in block
    assert "| `x_cases[].labels` | dict | *none* | Labels. |" in block
    assert "| `x_cases[].receivers` | list of str | *none* | Receivers. |" in block
    assert textwrap.dedent("""\
        Default of `x_cases`:

        ```yaml
        - labels:
            alertname: Alert0
        """) in block


def test_folded_template_defaults_read_on_one_line():
    spec = {"main": {"options": {"x_url": {"type": "str", "description": "X.",
                                           "default": "{{ (a ~ '/b')\n   if a else '' }}"}}}}
    assert "| `x_url` | str | `{{ (a ~ '/b') if a else '' }}` | X. |" in role_docs.render(spec)


def test_descriptions_become_safe_markdown():
    line = role_docs.text(["Set C(a|b) or `x*y`,", "see U(https://example.org) and I(this); sha256:<hex> for a*b."])
    assert line == ("Set `a\\|b` or `x*y`, see [https://example.org](https://example.org) and *this*; "
                    "sha256:&lt;hex> for a\\*b.")


@pytest.mark.parametrize("plugin_file, problem", [
    ("fake_cases.yml", None),
    ("other.yml", "fake_cases refers to P(ilp.observability.fake_cases#filter), which has no plugins/filter/fake_cases"),
])
def test_items_documented_by_a_plugin_of_the_collection_need_its_documentation_file(fake_role, plugin_file, problem):
    spec = FAKE_SPEC.replace("description: Test cases.",
                             "description: Test cases, fields in P(ilp.observability.fake_cases#filter).")
    (fake_role / "meta" / "argument_specs.yml").write_text(spec)
    plugins = fake_role.parent.parent / "plugins" / "filter"
    plugins.mkdir(parents=True)
    (plugins / plugin_file).write_text("---\nDOCUMENTATION: {}\n")
    problems = "\n".join(role_docs.consistency_problems(fake_role))
    assert "fake_cases is elements: dict without options" not in problems
    if problem is None:
        assert "fake_cases refers to" not in problems
    else:
        assert problem in problems
