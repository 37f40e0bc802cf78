"""Customers log in at the energy provider's own identity provider (OpenID Connect).

This server is a relying party: authorization code flow with PKCE, ID tokens validated with
Authlib's OpenID Connect claim classes on joserfc (Authlib's JOSE library), an identity
(issuer, sub) linked once to a customer, and back-channel logout ending our sessions.
"""
