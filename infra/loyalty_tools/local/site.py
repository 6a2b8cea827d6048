"""The brand's site as the redemption API sees it: its checkout's calls, with the usage plan's key."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


class Site:
    def __init__(self, api_url: str, api_key: str):
        self.api_url = api_url
        self.api_key = api_key

    def post(self, path: str, body: dict[str, Any] | None = None, idempotency_key: str = "") -> tuple[int, Any]:
        headers = {"Content-Type": "application/json", "x-api-key": self.api_key}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        request = urllib.request.Request(self.api_url + path, data=json.dumps(body or {}).encode(), headers=headers,
                                         method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as error:
            return error.code, json.load(error)
