"""API Gateway (REST) in front of the template's functions: route matching and real event shapes.

Binary answers as API Gateway gives them: a Lambda proxy response with ``isBase64Encoded`` is
decoded to its bytes only when the first media type of the request's ``Accept`` header matches
one of the API's ``BinaryMediaTypes`` (wildcards allowed; SAM's ``~1`` stands for ``/``);
otherwise the client receives the base64 text itself.
"""

from __future__ import annotations

import base64
import fnmatch
import json
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from devtools.harness.stack import Route, Stack

MISSING_AUTH = {"message": "Missing Authentication Token"}


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    body: str
    content: bytes = b""  # the bytes on the wire (``body`` is them as text)

    def __post_init__(self) -> None:
        if not self.content:
            self.content = self.body.encode("utf-8")

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


def _pattern(path: str) -> re.Pattern[str]:
    parts = []
    for segment in path.strip("/").split("/"):
        if segment.startswith("{") and segment.endswith("+}"):
            parts.append(f"(?P<{segment[1:-2]}>.+)")
        elif segment.startswith("{") and segment.endswith("}"):
            parts.append(f"(?P<{segment[1:-1]}>[^/]+)")
        else:
            parts.append(re.escape(segment))
    return re.compile("^/" + "/".join(parts) + "$")


class ApiGateway:
    """Routes requests as API Gateway REST does and invokes the function with a proxy event."""

    def __init__(self, stack: Stack, stage: str | None = None) -> None:
        self.stack = stack
        self.stage = stage or str(stack.resolver.parameters.get("Stage", "dev"))
        self.routes = [(r, _pattern(r.path)) for r in stack.api_routes()]
        self.binary_media_types = [
            str(t).replace("~1", "/").lower()
            for resource in stack.template["Resources"].values()
            if resource.get("Type") in ("AWS::Serverless::Api", "AWS::ApiGateway::RestApi")
            for t in resource.get("Properties", {}).get("BinaryMediaTypes", [])
        ]

    def returns_binary(self, headers: dict[str, str]) -> bool:
        """Whether API Gateway decodes a base64 answer for a request with these headers."""
        accept = next((v for k, v in headers.items() if k.lower() == "accept"), "")
        first = accept.split(",")[0].split(";")[0].strip().lower()
        return bool(first) and any(fnmatch.fnmatchcase(first, t) for t in self.binary_media_types)

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route, pattern in self.routes:
            m = pattern.match(path)
            if m and route.method in (method.upper(), "ANY"):
                return route, m.groupdict()
        return None

    def event(
        self,
        method: str,
        path: str,
        route: Route,
        params: dict[str, str],
        headers: dict[str, str],
        query: str,
        body: bytes | None,
        source_ip: str = "127.0.0.1",
    ) -> dict[str, Any]:
        qs = parse_qs(query, keep_blank_values=True)
        text_body: str | None = None
        is_b64 = False
        if body is not None and body != b"":
            try:
                text_body = body.decode("utf-8")
            except UnicodeDecodeError:
                text_body, is_b64 = base64.b64encode(body).decode(), True
        request_id = str(uuid.uuid4())
        return {
            "resource": route.path,
            "path": path,
            "httpMethod": method.upper(),
            "headers": dict(headers) or None,
            "multiValueHeaders": {k: [v] for k, v in headers.items()} or None,
            "queryStringParameters": {k: v[-1] for k, v in qs.items()} or None,
            "multiValueQueryStringParameters": qs or None,
            "pathParameters": params or None,
            "stageVariables": None,
            "requestContext": {
                "resourceId": "local",
                "resourcePath": route.path,
                "httpMethod": method.upper(),
                "extendedRequestId": request_id,
                "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
                "path": f"/{self.stage}{path}",
                "accountId": "123456789012",
                "protocol": "HTTP/1.1",
                "stage": self.stage,
                "domainPrefix": "local",
                "requestTimeEpoch": int(time.time() * 1000),
                "requestId": request_id,
                "identity": {"sourceIp": source_ip, "userAgent": headers.get("User-Agent", "")},
                "domainName": "localhost",
                "apiId": self.stack.refs.get("Api", "local"),
            },
            "body": text_body,
            "isBase64Encoded": is_b64,
        }

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        query: str = "",
    ) -> ApiResponse:
        found = self.match(method, path)
        if found is None:
            return ApiResponse(403, {"Content-Type": "application/json"}, json.dumps(MISSING_AUTH))
        route, params = found
        event = self.event(method, path, route, params, headers or {}, query, body)
        try:
            result = self.stack.invoke(route.function, event)
        except Exception:  # a crashed function is a 502 at API Gateway
            return ApiResponse(
                502, {"Content-Type": "application/json"}, json.dumps({"message": "Internal server error"})
            )
        out_headers = dict(result.get("headers") or {})
        for key, values in (result.get("multiValueHeaders") or {}).items():
            out_headers[key] = ", ".join(values)
        raw = result.get("body") or ""
        if result.get("isBase64Encoded") and self.returns_binary(headers or {}):
            content = base64.b64decode(raw)
            return ApiResponse(int(result["statusCode"]), out_headers, content.decode("utf-8", "replace"), content)
        return ApiResponse(int(result["statusCode"]), out_headers, raw)

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = None,
        raw: bytes | None = None,
        accept: str | None = None,
    ) -> ApiResponse:
        """Convenience for tests: JSON body, optional bearer token and Accept header."""
        headers = {"Content-Type": "application/json"}
        if accept:
            headers["Accept"] = accept
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        return self.request(method, path, data, headers)
