// A stand-in for Stripe.js v3, served by the testkit's fake Stripe at `/v3/` so that a real
// browser can pay on the booking site without the internet. It keeps Stripe.js's shape as the
// site uses it — `Stripe(publishableKey, {locale})`, `stripe.elements({clientSecret})`,
// `elements.create("payment").mount(selector)`, `stripe.confirmPayment({elements,
// confirmParams: {return_url}})` — and Stripe's confirm flow: the card goes with the publishable
// key and the client secret to `POST /v1/payment_intents/{id}/confirm` on the (fake) API; a
// decline resolves to `{error}`; a success redirects to `return_url` with `payment_intent`,
// `payment_intent_client_secret` and `redirect_status`, and the fake API sends the signed
// `payment_intent.succeeded` webhook to the server, as Stripe would.
// The Payment Element itself is a plain labelled form (Stripe's lives in its own iframe): card
// 4242 4242 4242 4242 pays, 4000 0000 0000 0002 is declined.
(function () {
  "use strict";
  var api = new URL(document.currentScript.src).origin;
  var WORDS = {
    en: { legend: "Card details", number: "Card number", expiry: "Expiry date (MM / YY)", cvc: "Security code (CVC)",
          incomplete: "Your card number is incomplete.", network: "We could not reach the payment service. Please try again." },
    de: { legend: "Kartendaten", number: "Kartennummer", expiry: "Ablaufdatum (MM / JJ)", cvc: "Prüfnummer (CVC)",
          incomplete: "Ihre Kartennummer ist unvollständig.", network: "Der Zahlungsdienst ist nicht erreichbar. Bitte versuchen Sie es erneut." }
  };

  function Stripe(key, options) {
    if (!(this instanceof Stripe)) return new Stripe(key, options);
    if (typeof key !== "string" || key.indexOf("pk_") !== 0) {
      throw new Error("IntegrationError: Invalid value for Stripe(): apiKey should be a publishable key (pk_…).");
    }
    this._key = key;
    var locale = (options && options.locale) || "en";
    this._words = WORDS[locale] || WORDS.en;
  }

  Stripe.prototype.elements = function (options) {
    if (!options || typeof options.clientSecret !== "string") {
      throw new Error("IntegrationError: elements() needs a clientSecret for the Payment Element.");
    }
    var words = this._words;
    var elements = { _clientSecret: options.clientSecret, _host: null };
    elements.create = function (type) {
      if (type !== "payment") throw new Error("IntegrationError: this stand-in has the Payment Element only, not " + type);
      return {
        mount: function (target) {
          var host = typeof target === "string" ? document.querySelector(target) : target;
          if (!host) throw new Error("IntegrationError: the Payment Element's container was not found: " + target);
          var field = function (id, label, auto, placeholder) {
            return '<div class="field"><label for="' + id + '">' + label + '</label>' +
              '<input id="' + id + '" name="' + id + '" type="text" inputmode="numeric" autocomplete="' + auto +
              '" placeholder="' + placeholder + '"></div>';
          };
          host.innerHTML = '<fieldset class="payment-element" data-fake-stripe="payment"><legend>' + words.legend + '</legend>' +
            field("stripe-card-number", words.number, "cc-number", "1234 1234 1234 1234") +
            field("stripe-card-expiry", words.expiry, "cc-exp", "MM / YY") +
            field("stripe-card-cvc", words.cvc, "cc-csc", "CVC") + '</fieldset>';
          elements._host = host;
        }
      };
    };
    return elements;
  };

  Stripe.prototype.confirmPayment = function (options) {
    var words = this._words;
    var elements = options && options.elements;
    if (!elements || !elements._host) return Promise.resolve({ error: { type: "validation_error", message: words.incomplete } });
    var value = function (id) { return (elements._host.querySelector("#" + id).value || "").replace(/\s+/g, ""); };
    var number = value("stripe-card-number");
    if (!/^[0-9]{12,19}$/.test(number)) {
      return Promise.resolve({ error: { type: "validation_error", code: "incomplete_number", message: words.incomplete } });
    }
    var expiry = value("stripe-card-expiry").split("/");
    var secret = elements._clientSecret;
    var intent = secret.split("_secret_")[0];
    var returnUrl = options.confirmParams && options.confirmParams.return_url;
    var body = new URLSearchParams();
    body.set("key", this._key);
    body.set("client_secret", secret);
    body.set("payment_method_data[type]", "card");
    body.set("payment_method_data[card][number]", number);
    body.set("payment_method_data[card][exp_month]", expiry[0] || "");
    body.set("payment_method_data[card][exp_year]", expiry[1] || "");
    body.set("payment_method_data[card][cvc]", value("stripe-card-cvc"));
    if (returnUrl) body.set("return_url", returnUrl);
    return fetch(api + "/v1/payment_intents/" + encodeURIComponent(intent) + "/confirm", { method: "POST", body: body })
      .then(function (r) { return r.json().then(function (json) { return { ok: r.ok, json: json }; }); })
      .then(function (answer) {
        if (!answer.ok) return { error: answer.json.error };
        if (!returnUrl || options.redirect === "if_required") return { paymentIntent: answer.json };
        var url = new URL(returnUrl);
        url.searchParams.set("payment_intent", intent);
        url.searchParams.set("payment_intent_client_secret", secret);
        url.searchParams.set("redirect_status", answer.json.status);
        window.location.assign(url.toString());
        // As with Stripe.js, the promise does not settle when the page goes to return_url.
        return new Promise(function () {});
      }, function () {
        return { error: { type: "api_connection_error", message: words.network } };
      });
  };

  window.Stripe = Stripe;
})();
