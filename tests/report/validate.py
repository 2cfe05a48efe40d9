#!/usr/bin/env python3
"""Validates JSON documents against a JSON Schema (draft 2020-12 or draft 4, from its $schema).

Usage: validate.py SCHEMA FILE...   exit 0 when every FILE is valid, 1 otherwise (errors listed).
Formats are checked (uri, uri-reference, date-time) with jsonschema's FormatChecker, plus an
explicit check that every "uri"-format string we rely on is absolute (the checker skips "uri"
when the optional rfc3987 module is missing).
"""
import json
import sys
import urllib.parse

import jsonschema


def absolute_uris(doc):
    """SARIF helpUri / informationUri must be absolute URIs (schema format "uri")."""
    bad = []
    for run in doc.get("runs", []):
        driver = run.get("tool", {}).get("driver", {})
        uris = [driver.get("informationUri")] + [r.get("helpUri") for r in driver.get("rules", [])]
        for u in uris:
            if u is None:
                continue
            p = urllib.parse.urlparse(u)
            if not p.scheme or not p.netloc:
                bad.append(u)
    return bad


def main():
    schema = json.load(open(sys.argv[1]))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema, format_checker=jsonschema.FormatChecker())
    failed = 0
    for path in sys.argv[2:]:
        doc = json.load(open(path, encoding="utf-8"))
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
        for u in absolute_uris(doc):
            print(f"{path}: not an absolute URI: {u}")
            failed += 1
        for e in errors[:20]:
            print(f"{path}: {'/'.join(map(str, e.path))}: {e.message}")
        failed += len(errors)
    print(f"validate: {len(sys.argv) - 2} file(s) against {sys.argv[1]}: "
          f"{'ok' if not failed else str(failed) + ' error(s)'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
