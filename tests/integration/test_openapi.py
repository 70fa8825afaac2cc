"""docs/api/openapi.yaml against the routes fleetpatchd serves.

The served routes come from `fleetpatchd --routes` (one "METHOD /path" line
each). The spec is read with a small line parser, not a YAML library: under
`paths:`, a path is a key at exactly 2 spaces and an operation a method key at
exactly 4 spaces (the style docs/api/openapi.yaml keeps). When PyYAML happens
to be installed, the whole file is also loaded as a syntax check.
"""
import os
import re
import subprocess
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("FP_BUILD_DIR", os.path.join(HERE, "../../build"))
SOURCE = os.environ.get("FP_SOURCE_DIR", os.path.join(HERE, "../.."))
SPEC = os.path.join(SOURCE, "docs", "api", "openapi.yaml")

METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")
# Keys a path item may hold besides operations.
PATH_ITEM_KEYS = ("parameters", "summary", "description", "servers", "$ref")
STATUS_KEY = re.compile(r"""^(['"]?)([1-5][0-9][0-9]|[1-5]XX|default)\1:""")
REF = re.compile(r"""\$ref:\s*['"]?#/components/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+)['"]?""")


def indent_of(line):
    return len(line) - len(line.lstrip(" "))


def significant(lines):
    """(number, line) for lines that are not blank or comments."""
    for n, line in enumerate(lines, 1):
        s = line.strip()
        if s and not s.startswith("#"):
            yield n, line


def parse_paths(text):
    """Returns ({(METHOD, path): {"line", "summary", "responses"}}, problems)."""
    ops, problems = {}, []
    lines = text.split("\n")
    in_paths = False
    path = None
    op = None  # the dict of the current operation
    block = None  # the 6-space key we are inside within an operation
    block_scalar = None  # indentation that ends a | or > scalar
    for n, line in significant(lines):
        ind = indent_of(line)
        if block_scalar is not None:
            if ind > block_scalar:
                continue
            block_scalar = None
        if "\t" in line[:ind + 1]:
            problems.append("line %d: tab in indentation" % n)
        if ind == 0:
            in_paths = line.rstrip() == "paths:"
            path = op = block = None
            continue
        if not in_paths:
            continue
        key = line.strip().split(":", 1)[0].strip("'\"")
        if re.search(r":\s*[|>][-+0-9]*\s*$", line):
            block_scalar = ind
        if ind == 2:
            if not key.startswith("/") or not line.rstrip().endswith(":"):
                problems.append("line %d: expected a path key at 2 spaces, found %r" %
                                (n, line.strip()))
            path, op, block = key, None, None
        elif ind == 4:
            block = None
            if path is None:
                problems.append("line %d: a key at 4 spaces outside a path" % n)
            elif key in METHODS:
                k = (key.upper(), path)
                if k in ops:
                    problems.append("line %d: %s %s is described twice" % (n, k[0], path))
                op = {"line": n, "summary": False, "responses": 0}
                ops[k] = op
            elif key in PATH_ITEM_KEYS:
                op = None
            else:
                problems.append("line %d: %r at 4 spaces is not an HTTP method" % (n, key))
                op = None
        elif op is not None and ind == 6:
            block = key
            if key == "summary" and line.split(":", 1)[1].strip():
                op["summary"] = True
        elif op is not None and ind == 8 and block == "responses":
            if STATUS_KEY.match(line.strip()):
                op["responses"] += 1
            else:
                problems.append("line %d: %r is not a response status" % (n, line.strip()))
        elif ind % 2:
            problems.append("line %d: odd indentation" % n)
    return ops, problems


def defined_components(text):
    """{(kind, name)} of the entries under `components:` (kind at 2, name at 4 spaces)."""
    out = set()
    in_comp = False
    kind = None
    block_scalar = None
    for _, line in significant(text.split("\n")):
        ind = indent_of(line)
        if block_scalar is not None:
            if ind > block_scalar:
                continue
            block_scalar = None
        if re.search(r":\s*[|>][-+0-9]*\s*$", line):
            block_scalar = ind
        if ind == 0:
            in_comp = line.rstrip() == "components:"
            continue
        if not in_comp:
            continue
        key = line.strip().split(":", 1)[0].strip("'\"")
        if ind == 2:
            kind = key
        elif ind == 4 and kind:
            out.add((kind, key))
    return out


def served_routes():
    exe = os.path.join(BUILD, "fleetpatchd")
    if not os.access(exe, os.X_OK):
        raise AssertionError("%s is missing: build fleetpatchd first (FP_BUILD_DIR=%s)" %
                             (exe, BUILD))
    out = subprocess.run([exe, "--routes"], check=True, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=30).stdout.decode()
    routes = set()
    for line in out.splitlines():
        if not line.strip():
            continue
        m = re.match(r"^([A-Z]+) (/\S*)$", line.strip())
        if not m:
            raise AssertionError("fleetpatchd --routes printed an unexpected line: %r" % line)
        routes.add((m.group(1), m.group(2)))
    if not routes:
        raise AssertionError("fleetpatchd --routes printed no routes")
    return routes


class OpenApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(SPEC, encoding="utf-8") as f:
            cls.text = f.read()
        cls.ops, cls.problems = parse_paths(cls.text)

    def test_layout(self):
        self.assertTrue(self.text.startswith("openapi: 3.0."),
                        "the spec must start with 'openapi: 3.0.x'")
        if self.problems:
            self.fail("openapi.yaml does not keep the expected layout:\n  " +
                      "\n  ".join(self.problems))
        self.assertTrue(self.ops, "no operations found under paths:")

    def test_spec_matches_served_routes(self):
        served = served_routes()
        described = set(self.ops)
        missing = sorted(served - described)
        extra = sorted(described - served)
        msg = []
        if missing:
            msg.append("served by fleetpatchd but not in docs/api/openapi.yaml:\n    " +
                       "\n    ".join("%s %s" % r for r in missing))
        if extra:
            msg.append("in docs/api/openapi.yaml but not served by fleetpatchd:\n    " +
                       "\n    ".join("%s %s" % r for r in extra))
        if msg:
            self.fail("\n".join(msg))

    def test_every_operation_has_summary_and_responses(self):
        bad = []
        for (method, path), op in sorted(self.ops.items()):
            if not op["summary"]:
                bad.append("%s %s (line %d): no summary" % (method, path, op["line"]))
            if not op["responses"]:
                bad.append("%s %s (line %d): no responses" % (method, path, op["line"]))
        if bad:
            self.fail("\n".join(bad))

    def test_refs_resolve(self):
        defined = defined_components(self.text)
        self.assertIn("schemas", {k for k, _ in defined}, "no components: schemas: section")
        bad = []
        for n, line in enumerate(self.text.split("\n"), 1):
            for m in REF.finditer(line):
                if (m.group(1), m.group(2)) not in defined:
                    bad.append("line %d: #/components/%s/%s is not defined" %
                               (n, m.group(1), m.group(2)))
        if bad:
            self.fail("\n".join(bad))

    def test_required_schemas(self):
        defined = {name for kind, name in defined_components(self.text) if kind == "schemas"}
        want = {"Error", "Device", "DeviceInput", "Group", "User", "Token", "ImportJob",
                "ImportReport", "AuditEntry", "AuditVerify", "Page"}
        self.assertEqual(sorted(want - defined), [], "reusable schemas missing")

    def test_yaml_syntax(self):
        try:
            import yaml  # noqa: F401 (optional; not a dependency of the project)
        except ImportError:
            self.skipTest("PyYAML is not installed")
        doc = yaml.safe_load(self.text)
        self.assertIsInstance(doc, dict)
        self.assertTrue(str(doc.get("openapi", "")).startswith("3.0"))
        # The line parser and the YAML loader must agree on the operations.
        from_yaml = {(m.upper(), p) for p, item in doc["paths"].items() for m in item
                     if m in METHODS}
        self.assertEqual(from_yaml, set(self.ops))


if __name__ == "__main__":
    unittest.main()
