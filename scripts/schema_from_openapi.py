"""Derive a stream's JSON schema from Customer.io's published OpenAPI spec (a developer tool).

Every property becomes nullable, oneOf/allOf variants are merged into one object, $refs are
resolved and the root stays open (additionalProperties: true).

    python scripts/schema_from_openapi.py SPEC.json /v1/campaigns campaigns campaigns \
        [--method get] [--loose id,from_id] [--extra campaign_id:integer]
"""

import argparse
import json
from typing import Any, Dict

JSON_TYPES = {"integer", "number", "string", "boolean", "object", "array"}


def resolve(spec: Dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def merge_variants(spec: Dict[str, Any], node: Dict[str, Any]) -> Dict[str, Any]:
    node = resolve(spec, node)
    merged = {key: value for key, value in node.items() if key not in ("oneOf", "allOf", "anyOf")}
    for key in ("oneOf", "allOf", "anyOf"):
        for variant in node.get(key, []):
            variant = merge_variants(spec, variant)
            for name, value in variant.items():
                if name == "properties":
                    merged.setdefault("properties", {})
                    for prop, schema in value.items():
                        merged["properties"].setdefault(prop, schema)
                elif name not in merged:
                    merged[name] = value
    return merged


def nullable(spec: Dict[str, Any], node: Any, depth: int = 0) -> Dict[str, Any]:
    node = merge_variants(spec, node or {})
    kind = node.get("type")
    if kind not in JSON_TYPES:
        kind = "object" if "properties" in node else None
    out: Dict[str, Any] = {}
    if node.get("description"):
        out["description"] = node["description"].split("\n")[0][:300]
    if kind is None:
        return out  # any JSON value
    out["type"] = ["null", kind]
    if kind == "object":
        props = node.get("properties") or {}
        if props and depth < 6:
            out["properties"] = {name: nullable(spec, value, depth + 1) for name, value in props.items()}
        out["additionalProperties"] = True
    elif kind == "array":
        out["items"] = nullable(spec, node.get("items") or {}, depth + 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("spec")
    parser.add_argument("path")
    parser.add_argument("data_field", help="response key holding the records; '.' for the whole body")
    parser.add_argument("stream")
    parser.add_argument("--method", default="get")
    parser.add_argument("--loose", default="", help="comma-separated fields that may be integer or string")
    parser.add_argument("--extra", default="", help="comma-separated name:type fields to add")
    parser.add_argument("--out", default="source_customerio/schemas")
    args = parser.parse_args()

    spec = json.load(open(args.spec))
    response = spec["paths"][args.path][args.method]["responses"]["200"]["content"]["application/json"]["schema"]
    body = merge_variants(spec, response)
    item = body if args.data_field == "." else merge_variants(spec, body["properties"][args.data_field])
    if args.data_field != "." and item.get("type") == "array":
        item = merge_variants(spec, item.get("items") or {})
    schema = nullable(spec, item)
    schema.pop("description", None)
    schema = {"$schema": "http://json-schema.org/draft-07/schema#", **schema}
    schema["type"] = ["null", "object"]
    props = schema.setdefault("properties", {})
    for name in filter(None, args.loose.split(",")):
        props.setdefault(name, {})["type"] = ["null", "integer", "string"]
    for pair in filter(None, args.extra.split(",")):
        name, kind = pair.split(":")
        props.setdefault(name, {"type": ["null", kind]})
    with open(f"{args.out}/{args.stream}.json", "w") as handle:
        json.dump(schema, handle, indent=2)
        handle.write("\n")


if __name__ == "__main__":
    main()
