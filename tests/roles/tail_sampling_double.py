# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""A TEST DOUBLE of the OpenTelemetry Collector contrib tail_sampling processor's decision.

Not the processor and no code of it: a port, written from its source at the version Jaeger 2.12.0
bundles (github.com/jaegertracing/jaeger v1.75.0, go.mod: tailsamplingprocessor v0.139.0 and
pkg/ottl v0.139.0; read from the Go module proxy's zips of those versions). It decides one trace
the way the processor does once decision_wait has passed, for the policy types the jaeger role
writes and the ones it wrote before (so a test can show both); anything else raises, so a policy
this double does not know never passes unnoticed.

Followed, file by file (paths inside processor/tailsamplingprocessor@v0.139.0):
- processor.go makeDecision: every policy is evaluated; "dropped" wins, then "inverted not
  sampled" (the trace is not sampled), then any "sampled", then "inverted sampled" when no policy
  said "not sampled"; otherwise not sampled. A policy that returns an error counts for nothing.
- internal/sampling/status_code.go: sampled when any span's status code is in status_codes
  (OK, ERROR, UNSET).
- internal/sampling/string_tag_filter.go with util.go: exact values (empty values ignored),
  resource attributes before span attributes, a span's empty string never matches; invert_match
  gives "inverted not sampled" as soon as a resource or span matches, else "inverted sampled"
  (the disableinvertdecisions feature gate, alpha and off, is not modelled).
- internal/sampling/probabilistic.go: FNV-1a 64 of hash_salt (default "default-hash-seed")
  then the 16 trace id bytes; sampled when the hash is <= MaxUint64 * sampling_percentage/100,
  computed as a 64-bit-mantissa big.Float rounded to nearest even and truncated.
- internal/sampling/ottl.go: span conditions evaluated span by span (OR of the list); sampled at
  the first span a condition holds for. The conditions are parsed with the OTTL grammar of
  pkg/ottl@v0.139.0 grammar.go (booleanExpression = term {"or" term}; term = booleanValue
  {"and" booleanValue}; booleanValue = ["not"] (comparison | true | false | "(" booleanExpression ")")),
  for the paths and literals the role writes: attributes["key"] (a span attribute, nil when
  absent), status.code, the STATUS_CODE_* enums (contexts/internal/ctxspan/symbols.go), string
  and integer literals, == and != (compare.go: nil equals only nil, values of different types
  are never equal).
"""
from __future__ import annotations

import re
from fractions import Fraction

STATUS = {"UNSET": 0, "OK": 1, "ERROR": 2}  # ptrace.StatusCode
SAMPLED, NOT_SAMPLED, INVERT_SAMPLED, INVERT_NOT_SAMPLED, DROPPED, ERROR = (
    "sampled", "not sampled", "inverted sampled", "inverted not sampled", "dropped", "error")
MAX_UINT64 = 2 ** 64 - 1


class Span:
    """One span: status code (int or UNSET/OK/ERROR), span attributes, its resource's attributes."""

    def __init__(self, status="UNSET", attributes: dict | None = None, resource: dict | None = None):
        self.status = STATUS[status] if isinstance(status, str) else int(status)
        self.attributes = dict(attributes or {})
        self.resource = dict(resource or {})


# ------------------------------------------------------------------------------------------------
# probabilistic.go


def fnv1a64(data: bytes) -> int:
    value = 0xcbf29ce484222325
    for byte in data:
        value = ((value ^ byte) * 0x100000001b3) & MAX_UINT64
    return value


def _round_to_bits(value: Fraction, bits: int) -> Fraction:
    """value rounded to a `bits`-bit mantissa, nearest even (big.Float's default mode)."""
    if value == 0:
        return value
    exponent = value.numerator.bit_length() - value.denominator.bit_length()
    if Fraction(2) ** exponent > value:
        exponent -= 1
    unit = Fraction(2) ** (exponent - bits + 1)
    return round(value / unit) * unit  # Fraction.__round__ rounds half to even


def threshold(sampling_percentage: float) -> int:
    ratio = Fraction(float(sampling_percentage) / 100)  # the float64 division of NewProbabilisticSampler
    product = _round_to_bits(Fraction(MAX_UINT64) * ratio, 64)
    return min(int(product), MAX_UINT64) if product > 0 else 0


def probabilistic(cfg: dict, trace_id: bytes) -> str:
    salt = cfg.get("hash_salt") or "default-hash-seed"
    hashed = fnv1a64(salt.encode() + trace_id)
    return SAMPLED if hashed <= threshold(cfg.get("sampling_percentage", 0)) else NOT_SAMPLED


# ------------------------------------------------------------------------------------------------
# OTTL conditions (the subset the role writes)

TOKEN = re.compile(r'\s*(?:(?P<string>"(?:\\.|[^\\"])*")|(?P<int>-?\d+)|(?P<op>==|!=|\(|\)|\[|\])'
                   r'|(?P<word>[A-Za-z_][A-Za-z0-9_.]*))')
ENUMS = {"STATUS_CODE_UNSET": 0, "STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2}


def _tokens(text: str) -> list[tuple[str, str]]:
    out, at = [], 0
    while at < len(text):
        if text[at:].strip() == "":
            break
        match = TOKEN.match(text, at)
        if not match:
            raise ValueError(f"OTTL subset: cannot read {text[at:]!r}")
        kind = match.lastgroup
        out.append((kind, match.group(kind)))
        at = match.end()
    return out


class Condition:
    """A parsed OTTL boolean expression, evaluated against one Span."""

    def __init__(self, text: str):
        self.text, self.tokens, self.at = text, _tokens(text), 0
        self.tree = self._expression()
        if self.at != len(self.tokens):
            raise ValueError(f"OTTL subset: unexpected {self.tokens[self.at]} in {text!r}")

    def _peek(self):
        return self.tokens[self.at] if self.at < len(self.tokens) else (None, None)

    def _take(self, value=None):
        token = self._peek()
        if token[0] is None or (value is not None and token[1] != value):
            raise ValueError(f"OTTL subset: expected {value or 'more'} in {self.text!r}")
        self.at += 1
        return token

    def _expression(self):
        terms = [self._term()]
        while self._peek() == ("word", "or"):
            self._take()
            terms.append(self._term())
        return ("or", terms)

    def _term(self):
        values = [self._value()]
        while self._peek() == ("word", "and"):
            self._take()
            values.append(self._value())
        return ("and", values)

    def _value(self):
        negate = False
        if self._peek() == ("word", "not"):
            self._take()
            negate = True
        if self._peek() == ("op", "("):
            self._take()
            inner = self._expression()
            self._take(")")
            node = inner
        elif self._peek() in (("word", "true"), ("word", "false")):
            node = ("const", self._take()[1] == "true")
        else:
            left = self._operand()
            op = self._take()[1]
            if op not in ("==", "!="):
                raise ValueError(f"OTTL subset: operator {op!r} in {self.text!r}")
            node = ("compare", op, left, self._operand())
        return ("not", node) if negate else node

    def _operand(self):
        kind, value = self._take()
        if kind == "string":
            return ("literal", bytes(value[1:-1], "utf-8").decode("unicode_escape"))
        if kind == "int":
            return ("literal", int(value))
        if kind == "word" and value in ENUMS:
            return ("literal", ENUMS[value])
        if kind == "word" and value == "status.code":
            return ("status",)
        if kind == "word" and value == "attributes":
            self._take("[")
            key = self._take()
            if key[0] != "string":
                raise ValueError(f"OTTL subset: attributes[] wants a string key in {self.text!r}")
            self._take("]")
            return ("attribute", bytes(key[1][1:-1], "utf-8").decode("unicode_escape"))
        raise ValueError(f"OTTL subset: {value!r} is not a path or literal this double knows ({self.text!r})")

    def holds(self, span: Span) -> bool:
        return self._eval(self.tree, span)

    def _eval(self, node, span):
        kind = node[0]
        if kind == "or":
            return any(self._eval(n, span) for n in node[1])
        if kind == "and":
            return all(self._eval(n, span) for n in node[1])
        if kind == "not":
            return not self._eval(node[1], span)
        if kind == "const":
            return node[1]
        _kind, op, left, right = node
        a, b = self._get(left, span), self._get(right, span)
        equal = a == b if type(a) is type(b) or a is None or b is None else False  # pylint: disable=unidiomatic-typecheck
        return equal if op == "==" else not equal

    @staticmethod
    def _get(operand, span):
        if operand[0] == "literal":
            return operand[1]
        if operand[0] == "status":
            return span.status
        return span.attributes.get(operand[1])


def ottl_condition(cfg: dict, spans: list[Span]) -> str:
    if cfg.get("spanevent"):
        raise NotImplementedError("spanevent conditions")
    conditions = [Condition(text) for text in cfg.get("span") or []]
    if not conditions:
        raise ValueError("expected at least one OTTL condition to filter on")
    return SAMPLED if any(c.holds(span) for span in spans for c in conditions) else NOT_SAMPLED


# ------------------------------------------------------------------------------------------------
# status_code.go, string_tag_filter.go


def status_code(cfg: dict, spans: list[Span]) -> str:
    wanted = {STATUS[code] for code in cfg["status_codes"]}
    return SAMPLED if any(span.status in wanted for span in spans) else NOT_SAMPLED


def string_attribute(cfg: dict, spans: list[Span]) -> str:
    if cfg.get("enabled_regex_matching"):
        raise NotImplementedError("enabled_regex_matching")
    key, values = cfg["key"], {v for v in cfg.get("values") or [] if v != ""}

    def resource_matches(span):
        return key in span.resource and span.resource[key] in values

    def span_matches(span):
        value = span.attributes.get(key)
        return value not in (None, "") and value in values

    if cfg.get("invert_match"):
        if any(resource_matches(s) or span_matches(s) for s in spans):
            return INVERT_NOT_SAMPLED
        return INVERT_SAMPLED
    return SAMPLED if any(resource_matches(s) or span_matches(s) for s in spans) else NOT_SAMPLED


# ------------------------------------------------------------------------------------------------
# processor.go


def evaluate(policy: dict, trace_id: bytes, spans: list[Span]) -> str:
    kind = policy["type"]
    cfg = policy.get(kind) or {}
    if kind == "probabilistic":
        return probabilistic(cfg, trace_id)
    if kind == "status_code":
        return status_code(cfg, spans)
    if kind == "string_attribute":
        return string_attribute(cfg, spans)
    if kind == "ottl_condition":
        return ottl_condition(cfg, spans)
    if kind == "always_sample":
        return SAMPLED
    raise NotImplementedError(f"policy type {kind!r} is not in this double")


def decide(tail_sampling: dict, trace_id: bytes, spans: list[Span]) -> bool:
    """True when the processor configured with `tail_sampling` keeps the trace."""
    decisions = set()
    for policy in tail_sampling["policies"]:
        decision = evaluate(policy, trace_id, spans)
        decisions.add(decision)
        if decision == DROPPED:
            break
        if tail_sampling.get("sample_on_first_match") and decision == SAMPLED:
            break
    if DROPPED in decisions or INVERT_NOT_SAMPLED in decisions:
        return False
    if SAMPLED in decisions:
        return True
    return INVERT_SAMPLED in decisions and NOT_SAMPLED not in decisions
