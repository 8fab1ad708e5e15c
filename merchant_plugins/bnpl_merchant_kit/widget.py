"""The embeddable "as low as" widget: a self-contained script (no external assets) and the HTML to include it.

A product page includes::

    <div data-bnpl-amount="129900" data-bnpl-currency="CNY"></div>
    <script src="/bnpl/widget.js" defer></script>

The script finds every ``[data-bnpl-amount]`` element, asks ``as-low-as`` next to its own URL, and renders a
native ``<details>`` element: the summary says "As low as ¥71.02/month", opening it lists every plan. All
text is set with ``textContent`` (never ``innerHTML``), so nothing from the page or the lender is parsed as HTML.
"""

from __future__ import annotations

import html
from typing import Final

__all__ = ["WIDGET_CONTENT_TYPE", "WIDGET_JS", "widget_snippet"]

WIDGET_CONTENT_TYPE: Final = "application/javascript; charset=utf-8"

WIDGET_JS: Final = r"""/* bnpl "as low as" widget: no external assets, text only via textContent. */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = script && script.src ? script.src : window.location.href;
  var endpoint = new URL("as-low-as", base);

  function text(tag, value, className) {
    var el = document.createElement(tag);
    el.textContent = value;
    if (className) { el.className = className; }
    return el;
  }

  function label(template, value) {
    return template.split("{amount}").join(value);
  }

  function render(host, data) {
    while (host.firstChild) { host.removeChild(host.firstChild); }
    if (!data.as_low_as) { host.setAttribute("data-bnpl-state", "unavailable"); return; }
    var details = document.createElement("details");
    details.className = "bnpl-as-low-as";
    var template = host.getAttribute("data-bnpl-label") || "As low as {amount}/month";
    details.appendChild(text("summary", label(template, data.as_low_as.formatted), "bnpl-summary"));
    var list = document.createElement("ul");
    list.className = "bnpl-plans";
    data.plans.forEach(function (plan) {
      var rate = plan.annual_rates && plan.annual_rates.cn_compound;
      var line = plan.periods + " \u00d7 " + plan.formatted_monthly + " \u00b7 total " + plan.formatted_total +
        (rate !== undefined ? " \u00b7 APR " + rate + "%" : "");
      var item = text("li", line, "bnpl-plan");
      item.setAttribute("data-bnpl-product", String(plan.product));
      item.setAttribute("data-bnpl-periods", String(plan.periods));
      list.appendChild(item);
    });
    details.appendChild(list);
    host.appendChild(details);
    host.setAttribute("data-bnpl-state", "ready");
  }

  function load(host) {
    var amount = host.getAttribute("data-bnpl-amount") || "";
    var currency = host.getAttribute("data-bnpl-currency") || "CNY";
    var url = new URL(endpoint.href);
    url.searchParams.set("amount", amount);
    url.searchParams.set("currency", currency);
    host.setAttribute("data-bnpl-state", "loading");
    fetch(url.href, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
      .then(function (data) { render(host, data); })
      .catch(function () { host.setAttribute("data-bnpl-state", "error"); });
  }

  function start() {
    var hosts = document.querySelectorAll("[data-bnpl-amount]");
    for (var i = 0; i < hosts.length; i++) { load(hosts[i]); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
"""


def widget_snippet(amount: int, currency: str, *, script_url: str = "/bnpl/widget.js", label: str | None = None) -> str:
    """The HTML a product page includes for ``amount`` (minor units) in ``currency``, every value escaped.

    ``label`` overrides the summary text; ``{amount}`` in it is replaced by the formatted monthly amount.
    """
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValueError("amount must be a positive integer number of minor units, e.g. 129900 for ¥1,299.00")
    attrs = f'data-bnpl-amount="{amount}" data-bnpl-currency="{html.escape(currency, quote=True)}"'
    if label is not None:
        attrs += f' data-bnpl-label="{html.escape(label, quote=True)}"'
    return f'<div {attrs}></div>\n<script src="{html.escape(script_url, quote=True)}" defer></script>'
