"""The identity-provider stand-in: plays Azure AD inside the emulator (``/_idp/...``).

It is another system than the instance: its own user directory, its own sign-in page, its
own RSA signing key. It issues OpenID Connect ID tokens that the instance validates for real
(``domain/identity/sso.py``: signature, issuer, audience, expiry, nonce).
"""
