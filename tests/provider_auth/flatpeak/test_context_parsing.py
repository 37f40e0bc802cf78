"""Whatever FlatPeak sends as a session context, parsing either yields safe values or refuses."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st

from provider_auth.flatpeak.client import SessionContext
from provider_auth.flatpeak.errors import FlatPeakRejected

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=10,
)
urlish = st.sampled_from(
    [
        "https://ok.example/x",
        "https://ok.example/a@b",
        "http://plain.example/",
        "javascript:alert(1)",
        "data:text/html,<b>",
        "https://user:pw@evil.example/",
        "https://ok.example/\r\nSet-Cookie: x",
        "//no-scheme.example",
        "",
    ]
) | st.text(max_size=30)
accounts = st.fixed_dictionaries(
    {},
    optional={
        "display_name": st.text(max_size=300) | json_values,
        "logo_url": urlish | json_values,
        "terms_url": urlish,
        "privacy_url": urlish,
        "support_url": urlish,
        "id": json_values,
    },
)
contexts = st.fixed_dictionaries(
    {},
    optional={
        "account": accounts | json_values,
        "connect_web_uri": urlish | json_values,
        "redirect_uri": urlish | json_values,
        "direction": st.sampled_from(["IMPORT", "EXPORT", "export", "SIDEWAYS"]) | json_values,
        "live_mode": json_values,
    },
)


@settings(max_examples=300, deadline=None)
@given(data=contexts | json_values)
def test_parsing_yields_safe_values_or_refuses(data: Any) -> None:
    try:
        context = SessionContext.from_api(data)
    except FlatPeakRejected:
        return
    assert context.display_name.strip() and len(context.display_name) <= 200
    for url in (
        context.logo_url,
        context.terms_url,
        context.privacy_url,
        context.support_url,
        context.connect_web_uri,
    ):
        assert url == "" or (
            url.startswith("https://") and "@" not in urlsplit(url).netloc and "\n" not in url
        )
    assert context.direction in ("IMPORT", "EXPORT")
    assert context.live_mode in (None, True, False)
