"""capi_core.privacy on strings (no store): credentials in any letter case, Authorization values, page-URL
parameter masking with its allow-list, and the per-store extension of that list (settings)."""

from __future__ import annotations

import pytest

from capi_core import settings
from capi_core.errors import InputError
from capi_core.privacy import (
    URL_KEYS_KEPT,
    check_url_key,
    mask_query_values,
    mask_secrets,
    mask_text,
    mask_url,
    strip_secrets,
    url_keys_kept,
)
from capi_core.store import Store


@pytest.mark.parametrize(
    ("url", "stored"),
    [
        ("https://s.example/thanks?phone=4155550199&first_name=Bob", "https://s.example/thanks?phone=***&first_name=***"),
        ("https://s.example/p?utm_source=fb&UTM_Medium=cpc&fbclid=Iw1&gclid=2", "https://s.example/p?utm_source=fb&UTM_Medium=cpc&fbclid=Iw1&gclid=2"),
        ("https://s.example/p?variant_id=7&product_id=3&sku=A-1", "https://s.example/p?variant_id=7&product_id=3&sku=A-1"),
        ("https://s.example/#/thanks?name=Bo&utm_id=1", "https://s.example/#/thanks?name=***&utm_id=1"),
        ("https://s.example/#phone=4155550199", "https://s.example/#phone=***"),
        ("https://s.example/#reviews", "https://s.example/#reviews"),
        ("https://s.example/?Access_Token=EAAB12&q", "https://s.example/?Access_Token=***&q"),
        ("https://s.example/?phone=&x", "https://s.example/?phone=&x"),
        ("https://s.example/?a=b=c;utm_term=x;name=Bo", "https://s.example/?a=***;utm_term=x;name=***"),
        ("https://s.example/?email=jo%40ex.com", "https://s.example/?email=***"),
        ("https://s.example/a;jsessionid=1", "https://s.example/a;jsessionid=1"),
        ("https://s.example/?utm_\u017fource=x", "https://s.example/?utm_\u017fource=***"),
    ],
)  # fmt: skip
def test_mask_url(url: str, stored: str) -> None:
    assert mask_url(url) == stored
    assert mask_url(stored) == stored  # idempotent


def test_mask_url_store_keys() -> None:
    """A store's own keys (exact or prefix*) keep their values; the built-in list stays."""
    url = "https://s.example/?ref_code=A1&promo_x=2&promo=3&fbclid=4"
    assert mask_url(url) == "https://s.example/?ref_code=***&promo_x=***&promo=***&fbclid=4"
    assert (
        mask_url(url, ("ref_code", "promo_*"))
        == "https://s.example/?ref_code=A1&promo_x=2&promo=***&fbclid=4"
    )


@pytest.mark.parametrize(
    ("text", "masked", "count"),
    [
        ("url?ACCESS_TOKEN=abc&x=1", "url?ACCESS_TOKEN=***&x=1", 1),
        ("url?Access_Token%3Dabc%26x", "url?Access_Token%3D***", 1),
        ("Authorization: Bearer abc.DEF-1", "Authorization: Bearer ***", 1),
        ("authorization: bearer abc", "authorization: bearer ***", 1),
        ('"Authorization": "OAuth xyz"', '"Authorization": "OAuth ***"', 1),
        ("AUTHORIZATION=Basic dXNlcjpw", "AUTHORIZATION=Basic ***", 1),
        ("Authorization: t0k", "Authorization: ***", 1),
        ("bearer%20abc", "bearer%20***", 1),
        ("token EAAB" + "x" * 24, "token ***", 1),
        ("basic information", "basic information", 0),
    ],
)
def test_credentials_masked_in_any_case(text: str, masked: str, count: int) -> None:
    assert mask_secrets(text) == (masked, count)
    assert mask_text(text) == masked


def test_strip_secrets_any_case() -> None:
    value = {"Access_Token": "a", "url": "https://x/?ACCESS_TOKEN=b&utm_source=c", "n": ["access_token: d"]}
    assert strip_secrets(value) == (
        {"url": "https://x/?ACCESS_TOKEN=***&utm_source=c", "n": ["access_token: ***"]},
        3,
    )
    assert strip_secrets("no credential") == ("no credential", 0)


def test_query_values_in_free_text() -> None:
    text = '{"u": "https://s/?phone=4155550199&utm_source=fb", "h": "x?first_name=Bo"}'
    assert mask_query_values(text) == '{"u": "https://s/?phone=***&utm_source=fb", "h": "x?first_name=***"}'


def test_allow_list_is_one_checked_list() -> None:
    assert all(check_url_key(key) == key for key in URL_KEYS_KEPT)
    assert url_keys_kept((" Ref_Code ", "fbclid")) == (*URL_KEYS_KEPT, "ref_code")
    for bad in ("*", "a b", "x=y", "é", ""):
        with pytest.raises(ValueError, match="not a URL key"):
            check_url_key(bad)


def test_store_url_keys_setting(store: Store) -> None:
    assert settings.url_keys(store) == ()
    assert settings.set_url_keys(store, ["Ref_Code", "promo_*", "ref_code"]) == ("ref_code", "promo_*")
    assert settings.url_keys(store) == ("ref_code", "promo_*")
    with pytest.raises(InputError, match="not a URL key"):
        settings.set_url_keys(store, ["a=b"])
    assert settings.url_keys(store) == ("ref_code", "promo_*")  # a refused change changes nothing
    assert settings.set_url_keys(store, []) == ()
    assert settings.url_keys(store) == ()
