"""The hosted approval page rendered to HTML: content per locale and state, rate labels, escaping, CSP."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
from decimal import ROUND_HALF_UP, Decimal
from html import unescape
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bnpl.models import Checkout, LineItem, Passenger, PlanPricing, PlanQuote, ScheduledInstalment, TravelDetails
from bnpl.money import Money
from bnpl.plans import Plan, Pricing, build_plan
from bnpl.sandbox.pages import (
    LOCALES,
    PageRenderError,
    content_security_policy,
    merchant_return_url,
    negotiate_locale,
    render_approval_page,
    render_not_found_page,
    render_result_page,
)
from bnpl.sandbox.pages.i18n import MESSAGES

NOW = dt.datetime(2025, 1, 15, 9, 30, tzinfo=dt.UTC)
START = dt.date(2025, 1, 15)
PRICE = Money(129900, "CNY")
CHK = "chk_" + "a1" * 12


def quote_of(plan: Plan) -> PlanQuote:
    """The wire model of an engine plan (what the sandbox core stores and serves)."""
    return PlanQuote(
        product=plan.product,
        periods=plan.periods,
        method=plan.method,
        pricing=PlanPricing(
            annual_interest_rate=str(plan.pricing.annual_interest_rate), fee_rate=str(plan.pricing.fee_rate)
        ),
        amount=plan.price.minor,
        currency=plan.price.currency.code,
        schedule=[
            ScheduledInstalment(
                number=i.number,
                due_date=i.due_date,
                principal=i.principal.minor,
                interest=i.interest.minor,
                fee=i.fee.minor,
                amount=i.amount.minor,
                balance=i.balance.minor,
            )
            for i in plan.instalments
        ],
        total_payable=plan.total_payable.minor,
        total_cost_of_credit=plan.total_cost_of_credit.minor,
        merchant_subsidy=plan.merchant_subsidy.minor,
        annual_rates={k: format(v.quantize(Decimal("1e-10")), "f") for k, v in plan.annual_rates.items()},
    )


def offers_for(price: Money = PRICE) -> list[PlanQuote]:
    return [
        quote_of(build_plan(price, product="pay_in_4", start=START)),
        quote_of(
            build_plan(
                price,
                product="monthly",
                periods=12,
                method="flat_fee",
                pricing=Pricing(fee_rate=Decimal("0.6")),
                start=START,
            )
        ),
        quote_of(
            build_plan(
                price,
                product="monthly",
                periods=6,
                method="equal_principal",
                pricing=Pricing(annual_interest_rate=Decimal("14.4"), merchant_subsidy=Decimal(50)),
                start=START,
            )
        ),
    ]


def checkout(status: str = "open", **overrides: object) -> Checkout:
    fields: dict[str, object] = {
        "id": CHK,
        "status": status,
        "amount": PRICE.minor,
        "currency": "CNY",
        "merchant_reference": "ORD-2025-0001",
        "approval_url": f"http://127.0.0.1:1/pay/{CHK}?token=tok",
        "return_url": "https://merchant.example/return?session=42",
        "cancel_url": "https://merchant.example/cart",
        "expires_at": NOW + dt.timedelta(minutes=30),
        "created": NOW,
        "order_id": "ord_" + "b2" * 12 if status == "approved" else None,
        "decline_reason": "insufficient_credit_limit" if status == "declined" else None,
    }
    fields.update(overrides)
    return Checkout.model_validate(fields)


ITEMS = [
    LineItem(name="机票 PEK→SHA", category="flight", quantity=2, unit_amount=59950, total_amount=119900),
    LineItem(name="Seat selection", category="service", quantity=1, unit_amount=10000, total_amount=10000),
]
TRAVEL = TravelDetails(
    origin="PEK",
    destination="SHA",
    travel_date=dt.date(2025, 2, 1),
    return_date=dt.date(2025, 2, 8),
    passengers=[Passenger(name="张三"), Passenger(name="Li Si", type="child")],
    booking_reference="PNR7XK",
)


class _Collector(HTMLParser):
    """Elements by id/class with their text, plus every tag/attribute seen (stdlib parser, like a browser)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self._open: list[tuple[str, dict[str, str | None], list[str]]] = []
        self.texts: list[tuple[str, dict[str, str | None], str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag not in ("input", "meta", "br"):
            self._open.append((tag, attributes, []))

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            name, attributes, chunks = self._open.pop()
            text = "".join(chunks)
            self.texts.append((name, attributes, text))
            if self._open:
                self._open[-1][2].append(text)
            if name == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._open:
            self._open[-1][2].append(data)

    def by_class(self, cls: str) -> list[str]:
        return [text for _, attrs, text in self.texts if cls in (attrs.get("class") or "").split()]

    def by_id(self, element_id: str) -> str:
        found = [text for _, attrs, text in self.texts if attrs.get("id") == element_id]
        assert len(found) == 1, f"expected one #{element_id}, found {len(found)}"
        return found[0]

    def inputs(self) -> list[dict[str, str | None]]:
        return [attrs for tag, attrs in self.tags if tag == "input"]


def parse(html: str) -> _Collector:
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector


def rate(value: str) -> str:
    return f"{Decimal(value).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}%"


def approval(locale: str = "zh-CN", **kwargs: object) -> str:
    args: dict[str, object] = {
        "checkout": checkout(),
        "offers": offers_for(),
        "locale": locale,
        "token": "tok_abc",
        "items": ITEMS,
        "travel": TRAVEL,
    }
    args.update(kwargs)
    return render_approval_page(**args)  # type: ignore[arg-type]


# --- the approval page --------------------------------------------------------------------------------------


def test_zh_cn_page_shows_order_items_trip_and_every_plan() -> None:
    page = parse(approval("zh-CN"))
    assert page.by_id("order-amount") == "¥1,299.00"
    assert page.by_id("merchant-reference") == "ORD-2025-0001"
    assert page.by_class("name") == ["机票 PEK→SHA", "Seat selection"]
    travel = page.by_id("travel")
    assert "PEK → SHA" in travel
    assert "2025年2月1日" in travel
    assert "2025年2月8日" in travel
    assert "张三" in travel
    assert "Li Si" in travel
    assert "儿童" in travel
    assert "PNR7XK" in travel
    offers = offers_for()
    # pay-in-4 of 1,299.00 is four equal 324.75; the 12-month flat fee is 12 × 116.04.
    assert page.by_class("headline")[:2] == ["¥324.75 × 4期", "¥116.04 × 12期"]
    # equal principal instalments differ, so the card names the first one and the count.
    first = Money(offers[2].schedule[0].amount, "CNY").format("zh_CN")
    assert page.by_class("headline")[2] == f"首期 {first}，共6期"
    assert page.by_class("total-payable") == [Money(o.total_payable, "CNY").format("zh_CN") for o in offers]
    assert page.by_class("cost-of-credit") == [Money(o.total_cost_of_credit, "CNY").format("zh_CN") for o in offers]
    assert page.by_class("first-due")[1] == "2025年2月15日"
    assert page.by_class("subsidy") == [Money(offers[2].merchant_subsidy, "CNY").format("zh_CN")]


def test_messages_exist_in_every_language_and_never_shadow_dict_attributes() -> None:
    # Templates read ``msg.key``: Jinja resolves a dict attribute (``msg.items``) before the key.
    assert set(MESSAGES) == set(LOCALES)
    assert set(MESSAGES["zh-CN"]) == set(MESSAGES["en"])
    assert not set(MESSAGES["en"]) & set(dir(dict))
    for locale in LOCALES:
        html = approval(locale)
        assert "built-in method" not in html
        assert f"<h3>{MESSAGES[locale]['items_heading']}</h3>" in html


def test_zh_cn_shows_the_pboc_irr_first_and_labels_the_simple_rate() -> None:
    html = approval("zh-CN")
    quote = offers_for()[1]
    irr = f"年化利率(IRR)</dt><dd>{rate(quote.annual_rates['cn_compound'])}</dd>"
    simple = f"年化利率(单利)</dt><dd>{rate(quote.annual_rates['cn_simple'])}</dd>"
    assert irr in html
    assert simple in html
    assert html.index(irr) < html.index(simple)
    assert rate(quote.annual_rates["cn_compound"]) == "13.83%"
    assert "APR" not in html


def test_en_page_shows_apr_and_aprc_and_english_labels() -> None:
    html = approval("en")
    page = parse(html)
    quote = offers_for()[1]
    assert f"APR</dt><dd>{rate(quote.annual_rates['us_reg_z'])}</dd>" in html
    assert f"APRC</dt><dd>{rate(quote.annual_rates['eu_aprc'])}</dd>" in html
    assert "单利" not in html
    assert page.by_id("order-amount") == "CN¥1,299.00"
    assert page.by_id("confirm") == "Confirm and pay later"
    assert page.by_id("cancel") == "Cancel"
    assert page.by_class("first-due")[1] == "Feb 15, 2025"
    assert '<html lang="en">' in html


def test_every_plan_is_a_radio_with_its_full_schedule() -> None:
    offers = offers_for()
    html = approval("zh-CN", selected=1)
    page = parse(html)
    radios = [attrs for attrs in page.inputs() if attrs.get("type") == "radio"]
    assert [r["value"] for r in radios] == ["0", "1", "2"]
    assert {r["name"] for r in radios} == {"plan"}
    assert ["checked" in r for r in radios] == [False, True, False]
    bodies = re.findall(r"<tbody>(.*?)</tbody>", html, flags=re.S)
    assert [body.count("<tr>") for body in bodies] == [o.periods for o in offers]
    # The last row of each schedule leaves a zero balance.
    assert all("¥0.00</td></tr>" in body.strip().splitlines()[-1] for body in bodies)


def test_form_posts_token_lang_and_action_to_the_pay_route() -> None:
    html = approval("en", publishable_key="pk_test_123")
    page = parse(html)
    form = next(attrs for tag, attrs in page.tags if tag == "form")
    assert form["method"] == "post"
    assert form["action"] == f"/pay/{CHK}"
    hidden = {a["name"]: a["value"] for a in page.inputs() if a.get("type") == "hidden"}
    assert hidden == {"token": "tok_abc", "lang": "en", "publishable_key": "pk_test_123"}
    buttons = {attrs["value"] for tag, attrs in page.tags if tag == "button"}
    assert buttons == {"confirm", "cancel"}


def test_language_switch_keeps_the_token() -> None:
    page = parse(approval("zh-CN", token="t&k=1"))
    link = next(attrs for tag, attrs in page.tags if attrs.get("id") == "lang-switch")
    query = parse_qs(urlsplit(str(link["href"])).query)
    assert query == {"token": ["t&k=1"], "lang": ["en"]}
    assert page.by_id("lang-switch") == "English"
    back = parse(approval("en"))
    assert back.by_id("lang-switch") == "中文"


def test_page_is_mobile_first_and_self_contained() -> None:
    html = approval("zh-CN")
    page = parse(html)
    metas = [attrs for tag, attrs in page.tags if tag == "meta"]
    assert {"name": "viewport", "content": "width=device-width, initial-scale=1"} in metas
    tags = {tag for tag, _ in page.tags}
    assert "script" not in tags
    assert "link" not in tags
    assert "img" not in tags
    assert "@media" in html


def test_error_is_shown_above_the_plans() -> None:
    page = parse(approval("zh-CN", error="请选择一个分期方案。"))
    assert page.by_id("page-error") == "请选择一个分期方案。"


HOSTILE = [
    "<script>alert(1)</script>",
    "'; DROP TABLE checkouts; --",
    '" onmouseover="alert(1)',
    "</textarea><img src=x onerror=alert(1)>",
    "{{ 7*7 }} {% raw %}",
    "Robert'); DELETE FROM orders WHERE ('1'='1",
]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_user_supplied_text_is_escaped_everywhere(hostile: str) -> None:
    item = LineItem(name=hostile, category="goods", quantity=1, unit_amount=PRICE.minor, total_amount=PRICE.minor)
    travel = TravelDetails(
        origin="PEK",
        destination=hostile[:100],
        travel_date=dt.date(2025, 2, 1),
        passengers=[Passenger(name=hostile)],
        booking_reference=hostile[:100],
    )
    html = render_approval_page(
        checkout=checkout(merchant_reference=hostile[:100], metadata={"note": hostile}),
        offers=offers_for(),
        locale="en",
        token=hostile,
        items=[item],
        travel=travel,
        error=hostile,
    )
    page = parse(html)
    assert {tag for tag, _ in page.tags}.isdisjoint({"script", "img", "textarea"})
    assert all(not name.startswith("on") for _, attrs in page.tags for name in attrs)
    assert page.by_class("name") == [hostile]
    assert page.by_id("merchant-reference") == hostile[:100]
    assert page.by_id("page-error") == hostile
    assert hostile in page.by_id("travel")
    hidden = {a["name"]: a["value"] for a in page.inputs() if a.get("type") == "hidden"}
    assert hidden["token"] == hostile
    assert "49" not in page.by_class("name")[0]  # no template evaluation of user text


@settings(max_examples=60, deadline=None)
@given(name=st.text(min_size=1, max_size=60).filter(lambda s: s.strip() and "\x00" not in s and "\r" not in s))
def test_any_item_name_round_trips_through_the_html(name: str) -> None:
    item = LineItem(name=name, category="goods", quantity=1, unit_amount=PRICE.minor, total_amount=PRICE.minor)
    page = parse(
        render_approval_page(checkout=checkout(), offers=offers_for(), locale="zh-CN", token="t", items=[item])
    )
    assert page.by_class("name") == [item.name]
    assert "script" not in {tag for tag, _ in page.tags}


# --- input validation ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"checkout": checkout("approved")}, "is approved"),
        ({"offers": []}, "no offers"),
        ({"offers": offers_for(Money(99900, "CNY"))}, "not the checkout's"),
        ({"selected": 3}, "selected must be 0..2"),
        ({"locale": "fr"}, "unsupported page language"),
        ({"token": ""}, "token must not be empty"),
    ],
)
def test_approval_page_refuses_what_it_cannot_show(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(PageRenderError, match=message):
        approval(**kwargs)


def test_result_page_refuses_an_open_checkout() -> None:
    with pytest.raises(PageRenderError, match="state must be one of"):
        render_result_page(checkout=checkout("open"), locale="en")


# --- terminal pages -----------------------------------------------------------------------------------------

RESULT_TITLES = {
    ("approved", "zh-CN"): "已确认",
    ("declined", "zh-CN"): "未通过审核",
    ("expired", "zh-CN"): "已过期",
    ("canceled", "zh-CN"): "已取消",
    ("approved", "en"): "Approved",
    ("declined", "en"): "Not approved",
    ("expired", "en"): "Expired",
    ("canceled", "en"): "Canceled",
}


@pytest.mark.parametrize(("state", "locale"), sorted(RESULT_TITLES))
def test_result_page_per_state_and_locale(state: str, locale: str) -> None:
    co = checkout(state)
    html = render_result_page(checkout=co, locale=locale)  # type: ignore[arg-type]
    page = parse(html)
    title = RESULT_TITLES[(state, locale)]
    assert f"<title>{title}</title>" in html
    assert f"<h1>{title}</h1>" in html
    assert page.by_id("merchant-reference") == "ORD-2025-0001"
    link = next(attrs["href"] for tag, attrs in page.tags if attrs.get("id") == "back-to-merchant")
    parts = urlsplit(str(link))
    expected_base = "https://merchant.example/return" if state == "approved" else "https://merchant.example/cart"
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == expected_base
    query = parse_qs(parts.query)
    assert query["checkout_id"] == [CHK]
    assert query["status"] == [state]
    if state == "approved":
        assert query["session"] == ["42"]
        assert str(co.order_id) in page.by_id("result")
    if state == "declined":
        assert page.by_id("decline-reason") == "insufficient_credit_limit"
    else:
        assert "decline-reason" not in html


def test_declined_without_cancel_url_links_back_to_return_url() -> None:
    page = parse(render_result_page(checkout=checkout("declined", cancel_url=None), locale="en"))
    link = next(attrs["href"] for tag, attrs in page.tags if attrs.get("id") == "back-to-merchant")
    assert str(link).startswith("https://merchant.example/return?session=42&checkout_id=")


def test_result_page_can_override_the_state_and_add_a_message() -> None:
    page = parse(render_result_page(checkout=checkout("open"), locale="en", state="expired", message="Too late"))
    assert page.by_id("result").count("Expired") == 1
    assert page.by_id("page-error") == "Too late"


def test_not_found_page_mentions_no_checkout() -> None:
    for locale, title in (("zh-CN", "页面不存在"), ("en", "Page not found")):
        html = render_not_found_page(locale=locale)  # type: ignore[arg-type]
        assert f"<h1>{title}</h1>" in html
        assert "chk_" not in html


# --- helpers: return URLs, languages, CSP -------------------------------------------------------------------


def test_merchant_return_url_adds_ours_and_keeps_theirs() -> None:
    url = merchant_return_url("https://m.example/r?a=1&status=old#frag", checkout_id=CHK, status="approved")
    parts = urlsplit(str(url))
    assert parse_qs(parts.query) == {"a": ["1"], "checkout_id": [CHK], "status": ["approved"]}
    assert parts.fragment == "frag"


@pytest.mark.parametrize("url", [None, "", "javascript:alert(1)", "/relative/path", "ftp://x.example/"])
def test_merchant_return_url_refuses_non_http_targets(url: str | None) -> None:
    assert merchant_return_url(url, checkout_id=CHK, status="canceled") is None


@pytest.mark.parametrize(
    ("lang", "header", "expected"),
    [
        ("en", "zh-CN,zh;q=0.9", "en"),
        ("zh-CN", "en-US,en;q=0.9", "zh-CN"),
        ("zh_cn", None, "zh-CN"),
        ("EN-gb", None, "en"),
        ("fr", "en-US,en;q=0.9", "en"),
        (None, "fr-FR, en;q=0.4, zh-CN;q=0.8", "zh-CN"),
        (None, "fr-FR, en;q=0.4", "en"),
        (None, "en;q=0, zh;q=0.1", "zh-CN"),
        (None, "de-DE", "zh-CN"),
        (None, None, "zh-CN"),
        (None, "en;q=abc, zh-Hans", "zh-CN"),
    ],
)
def test_negotiate_locale(lang: str | None, header: str | None, expected: str) -> None:
    assert negotiate_locale(lang, header) == expected


def test_csp_allows_exactly_the_inline_style_and_the_merchant_redirect_origins() -> None:
    html = approval("zh-CN")
    css = re.search(r"<style>(.*?)</style>", html, flags=re.S)
    assert css is not None
    digest = base64.b64encode(hashlib.sha256(unescape(css.group(1)).encode()).digest()).decode()
    policy = content_security_policy(
        [
            "https://merchant.example/return?x=1",
            "http://127.0.0.1:9000/cancel",
            "javascript:alert(1)",
            "https://merchant.example/other",
        ]
    )
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["style-src"] == f"'sha256-{digest}'"
    assert directives["form-action"] == "'self' https://merchant.example http://127.0.0.1:9000"
    assert directives["default-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy
