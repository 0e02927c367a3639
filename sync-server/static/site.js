// Progressive enhancement for the booking site: every page works without this file.
// - checkout: the price follows the form as it changes (the server quotes; nothing is priced here)
// - calendar: arrow keys move between days
// - payment: Stripe's Payment Element
"use strict";
(function () {
  function liveQuote(form) {
    var timer = null;
    var seq = 0;
    function refresh() {
      var data = new URLSearchParams(new FormData(form));
      data.set("action", "quote");
      var mine = ++seq;
      // getAttribute: the form's buttons are named "action", which shadows `form.action`.
      fetch(form.getAttribute("action"), { method: "POST", body: data, headers: { "Content-Type": "application/x-www-form-urlencoded" } })
        .then(function (r) { return r.text(); })
        .then(function (text) {
          if (mine !== seq) return;
          var doc = new DOMParser().parseFromString(text, "text/html");
          var quote = doc.getElementById("quote");
          if (quote) document.getElementById("quote").innerHTML = quote.innerHTML;
          var promo = document.getElementById("promo-field");
          var fresh = doc.getElementById("promo-field");
          if (promo && fresh) {
            promo.querySelectorAll(".field-error, .ok").forEach(function (n) { n.remove(); });
            fresh.querySelectorAll(".field-error, .ok").forEach(function (n) { promo.appendChild(document.importNode(n, true)); });
            var input = promo.querySelector("input");
            var invalid = fresh.querySelector("input").getAttribute("aria-invalid");
            if (invalid) { input.setAttribute("aria-invalid", invalid); input.setAttribute("aria-describedby", "promo_code-error"); }
            else { input.removeAttribute("aria-invalid"); input.removeAttribute("aria-describedby"); }
          }
        })
        .catch(function () { /* the "Update price" button still works */ });
    }
    form.addEventListener("input", function (e) {
      if (!e.target.name || !(e.target.name.indexOf("qty_") === 0 || e.target.name === "promo_code" || e.target.name === "email")) return;
      clearTimeout(timer);
      timer = setTimeout(refresh, 350);
    });
    form.addEventListener("submit", function (e) {
      var b = e.submitter;
      if (b && b.value === "book") {
        if (form.dataset.sent) { e.preventDefault(); return; }
        form.dataset.sent = "1";
        b.setAttribute("aria-disabled", "true");
      }
    });
  }

  function calendarKeys(table) {
    table.addEventListener("keydown", function (e) {
      var moves = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -7, ArrowDown: 7 };
      if (!(e.key in moves) || !e.target.closest("td")) return;
      var cells = Array.prototype.slice.call(table.querySelectorAll("td"));
      var i = cells.indexOf(e.target.closest("td")) + moves[e.key];
      while (i >= 0 && i < cells.length) {
        var target = cells[i].querySelector("a, span[aria-label]");
        if (target) {
          if (!target.hasAttribute("href")) target.setAttribute("tabindex", "-1");
          target.focus();
          e.preventDefault();
          return;
        }
        i += moves[e.key] > 0 ? 1 : -1;
      }
    });
  }

  function payment(form) {
    if (typeof window.Stripe !== "function") return;
    var stripe = window.Stripe(form.dataset.publishableKey, { locale: form.dataset.locale });
    var elements = stripe.elements({ clientSecret: form.dataset.clientSecret });
    elements.create("payment").mount("#payment-element");
    var error = document.getElementById("payment-error");
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var button = document.getElementById("pay");
      button.disabled = true;
      stripe.confirmPayment({ elements: elements, confirmParams: { return_url: form.dataset.returnUrl } }).then(function (result) {
        if (result && result.error) {
          error.textContent = result.error.message || "";
          error.hidden = false;
          button.disabled = false;
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var checkout = document.getElementById("checkout");
    if (checkout) liveQuote(checkout);
    document.querySelectorAll("table.cal").forEach(calendarKeys);
    var pay = document.getElementById("payment-form");
    if (pay) payment(pay);
  });
})();
