"""Languages of the hosted approval page: choosing one, its messages, and locale-aware formatting.

The page speaks Simplified Chinese (``zh-CN``, the default: the sandbox lender is a Chinese lender) and English
(``en``). Money is formatted by :meth:`bnpl.money.Money.format` (CLDR data, the currency's exact number of
decimals), dates by Babel, annual rates as a percentage with two decimals.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Final, Literal

from babel.dates import format_date as _babel_format_date

from bnpl.money import Money

__all__ = [
    "DEFAULT_LOCALE",
    "LOCALES",
    "MESSAGES",
    "PageLocale",
    "UnsupportedLocaleError",
    "format_date",
    "format_money",
    "format_rate",
    "messages",
    "negotiate_locale",
    "parse_locale",
]

PageLocale = Literal["zh-CN", "en"]
"""A language the hosted page is written in."""

LOCALES: Final[tuple[PageLocale, ...]] = ("zh-CN", "en")
DEFAULT_LOCALE: Final[PageLocale] = "zh-CN"

# CLDR locale used for numbers and dates in each page language.
_CLDR: Final[dict[PageLocale, str]] = {"zh-CN": "zh_CN", "en": "en_US"}

# Accepted spellings of each language in ?lang= and Accept-Language (lower case, "_" read as "-").
_ALIASES: Final[dict[str, PageLocale]] = {
    "zh-cn": "zh-CN",
    "zh": "zh-CN",
    "zh-hans": "zh-CN",
    "zh-hans-cn": "zh-CN",
    "zh-sg": "zh-CN",
    "en": "en",
}


class UnsupportedLocaleError(ValueError):
    """The page has no translation for this language; use one of :data:`LOCALES`."""


def parse_locale(value: str) -> PageLocale:
    """Map a language tag (``"en"``, ``"en-GB"``, ``"zh_CN"``, ``"zh-Hans"``) to a page language.

    Raises :class:`UnsupportedLocaleError` naming the supported ones for anything else.
    """
    tag = value.strip().replace("_", "-").lower()
    found = _ALIASES.get(tag)
    if found is None and tag.startswith("en-"):
        found = "en"
    if found is None:
        raise UnsupportedLocaleError(f"unsupported page language {value[:20]!r}: use one of {', '.join(LOCALES)}")
    return found


def negotiate_locale(lang: str | None, accept_language: str | None) -> PageLocale:
    """The page language: an explicit ``?lang=`` wins, then the best ``Accept-Language`` match, else zh-CN.

    Unknown ``?lang=`` values fall through to the header rather than failing: a hand-edited link should
    still show the page.
    """
    if lang:
        try:
            return parse_locale(lang)
        except UnsupportedLocaleError:
            pass
    if accept_language:
        ranked: list[tuple[float, int, PageLocale]] = []
        for position, part in enumerate(accept_language.split(",")[:20]):
            tag, _, params = part.partition(";")
            quality = 1.0
            params = params.strip()
            if params.startswith("q="):
                try:
                    quality = float(params[2:])
                except ValueError:
                    continue
            if quality <= 0:
                continue
            try:
                ranked.append((-quality, position, parse_locale(tag)))
            except UnsupportedLocaleError:
                continue
        if ranked:
            return min(ranked)[2]
    return DEFAULT_LOCALE


def format_money(minor: int, currency: str, locale: PageLocale) -> str:
    """``¥1,299.00`` in zh-CN, ``CN¥1,299.00`` in en, always with the currency's exact decimals."""
    return Money(minor, currency).format(_CLDR[locale])


def format_date(value: dt.date, locale: PageLocale) -> str:
    """``2025年1月15日`` in zh-CN, ``Jan 15, 2025`` in en."""
    return _babel_format_date(value, format="medium", locale=_CLDR[locale])


def format_rate(percent: str | Decimal) -> str:
    """An annual rate in percent as shown to customers: two decimals, half up (``"13.8372"`` → ``13.84%``)."""
    try:
        value = Decimal(percent)
    except InvalidOperation:
        raise ValueError(f"annual rate must be a decimal string such as '13.84', got {str(percent)[:20]!r}") from None
    if not value.is_finite():
        raise ValueError(f"annual rate must be finite, got {percent}")
    return f"{value.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}%"


MESSAGES: Final[dict[PageLocale, dict[str, str]]] = {
    "zh-CN": {
        "html_lang": "zh-CN",
        "sandbox_badge": "测试环境",
        "title": "确认分期付款",
        "switch_language": "English",
        "merchant_reference": "订单号",
        "order_total": "订单金额",
        "items_heading": "商品明细",
        "travel": "行程",
        "travel_date": "出发日期",
        "return_date": "返程日期",
        "passengers": "乘客",
        "booking_reference": "预订编号",
        "choose_plan": "选择分期方案",
        "per_instalment_equal": "{amount} × {periods}期",
        "per_instalment_varying": "首期 {amount}，共{periods}期",
        "first_due": "首期还款日",
        "total_payable": "应还总额",
        "cost_of_credit": "总利息及费用",
        "merchant_subsidy": "商家贴息",
        "rate_primary": "年化利率(IRR)",
        "rate_simple": "年化利率({label})",
        "rate_apr": "APR(美国Reg Z)",
        "rate_aprc": "APRC(欧盟)",
        "show_schedule": "查看还款计划",
        "col_number": "期数",
        "col_due_date": "还款日",
        "col_principal": "本金",
        "col_interest": "利息",
        "col_fee": "费用",
        "col_amount": "应还",
        "col_balance": "剩余本金",
        "confirm": "确认",
        "cancel": "取消",
        "expires_at": "请在 {when} 前完成确认",
        "no_plans": "暂无可用的分期方案。",
        "error_choose_plan": "请选择一个分期方案。",
        "error_unavailable": "该订单已无法确认，请返回商户重新下单。",
        "status_approved_title": "已确认",
        "status_approved_body": "分期已开通，订单号 {order_id}。",
        "status_declined_title": "未通过审核",
        "status_declined_body": "很抱歉，本次分期申请未通过。",
        "status_expired_title": "已过期",
        "status_expired_body": "该订单已过期，请返回商户重新下单。",
        "status_canceled_title": "已取消",
        "status_canceled_body": "您已取消本次分期付款。",
        "decline_reason": "原因",
        "back_to_merchant": "返回商户",
        "not_found_title": "页面不存在",
        "not_found_body": "链接无效或已失效，请返回商户重新发起付款。",
        "product_pay_in_4": "分4次付 · 每2周",
        "product_pay_in_30": "30天后付",
        "product_monthly": "按月分期",
        "method_annuity": "等额本息",
        "method_equal_principal": "等额本金",
        "method_flat_fee": "等本等息",
        "method_interest_only": "先息后本",
        "passenger_adult": "成人",
        "passenger_child": "儿童",
        "passenger_infant": "婴儿",
        "quantity": "数量",
    },
    "en": {
        "html_lang": "en",
        "sandbox_badge": "Sandbox",
        "title": "Confirm your pay-later plan",
        "switch_language": "中文",
        "merchant_reference": "Order",
        "order_total": "Order total",
        "items_heading": "Items",
        "travel": "Trip",
        "travel_date": "Departs",
        "return_date": "Returns",
        "passengers": "Passengers",
        "booking_reference": "Booking reference",
        "choose_plan": "Choose a plan",
        "per_instalment_equal": "{amount} × {periods}",
        "per_instalment_varying": "First payment {amount}, {periods} payments",
        "first_due": "First payment due",
        "total_payable": "Total payable",
        "cost_of_credit": "Total cost of credit",
        "merchant_subsidy": "Paid by the merchant",
        "rate_apr": "APR",
        "rate_aprc": "APRC",
        "rate_primary": "Annual rate (IRR, PBOC)",
        "rate_simple": "Annual rate ({label}, simple)",
        "show_schedule": "Full payment schedule",
        "col_number": "#",
        "col_due_date": "Due",
        "col_principal": "Principal",
        "col_interest": "Interest",
        "col_fee": "Fee",
        "col_amount": "Payment",
        "col_balance": "Balance",
        "confirm": "Confirm and pay later",
        "cancel": "Cancel",
        "expires_at": "Please confirm before {when}",
        "no_plans": "No plans are available for this order.",
        "error_choose_plan": "Please choose a plan.",
        "error_unavailable": "This order can no longer be confirmed; please return to the merchant.",
        "status_approved_title": "Approved",
        "status_approved_body": "Your plan is set up. Order {order_id}.",
        "status_declined_title": "Not approved",
        "status_declined_body": "Sorry, we could not approve this purchase.",
        "status_expired_title": "Expired",
        "status_expired_body": "This checkout has expired; please return to the merchant and try again.",
        "status_canceled_title": "Canceled",
        "status_canceled_body": "You canceled this purchase.",
        "decline_reason": "Reason",
        "back_to_merchant": "Return to the merchant",
        "not_found_title": "Page not found",
        "not_found_body": "This link is not valid or no longer works. Please return to the merchant and start again.",
        "product_pay_in_4": "Pay in 4, every 2 weeks",
        "product_pay_in_30": "Pay in 30 days",
        "product_monthly": "Monthly instalments",
        "method_annuity": "equal payments",
        "method_equal_principal": "equal principal",
        "method_flat_fee": "flat fee",
        "method_interest_only": "interest only",
        "passenger_adult": "adult",
        "passenger_child": "child",
        "passenger_infant": "infant",
        "quantity": "Qty",
    },
}
"""Every message of the page by language (values are plain text; templates escape them)."""


def messages(locale: PageLocale) -> dict[str, str]:
    """The messages of ``locale``; raises :class:`UnsupportedLocaleError` for any other value."""
    found = MESSAGES.get(locale)
    if found is None:
        raise UnsupportedLocaleError(f"unsupported page language {str(locale)[:20]!r}: use one of {', '.join(LOCALES)}")
    return found
