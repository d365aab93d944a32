"""Every REST request the loopback Discord receives, checked the way Discord would check it.

`check.check_request` matches the path to a route of Discord's OpenAPI 3.1 description (a
pruned copy vendored here, with its MIT licence), validates the JSON body or multipart
`payload_json` against that route's request schema (`openapi`), and applies the documented
limits the description lacks (`limits`). `FakeDiscord(validate=True)` answers a refused body with
Discord's 400 / 50035 "Invalid Form Body" and records it in `invalid_requests`.

The tests always validate (jsonschema is a test dependency); the sandbox validates when
jsonschema is installed (`available()`), since the bot's own image does not need it.
"""

from __future__ import annotations

import importlib.util


def available() -> bool:
    """Whether the checks can run here (jsonschema installed: the test extras bring it)."""
    return importlib.util.find_spec("jsonschema") is not None
