#!/usr/bin/env python3
"""Command-line use of JitsiTokenClient (also the driver the service's tests run).

  JTS_URL=http://127.0.0.1:3000 JTS_CLIENT=openemr-main JTS_KEY_FILE=/run/secrets/k1 JTS_KID=k1 \\
    python3 jts.py visit request.json [actor]        # or: token request.json | inspect request.json

Prints the service's JSON answer; on an error prints {"error": {"code", "status"}} and exits 3.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from jitsi_token_client import JitsiTokenClient, JitsiTokenError  # noqa: E402


def env(name: str) -> str | None:
    return os.environ.get(name) or None


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] not in ("visit", "token", "inspect"):
        print(f"usage: {argv[0]} visit|token|inspect request.json [actor]", file=sys.stderr)
        return 2
    op, request_file = argv[1], argv[2]
    actor = argv[3] if len(argv) > 3 else "python-cli"
    key_file = env("JTS_KEY_FILE")
    key = Path(key_file).read_text(encoding="utf-8") if key_file else sys.stdin.read()
    client = JitsiTokenClient(
        base_url=env("JTS_URL") or "http://127.0.0.1:3000",
        client_id=env("JTS_CLIENT") or "openemr-main",
        key=key,
        alg=env("JTS_ALG"),
        kid=env("JTS_KID"),
    )
    request = json.loads(Path(request_file).read_text(encoding="utf-8"))
    call = {"visit": client.create_visit, "token": client.create_token, "inspect": client.inspect_token}[op]
    try:
        result = call(request, actor)
    except JitsiTokenError as err:
        print(json.dumps({"error": {"code": err.code, "status": err.status, "message": str(err)}}))
        return 3
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
