"""jitsi-token-service client for Python 3.9+ (standard library only).

Signs the per-request EMR assertion (HS256 with hmac/hashlib; RS256/ES256 only when the
``cryptography`` package is importable, e.g. Debian's python3-cryptography, which python3-jwt
pulls in) and calls /v1/visits, /v1/tokens and /v1/tokens/inspect. The Jitsi secret stays in
the service; the EMR holds only its own client key.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Mapping, Optional

__all__ = ["JitsiTokenClient", "JitsiTokenError"]

TYP = "emr-request+jwt"
#: The service refuses assertions living longer than 300 s; short also limits replay.
TTL_SECONDS = 60
ALGS = ("HS256", "RS256", "ES256")


class JitsiTokenError(Exception):
    """A non-2xx answer or a transport failure.

    ``code`` is the service's problem code (invalid_token, forbidden, visit_ended, ...), or
    ``network_error`` / ``http_<status>`` without a problem body; ``status`` is 0 when no
    response arrived; ``problem`` is the whole application/problem+json body.
    """

    def __init__(self, code: str, status: int, message: str, problem: Optional[dict[str, Any]] = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.problem = problem


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def encode_body(payload: Mapping[str, Any]) -> bytes:
    """The exact bytes sent and hashed: compact UTF-8 JSON, non-ASCII and slashes unescaped."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class _AsymmetricKey:
    """RS256/ES256 signing through ``cryptography``, imported only when such a key is used."""

    def __init__(self, pem: str, alg: Optional[str]) -> None:
        try:
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
        except ImportError as err:  # pragma: no cover - depends on the host
            raise RuntimeError(
                "RS256/ES256 need the 'cryptography' package (apt-get install python3-cryptography "
                "or pip install cryptography); HS256 works with the standard library alone"
            ) from err
        self._hashes, self._ec, self._padding, self._utils = hashes, ec, padding, utils
        self.key = serialization.load_pem_private_key(pem.encode("utf-8"), password=None)
        if isinstance(self.key, rsa.RSAPrivateKey):
            natural = "RS256"
        elif isinstance(self.key, ec.EllipticCurvePrivateKey) and self.key.curve.name == "secp256r1":
            natural = "ES256"
        else:
            raise ValueError("use an RSA or P-256 EC private key")
        if alg is not None and alg != natural:
            raise ValueError(f"key does not fit alg {alg} (it signs {natural})")
        self.alg = natural

    def sign(self, data: bytes) -> bytes:
        if self.alg == "RS256":
            return self.key.sign(data, self._padding.PKCS1v15(), self._hashes.SHA256())
        # cryptography returns DER; JWS ES256 wants the raw 64-byte R || S.
        r, s = self._utils.decode_dss_signature(self.key.sign(data, self._ec.ECDSA(self._hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")


class JitsiTokenClient:
    """Creates Jitsi join links through jitsi-token-service.

    ``key``: HS256 shared secret (one trailing newline, as read from a file, is ignored,
    like the service does) or a PEM private key for RS256/ES256. ``alg`` defaults from the key.
    """

    def __init__(
        self,
        base_url: str,
        client_id: str,
        key: str,
        alg: Optional[str] = None,
        kid: Optional[str] = None,
        audience: str = "jitsi-token-service",
        timeout: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self.kid = kid
        self.audience = audience
        self.timeout = timeout
        self._asym: Optional[_AsymmetricKey] = None
        if "-----BEGIN" in key:
            self._asym = _AsymmetricKey(key, alg)
            self.alg = self._asym.alg
        else:
            if alg not in (None, "HS256"):
                raise ValueError(f"key does not fit alg {alg}: a secret signs HS256")
            self.alg = "HS256"
            # The secret string's UTF-8 bytes are the HMAC key, exactly what the service uses.
            self._secret = (key[:-2] if key.endswith("\r\n") else key[:-1] if key.endswith("\n") else key).encode("utf-8")
            # The service refuses client secrets under 32 bytes; say so here rather than with a bare 401.
            if len(self._secret) < 32:
                raise ValueError("an HS256 secret must be at least 32 bytes")

    def create_visit(self, visit: Mapping[str, Any], actor: str) -> dict[str, Any]:
        """One appointment -> room and one join link per participant (POST /v1/visits)."""
        return self._post("/v1/visits", visit, actor)

    def create_token(self, request: Mapping[str, Any], actor: str) -> dict[str, Any]:
        """One participant -> one token and join link (POST /v1/tokens)."""
        return self._post("/v1/tokens", request, actor)

    def inspect_token(self, request: Mapping[str, Any], actor: str) -> dict[str, Any]:
        """The token doctor (POST /v1/tokens/inspect): a checklist, never the token itself."""
        return self._post("/v1/tokens/inspect", request, actor)

    def sign_assertion(self, method: str, path: str, body: bytes, actor: str, now: Optional[int] = None) -> str:
        """The compact JWS that authenticates one request; public for debugging and tests."""
        iat = int(time.time()) if now is None else now
        header: dict[str, str] = {"alg": self.alg, "typ": TYP}
        if self.kid is not None:
            header["kid"] = self.kid
        claims = {
            "iss": self.client_id,
            "sub": actor,
            "aud": self.audience,
            "iat": iat,
            "exp": iat + TTL_SECONDS,
            "jti": secrets.token_urlsafe(24),
            "htm": method.upper(),
            "htu": path,
            "body_sha256": _b64url(hashlib.sha256(body).digest()),
        }
        signing_input = f"{_b64url(encode_body(header))}.{_b64url(encode_body(claims))}".encode("ascii")
        if self._asym is not None:
            signature = self._asym.sign(signing_input)
        else:
            signature = hmac.new(self._secret, signing_input, hashlib.sha256).digest()
        return f"{signing_input.decode('ascii')}.{_b64url(signature)}"

    def _post(self, path: str, payload: Mapping[str, Any], actor: str) -> dict[str, Any]:
        # These exact bytes are hashed into the assertion and sent; never re-encode in between.
        body = encode_body(payload)
        url = self.base_url + path
        htu = urllib.parse.urlsplit(url).path or path
        request = urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Authorization": "Bearer " + self.sign_assertion("POST", htu, body, actor),
        })
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - base_url is configuration
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as err:
            status, raw = err.code, err.read()
        except (urllib.error.URLError, OSError) as err:
            raise JitsiTokenError("network_error", 0, f"jitsi-token-service unreachable: {err}") from err
        try:
            decoded = json.loads(raw.decode("utf-8"))
        except ValueError:
            decoded = None
        if 200 <= status < 300 and isinstance(decoded, dict):
            return decoded
        problem = decoded if isinstance(decoded, dict) else None
        code = problem.get("code") if problem is not None and isinstance(problem.get("code"), str) else f"http_{status}"
        detail = f": {problem['detail']}" if problem is not None and isinstance(problem.get("detail"), str) else ""
        raise JitsiTokenError(str(code), status, f"jitsi-token-service answered {status} {code}{detail}", problem)
