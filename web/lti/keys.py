"""The tool's RSA key pair: it signs the tool's deep-linking answers and its requests for service
tokens, and platforms check them against its public half, served as a JWKS at ``/lti/jwks``.

The private key is the PEM file ``HANDCALC_LTI_KEY_FILE`` names or, by default,
``lti-private.pem`` in the instance folder, made on first use (readable by us only; workers
starting together agree on one, as with the secret key). The testing mode makes one in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, current_app
from jwcrypto.jwk import JWK

from ..config import kept_file

KEY_FILE = "lti-private.pem"
KEY_BITS = 2048


@dataclass(frozen=True)
class ToolKey:
    private_pem: str
    public_pem: str
    kid: str

    @property
    def jwk(self) -> dict[str, Any]:
        """The public key as a JWK (RS256, for signatures), named by its thumbprint."""
        key = JWK.from_pem(self.public_pem.encode())
        return {**key.export_public(as_dict=True), "kid": self.kid, "alg": "RS256", "use": "sig"}


def _new_pem() -> bytes:
    private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    return private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _tool_key(pem: bytes) -> ToolKey:
    private = serialization.load_pem_private_key(pem, password=None)
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    kid = JWK.from_pem(public_pem).thumbprint()
    return ToolKey(pem.decode(), public_pem.decode(), kid)


def tool_key(app: Flask | None = None) -> ToolKey:
    """The app's key pair (read or made once per process)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    found = app.extensions.get("handcalc.lti_key")
    if found is None:
        configured = app.config.get("LTI_KEY_FILE")
        if configured:
            pem = Path(configured).read_bytes()
        elif app.config["HANDCALC_MODE"] == "testing":
            pem = _new_pem()
        else:
            pem = kept_file(Path(app.instance_path) / KEY_FILE, _new_pem)
        found = app.extensions.setdefault("handcalc.lti_key", _tool_key(pem))
    assert isinstance(found, ToolKey)
    return found


def jwks() -> dict[str, Any]:
    """The tool's public keys as a JWKS."""
    return {"keys": [tool_key().jwk]}
