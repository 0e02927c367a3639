// Progressive enhancement for the booking site: every page works without this file.
// - checkout: the price follows the form as it changes (the server quotes; nothing is priced here)
// - calendar: arrow keys move between days
// - payment: Stripe's Payment Element
"use strict";
(function () {
  function liveQuote(form) {
    var timer = null;
    var seq = 0;
    // A field's messages (its refusal or "applied") follow the server's answer.
    function syncField(doc, id) {
      var field = document.getElementById(id);
      var fresh = doc.getElementById(id);
      if (!field || !fresh) return;
      field.querySelectorAll(".field-error, .ok").forEach(function (n) { n.remove(); });
      fresh.querySelectorAll(".field-error, .ok").forEach(function (n) { field.appendChild(document.importNode(n, true)); });
      var input = field.querySelector("input");
      var freshInput = fresh.querySelector("input");
      var invalid = freshInput.getAttribute("aria-invalid");
      if (invalid) { input.setAttribute("aria-invalid", invalid); input.setAttribute("aria-describedby", freshInput.getAttribute("aria-describedby")); }
      else { input.removeAttribute("aria-invalid"); input.removeAttribute("aria-describedby"); }
    }
    var namesStale = false;
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
          syncField(doc, "promo-field");
          syncField(doc, "gift-card-field");
          // One row of name fields per participant: the rows follow the counts (the names
          // typed so far were posted, so they come back filled in).
          var names = doc.getElementById("names");
          if (namesStale && names) { document.getElementById("names").innerHTML = names.innerHTML; namesStale = false; }
        })
        .catch(function () { /* the "Update price" button still works */ });
    }
    form.addEventListener("input", function (e) {
      var n = e.target.name;
      if (!n || !(n.indexOf("qty_") === 0 || n === "promo_code" || n === "gift_card_code" || n === "email")) return;
      if (n.indexOf("qty_") === 0) namesStale = true;
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
