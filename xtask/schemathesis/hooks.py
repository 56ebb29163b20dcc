# Our own schemathesis check, loaded by `cargo xtask fuzz` (and `cargo xtask test`) through
# SCHEMATHESIS_HOOKS: every refusal (4xx) must be our JSON error body (`code`, `message`), and
# a 400, 401, 404, 409 or 422 must name the input it is about in `fields` (a header, a path
# parameter, the session cookie, a body field or the body as a whole), so a caller can point at
# what to fix. The checkout's and bank endpoints' `fields` are `[{field, problem}]`
# (klarna::api::ApiError); the merchant API's are plain names (MerchantError).
import json
import re

import schemathesis

MUST_NAME_THE_INPUT = {400, 401, 404, 409, 422}
# Inputs no schema parameter lists: credentials and the body as a whole.
ALWAYS_NAMEABLE = {"body", "authorization", "idempotency-key", "x-csrf-token", "kc_bookkeeper"}


def _property_names(schema, out):
    """Every property name anywhere in a JSON schema (nested objects, arrays, allOf …)."""
    if isinstance(schema, dict):
        for name, sub in (schema.get("properties") or {}).items():
            out.add(name.lower())
            _property_names(sub, out)
        for key, sub in schema.items():
            if key != "properties":
                _property_names(sub, out)
    elif isinstance(schema, list):
        for sub in schema:
            _property_names(sub, out)


def _inputs_of(case):
    """The names a refusal of this request may give: its parameters and its body's fields."""
    names = set(ALWAYS_NAMEABLE)
    for source in (case.path_parameters, case.headers, case.query, case.cookies):
        names.update(str(k).lower() for k in (source or {}))
    operation = case.operation
    for group in ("path_parameters", "headers", "query", "cookies"):
        for parameter in getattr(operation, group, None) or []:
            names.add(str(parameter.name).lower())
    if isinstance(case.body, dict):
        names.update(str(k).lower() for k in case.body)
    for body in getattr(operation, "body", None) or []:
        try:
            _property_names(body.optimized_schema, names)
        except Exception:  # a schema schemathesis cannot resolve names nothing more
            pass
    return names


def _root(field):
    """`billing_address.postal_code` → `billing_address`; `order_lines[0].name` → `order_lines`."""
    return re.split(r"[.\[]", field, maxsplit=1)[0].lower()


@schemathesis.check
def refusals_name_the_input(ctx, response, case):
    """A 4xx is our error body; a 400/401/404/409/422 names the input it refuses."""
    status = response.status_code
    if not 400 <= status < 500:
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        raise AssertionError(f"{status} is not our JSON error body: {response.content[:200]!r}")
    if not isinstance(body, dict) or not isinstance(body.get("code"), str) or not isinstance(
        body.get("message"), str
    ):
        raise AssertionError(f"{status} is not our error body (`code`, `message`): {body!r}")
    if status not in MUST_NAME_THE_INPUT:
        return None
    fields = body.get("fields") or []
    names = [f.get("field") if isinstance(f, dict) else f for f in fields]
    if not names or not all(isinstance(n, str) and n for n in names):
        raise AssertionError(f"{status} {body['code']} names no input in `fields`: {body!r}")
    known = _inputs_of(case)
    # A body key may itself hold dots or brackets (`{"0..0": 1}` is refused naming `0..0`).
    unknown = [n for n in names if n.lower() not in known and _root(n) not in known]
    if unknown:
        raise AssertionError(
            f"{status} {body['code']} names {unknown}, which are not inputs of this request: {body!r}"
        )
    return None
