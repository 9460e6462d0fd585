"""OpenAPI schemas of the manifest endpoints (market/api/manifests.py)."""
from __future__ import annotations

from market.api.openapi import SCHEMAS
from market.manifests.state import DISCREPANCY_STATUSES, MANIFEST_STATUSES

_I = {"type": "integer"}
_NI = {"type": "integer", "nullable": True}
_S = {"type": "string"}
_NS = {"type": "string", "nullable": True}
_T = {"type": "string", "format": "date-time", "nullable": True}


def _obj(required: list[str], **props) -> dict:
    return {"type": "object", "required": required, "properties": props}


SCHEMAS["ManifestRequest"] = _obj(
    ["carrier_org_id", "vehicle_plate", "driver_name", "driver_phone", "lines"],
    carrier_org_id=_I, vehicle_plate={**_S, "example": "粤B12345"}, driver_name=_S,
    driver_phone={**_S, "example": "13800138000"}, driver_email={**_S, "format": "email"},
    planned_pickup_at={"type": "string", "format": "date-time"},
    lines={"type": "array", "minItems": 1, "items": _obj(
        ["quantity_kg"], category=_S, waste_code=_S, name=_S,
        form={**_S, "enum": ["solid", "sludge", "liquid", "gas_in_container"]}, packaging=_S,
        count={**_I, "minimum": 1}, quantity_kg={**_I, "minimum": 1, "description": "kg sent"},
        hazards={"type": "array", "items": _S})})
SCHEMAS["ReceiveRequest"] = _obj(
    ["method_code", "lines"], method_code={**_S, "example": "R9"},
    lines={"type": "array", "items": _obj(
        ["line_id", "received_kg", "refused_kg"], line_id=_I, received_kg={**_I, "minimum": 0},
        refused_kg={**_I, "minimum": 0}, comment={**_S, "maxLength": 2000})})
SCHEMAS["ManifestLine"] = _obj(
    ["id", "category", "waste_code", "quantity_kg", "received_kg", "refused_kg"],
    id=_I, category=_S, waste_code=_NS, name=_S, form=_S, packaging=_S, count=_I,
    quantity_kg={**_I, "description": "kg sent"}, received_kg=_NI, refused_kg=_NI,
    discrepancy={"type": "object", "nullable": True, "properties": {
        "kind": {**_S, "enum": ["weight", "refusal"]},
        "status": {**_S, "enum": list(DISCREPANCY_STATUSES)},
        "receiver_comment": _S, "generator_comment": _NS}})
SCHEMAS["Manifest"] = _obj(
    ["id", "number", "status"], id=_I, number={**_S, "example": "20264403000001"},
    status={**_S, "enum": list(MANIFEST_STATUSES)}, order_id=_I, generator_id=_I, carrier_id=_I,
    operator_id=_I, planned_pickup_at=_T, carrier_permit_number=_S, vehicle_plate=_S,
    driver_name=_S, licence_number=_S, method_code=_NS, shipped_at=_T, received_at=_T,
    provincial_number=_NS,
    signatures={"type": "array", "items": _obj(
        ["part", "method", "signer_name", "signed_at"],
        part={**_S, "enum": ["generator", "carrier", "receiver"]},
        method={**_S, "enum": ["login", "driver_code"]}, signer_name=_S,
        signed_at={"type": "string", "format": "date-time"})},
    lines={"type": "array", "items": {"$ref": "#/components/schemas/ManifestLine"}},
    actions={"type": "array", "items": _S,
             "description": "What the caller may do now, e.g. sign_as_carrier, receive"})
SCHEMAS["DriverCode"] = _obj(["expires_at", "sent_to"],
                             expires_at={"type": "string", "format": "date-time"}, sent_to=_S)
SCHEMAS["Discrepancy"] = _obj(
    ["line_id", "kind", "status"], line_id=_I, kind={**_S, "enum": ["weight", "refusal"]},
    status={**_S, "enum": list(DISCREPANCY_STATUSES)}, dispute_id=_NI, sent_kg=_I,
    received_kg=_I, refused_kg=_I)
