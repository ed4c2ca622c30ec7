#!/usr/bin/env python3
"""Render each role README's variables table from the role's meta/argument_specs.yml.

    python3 tools/role_docs.py [--check] [--roles-dir DIR] [ROLE ...]

The table sits in the README between the lines

    <!-- BEGIN VARIABLES (tools/role_docs.py) -->
    <!-- END VARIABLES -->

and is rewritten in place from the spec: one row per option (variable, type, default,
description), a row per sub-option of lists of dicts and dicts (``var[].key``, ``var.key``),
and one table per entry point when the role has more than ``main``. Defaults are the spec's
``default`` as written (templated defaults show their Jinja literally); a long list or dict
default is printed as YAML after the table. Descriptions are the spec's, with Ansible's doc
markup (C(), I(), B(), U(), L(), V(), O(), E(), P()) turned into Markdown.

Besides the README, the role is checked for disagreements between the spec and its defaults
(defaults/main.yml or defaults/main/*.yml); see consistency_problems(). Without --check the
READMEs are rewritten and the other disagreements printed; with --check nothing is written and
every disagreement is listed. Either way the exit status is 1 when something disagrees.

Conventions the checks rely on:
- A variable of the defaults files whose name starts with "__" (or "<role>__") is internal and
  needs no spec entry.
- A spec option with neither a default nor an entry in the defaults files must be
  ``required: true`` or say in its description that it is optional ("optional", "unset", "not set").
- ``elements: dict`` without ``options`` is for free-form items in an upstream program's own
  format; the description says so with the words "passed through as is". Or the items' fields
  are documented once by the collection's plugin that reads them: the description names it as
  ``P(ilp.observability.<name>#<type>)``, and that plugin's documentation file exists.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import yaml

TOP = Path(__file__).resolve().parents[1]
BEGIN = "<!-- BEGIN VARIABLES (tools/role_docs.py) -->"
END = "<!-- END VARIABLES -->"
NOTE = "<!-- Generated from meta/argument_specs.yml: edit the spec, then run python3 tools/role_docs.py -->"
INLINE_MAX = 80  # longer list and dict defaults are printed as YAML after the table
OPTIONAL_RE = re.compile(r"\b(optional|unset|not set)\b", re.IGNORECASE)
PASSTHROUGH_RE = re.compile(r"passed (through|on) as[ -]is", re.IGNORECASE)
PLUGIN_DOC_RE = re.compile(r"\bP\(ilp\.observability\.([a-z0-9_]+)#([a-z_]+)\)")


class _Loader(yaml.SafeLoader):  # pylint: disable=too-many-ancestors
    """SafeLoader that reads tagged values (!vault, !unsafe) as plain strings."""


_Loader.add_multi_constructor("!", lambda loader, suffix, node: (
    loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else None))


def load_yaml(path: Path):
    """A YAML file's data (tags read as strings)."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # nosec B506 - SafeLoader subclass


# --- reading a role -----------------------------------------------------------------------

def spec_path(role_dir: Path) -> Path | None:
    """The role's argument spec file, if any."""
    for name in ("argument_specs.yml", "argument_specs.yaml"):
        if (role_dir / "meta" / name).exists():
            return role_dir / "meta" / name
    return None


def load_spec(role_dir: Path) -> dict:
    """Entry point name -> entry point spec, main first, then in file order."""
    path = spec_path(role_dir)
    if path is None:
        return {}
    specs = (load_yaml(path) or {}).get("argument_specs") or {}
    order = (["main"] if "main" in specs else []) + [name for name in specs if name != "main"]
    return {name: specs[name] or {} for name in order}


def defaults_files(role_dir: Path) -> list[Path]:
    """defaults/main.yml (or .yaml) and the files of defaults/main/, as Ansible reads them."""
    base = role_dir / "defaults"
    files = [base / name for name in ("main.yml", "main.yaml") if (base / name).is_file()]
    if (base / "main").is_dir():
        files += sorted(p for p in (base / "main").iterdir() if p.suffix in (".yml", ".yaml"))
    return files


def load_defaults(role_dir: Path) -> dict:
    """Every variable of the role's defaults files (later files win, as in Ansible)."""
    values: dict = {}
    for path in defaults_files(role_dir):
        values.update(load_yaml(path) or {})
    return values


def all_options(specs: dict) -> dict:
    """Option name -> list of (entry point, option spec), over every entry point."""
    options: dict = {}
    for entry, spec in specs.items():
        for name, option in (spec.get("options") or {}).items():
            options.setdefault(name, []).append((entry, option or {}))
    return options


# --- rendering ------------------------------------------------------------------------------

_CODE = re.compile(r"\b[CVOEP]\(([^()]*(?:\([^()]*\)[^()]*)*)\)|`([^`]+)`")
_MARKUP = [
    (re.compile(r"\bL\(([^,()]+),\s*([^()]+)\)"), r"[\1](\2)"),
    (re.compile(r"\bU\(([^()]+)\)"), r"[\1](\1)"),
    (re.compile(r"\bI\(([^()]+)\)"), r"*\1*"),
    (re.compile(r"\bB\(([^()]+)\)"), r"**\1**"),
]


def _plain(part: str) -> str:
    """Prose outside code: Markdown's special characters escaped, then I(), B(), U(), L()."""
    part = part.replace("<", "&lt;").replace("*", "\\*").replace("|", "\\|")
    for pattern, repl in _MARKUP:
        part = pattern.sub(repl, part)
    return part


def text(description) -> str:
    """A spec description (string or list of paragraphs) as one line of Markdown."""
    if description is None:
        return ""
    parts = description if isinstance(description, list) else [description]
    line = " ".join(" ".join(str(part).split()) for part in parts)
    out, pos = [], 0
    for match in _CODE.finditer(line):
        out += [_plain(line[pos:match.start()]), code(match.group(1) if match.group(1) is not None else match.group(2))]
        pos = match.end()
    return "".join(out + [_plain(line[pos:])])


def code(value: str) -> str:
    """Inline code that survives backticks and table pipes."""
    fence = "``" if "`" in value else "`"
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}".replace("|", "\\|")


def flow(value) -> str:
    """A value as one line of YAML flow style."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return repr(value)
    dumped = yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=10**6)
    return dumped.strip().removesuffix("...").strip()


def type_text(option: dict) -> str:
    """The type column: type, element type, choices, secret."""
    kind = option.get("type", "str")
    if kind == "list":
        kind = f"list of {option.get('elements', 'str')}"
    if option.get("choices"):
        kind += ": " + ", ".join(code(flow(choice)) for choice in option["choices"])
    if option.get("no_log"):
        kind += " (secret)"
    return kind


def default_text(name: str, option: dict, below: list) -> str:
    """The default column; long list/dict defaults go to `below` as YAML blocks."""
    if option.get("required"):
        return "*required*"
    if "default" not in option or option["default"] is None:
        return "*none*"
    value = option["default"]
    if isinstance(value, str):  # a folded template's line breaks read as spaces
        return code(re.sub(r"\s*\n\s*", " ", value)) if value else code('""')
    inline = flow(value)
    if isinstance(value, (list, dict)) and len(inline) > INLINE_MAX:
        below.append((name, value))
        return f"{len(value)} item{'s' if len(value) != 1 else ''}, below the table"
    return code(inline)


def rows(name: str, option: dict, below: list) -> list[str]:
    """Table rows of an option and, recursively, of its sub-options."""
    lines = [f"| {code(name)} | {type_text(option)} | {default_text(name, option, below)} | "
             f"{text(option.get('description'))} |"]
    sub = option.get("options") or {}
    joiner = "[]." if option.get("type") == "list" else "."
    for key, sub_option in sub.items():
        lines += rows(f"{name}{joiner}{key}", sub_option or {}, below)
    return lines


def render_table(spec: dict) -> list[str]:
    """The table of one entry point, followed by its long defaults."""
    below: list = []
    lines = ["| variable | type | default | description |", "|---|---|---|---|"]
    for name, option in (spec.get("options") or {}).items():
        lines += rows(name, option or {}, below)
    for name, value in below:
        dumped = yaml.safe_dump(value, default_flow_style=False, sort_keys=False, width=100).rstrip()
        lines += ["", f"Default of {code(name)}:", "", "```yaml", dumped, "```"]
    return lines


def render(specs: dict) -> str:
    """The block between (and including) the markers, for a role's entry points."""
    lines = [BEGIN, NOTE, ""]
    if not specs:
        lines += ["This role takes no variables.", ""]
    several = len(specs) > 1
    for entry, spec in specs.items():
        if several:
            how = "the role itself" if entry == "main" else f"`tasks_from: {entry}`"
            lines += [f"### Entry point `{entry}` ({how})", ""]
            if spec.get("short_description"):
                lines += [text(spec["short_description"]), ""]
        if spec.get("options"):
            lines += render_table(spec)
        else:
            lines += ["No variables."]
        lines += [""]
    lines += [END]
    return "\n".join(lines)


def split_readme(readme: str) -> tuple[str, str, str] | None:
    """(before, block, after) around the markers, or None when they are missing."""
    start = readme.find(BEGIN)
    stop = readme.find(END, start + 1) if start >= 0 else -1
    if start < 0 or stop < 0:
        return None
    stop += len(END)
    return readme[:start], readme[start:stop], readme[stop:]


def readme_problems(role_dir: Path, write: bool) -> list[str]:
    """The README's table against the spec; rewrites it in place when `write`."""
    readme_path = role_dir / "README.md"
    if not readme_path.exists():
        return [f"{role_dir.name}: README.md is missing"]
    readme = readme_path.read_text(encoding="utf-8")
    parts = split_readme(readme)
    if parts is None:
        return [f"{role_dir.name}: README.md has no {BEGIN} ... {END} markers for the variables table"]
    before, block, after = parts
    wanted = render(load_spec(role_dir))
    if block == wanted:
        return []
    if write:
        readme_path.write_text(before + wanted + after, encoding="utf-8")
        print(f"{role_dir.name}: README.md variables table rewritten")
        return []
    old, new = block.splitlines(), wanted.splitlines()
    first = next((i for i, (a, b) in enumerate(zip(old, new)) if a != b), min(len(old), len(new)))
    return [f"{role_dir.name}: README.md variables table differs from the spec (run python3 tools/role_docs.py); "
            f"first difference at table line {first + 1}: README {old[first] if first < len(old) else '<end>'!r}, "
            f"spec {new[first] if first < len(new) else '<end>'!r}"]


# --- consistency of spec and defaults ---------------------------------------------------------

def same(left, right) -> bool:
    """Parsed YAML values equal, booleans never equal to numbers, 10 equal to 10.0."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        return left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(same(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(same(a, b) for a, b in zip(left, right))
    return type(left) is type(right) and left == right


def has_dict_items(value) -> bool:
    """A list with at least one dict among its items."""
    return isinstance(value, list) and any(isinstance(item, dict) for item in value)


def element_problems(where: str, name: str, option: dict, values: list) -> list[str]:
    """Lists of dicts typed as such, with the shape of their items, recursively."""
    problems = []
    known = [option.get("default")] + list(values)
    if option.get("type") == "list" and option.get("elements", "str") != "dict" and any(map(has_dict_items, known)):
        problems.append(f"{where}: {name} holds dicts but is typed elements: {option.get('elements', 'str')} "
                        "(use elements: dict with options)")
    description = option.get("description")
    if option.get("type") == "list" and option.get("elements") == "dict" and not option.get("options") \
            and not PASSTHROUGH_RE.search(text(description)) \
            and not PLUGIN_DOC_RE.search(" ".join(description if isinstance(description, list) else [str(description)])):
        problems.append(f"{where}: {name} is elements: dict without options: describe its items with options "
                        "(or say they are 'passed through as is' in an upstream format, or name the plugin "
                        "documenting them, P(ilp.observability.<name>#<type>))")
    for key, sub in (option.get("options") or {}).items():
        sub_values = []
        for value in known:
            items = value if isinstance(value, list) else [value]
            sub_values += [item[key] for item in items if isinstance(item, dict) and key in item]
        joiner = "[]." if option.get("type") == "list" else "."
        problems += element_problems(where, f"{name}{joiner}{key}", sub or {}, sub_values)
    return problems


def description_problems(where: str, name: str, option: dict) -> list[str]:
    """Every option and sub-option says what it does."""
    problems = []
    if not text(option.get("description")).strip():
        problems.append(f"{where}: {name} has no description")
    for key, sub in (option.get("options") or {}).items():
        problems += description_problems(where, f"{name}.{key}", sub or {})
    return problems


def default_problems(where: str, name: str, option: dict, defaults: dict) -> list[str]:
    """An option against the defaults files: present when it should be, with the same default."""
    problem = ""
    if name not in defaults:
        if not option.get("required") and "default" not in option \
                and not OPTIONAL_RE.search(text(option.get("description"))):
            problem = "is in the spec but not in the defaults (give it a default, make it required, or describe it as optional)"
        elif option.get("default") is not None:
            problem = "has a spec default but none in the defaults files"
    elif option.get("required"):
        problem = ("is required in the spec but set in the defaults files "
                   "(the role's own default satisfies the requirement, so it never triggers)")
    elif "default" not in option:
        problem = f"has no spec default; the defaults file has {flow(defaults[name])!r}"
    elif not same(option["default"], defaults[name]):
        problem = f"spec default {flow(option['default'])!r} differs from the defaults file {flow(defaults[name])!r}"
    return [f"{where}: {name} {problem}"] if problem else []


def duplicate_descriptions(role: str, specs: dict) -> list[str]:
    """Options of one entry point that share a description (copied, so wrong for one of them)."""
    problems = []
    for entry, spec in specs.items():
        seen: dict = {}
        for name, option in (spec.get("options") or {}).items():
            description = text((option or {}).get("description"))
            if description and description in seen:
                problems.append(f"{role} ({entry}): {name} has the same description as {seen[description]}")
            seen.setdefault(description, name)
    return problems


def plugin_reference_problems(where: str, name: str, option: dict, plugins_dir: Path) -> list[str]:
    """P(ilp.observability.<name>#<type>) references to plugins without a documentation file."""
    description = option.get("description")
    line = " ".join(description if isinstance(description, list) else [str(description or "")])
    return [f"{where}: {name} refers to P(ilp.observability.{plugin}#{kind}), which has no "
            f"plugins/{kind}/{plugin}.yml or .py"
            for plugin, kind in PLUGIN_DOC_RE.findall(line)
            if not any((plugins_dir / kind / f"{plugin}{ext}").is_file() for ext in (".yml", ".py"))]


def consistency_problems(role_dir: Path, elsewhere: dict | None = None) -> list[str]:
    """Disagreements between a role's spec and its defaults files.

    - a variable in the defaults and in no entry point of the spec (internal "__" names excepted);
    - an option in no defaults file, unless required or described as optional;
    - a spec default that differs from the defaults file (parsed values; templates as strings),
      or is missing while the defaults file has one;
    - an option or sub-option without description, or two options with the same description;
    - a list holding dicts (in its defaults or in `elsewhere`: option name -> values set
      elsewhere in the repository, see repo_values()) that is not elements: dict, and
      elements: dict without options unless described as passed through as is.
    """
    role = role_dir.name
    specs = load_spec(role_dir)
    if not specs:
        return [f"{role}: meta/argument_specs.yml is missing or has no entry point"]
    defaults = load_defaults(role_dir)
    options = all_options(specs)
    problems = [] if "main" in specs else [f"{role}: the spec has no entry point main"]
    problems += [f"{role}: entry point {entry} has no short_description"
                 for entry, spec in specs.items() if not spec.get("short_description")]
    problems += [f"{role}: {name} is in the defaults but not in the spec" for name in defaults
                 if name not in options and not (name.startswith("__") or name.startswith(f"{role}__"))]
    for name, entries in options.items():
        values = ([defaults[name]] if name in defaults else []) + list((elsewhere or {}).get(name, []))
        for entry, option in entries:
            where = f"{role} ({entry})" if len(specs) > 1 else role
            problems += default_problems(where, name, option, defaults)
            problems += element_problems(where, name, option, values)
            problems += plugin_reference_problems(where, name, option, role_dir.parent.parent / "plugins")
            problems += description_problems(where, name, option)
    return problems + duplicate_descriptions(role, specs)


def repo_values(top: Path) -> dict:
    """Variable name -> values set outside the roles (inventories, playbooks, Molecule scenarios, tests)."""
    found: dict = {}

    def walk(data):
        if isinstance(data, dict):
            for key, value in data.items():
                if isinstance(key, str):
                    found.setdefault(key, []).append(value)
                walk(value)
        elif isinstance(data, list):
            for item in data:
                walk(item)

    paths = [top / "site.yml"]
    for folder in ("inventories", "playbooks", "molecule", "extensions", "tests"):
        paths += sorted((top / folder).rglob("*.yml")) if (top / folder).is_dir() else []
    for path in paths:
        if path.is_file() and "output" not in path.relative_to(top).parts and ".molecule" not in path.parts:
            try:
                walk(load_yaml(path))
            except yaml.YAMLError:
                continue
    return found


def role_dirs(roles_dir: Path, names: list[str]) -> list[Path]:
    """The roles to work on: the named ones, or every role with an argument spec."""
    if names:
        return [roles_dir / name for name in names]
    return sorted(p for p in roles_dir.iterdir() if p.is_dir() and spec_path(p))


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; list every disagreement and exit 1 if there is one")
    parser.add_argument("--roles-dir", type=Path, default=TOP / "roles")
    parser.add_argument("roles", nargs="*", help="role names (default: every role with an argument spec)")
    args = parser.parse_args(argv)
    problems = []
    values = repo_values(args.roles_dir.resolve().parent)
    for role_dir in role_dirs(args.roles_dir, args.roles):
        if not role_dir.is_dir():
            problems.append(f"{role_dir.name}: no such role in {args.roles_dir}")
            continue
        problems += readme_problems(role_dir, write=not args.check)
        problems += consistency_problems(role_dir, values)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
