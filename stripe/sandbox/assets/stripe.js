/*
 * The sandbox's stand-in for Stripe.js v3 (https://js.stripe.com/v3/), served at /v3/.
 *
 * Same global and surface as the part of Stripe.js a card checkout uses:
 *   Stripe(publishableKey) -> { elements, confirmCardPayment, handleCardAction,
 *     confirmCardSetup, createPaymentMethod, retrievePaymentIntent }
 *   elements().create('card', {style, hidePostalCode}) -> element with
 *     mount / on / off / update / focus / blur / clear / unmount / destroy
 * Every method resolves (never rejects) to {paymentIntent} / {setupIntent} /
 * {paymentMethod} or {error}, as Stripe.js does.
 *
 * The card element is an iframe named __privateStripeFrame… served by the sandbox, with
 * inputs named cardnumber, exp-date, cvc and postal. Card details go from that iframe
 * straight to the sandbox's /v1/payment_methods with the publishable key; this script
 * (which runs in the shop's page) only ever sees the resulting pm_ id.
 */
(function () {
  "use strict";
  if (window.Stripe && window.Stripe.__sandbox) return;

  var script = document.currentScript;
  var BASE = new URL(script ? script.src : "/v3/", location.href).origin;
  var frameCounter = 0;

  function IntegrationError(message) {
    var e = new Error(message);
    e.name = "IntegrationError";
    return e;
  }

  function encode(params, prefix, out) {
    out = out || [];
    Object.keys(params).forEach(function (k) {
      var v = params[k];
      var key = prefix ? prefix + "[" + k + "]" : k;
      if (v === undefined || v === null) return;
      if (typeof v === "object") encode(v, key, out);
      else out.push(encodeURIComponent(key) + "=" + encodeURIComponent(String(v)));
    });
    return out.join("&");
  }

  function intentId(clientSecret, prefix) {
    var m = typeof clientSecret === "string" && clientSecret.match(new RegExp("^(" + prefix + "_[A-Za-z0-9]+)_secret_[A-Za-z0-9]+$"));
    return m ? m[1] : null;
  }

  function connectionError(message) {
    return { error: { type: "api_connection_error", message: message || "A network error occurred while contacting Stripe. Please try again." } };
  }

  function Stripe(key, options) {
    if (!(this instanceof Stripe)) return new Stripe(key, options);
    if (typeof key !== "string" || !/^pk_(test|live)_[A-Za-z0-9_]+$/.test(key)) {
      throw IntegrationError("Invalid value for Stripe(): apiKey should be a publishable key (pk_test_… or pk_live_…). You specified: " + String(key).slice(0, 12) + "….");
    }
    this._key = key;
  }
  Stripe.__sandbox = true;

  // One API call with the publishable key, as a CORS "simple request" (form body, no
  // custom headers). Resolves {status, body}; rejects only on network failure.
  Stripe.prototype._request = function (method, path, params) {
    var body = encode(Object.assign({ key: this._key }, params || {}));
    var url = BASE + path;
    var init = { method: method, credentials: "omit" };
    if (method === "GET") url += "?" + body;
    else {
      init.body = body;
      init.headers = { "Content-Type": "application/x-www-form-urlencoded" };
    }
    return fetch(url, init).then(function (res) {
      return res.json().then(function (json) { return { status: res.status, body: json }; });
    });
  };

  Stripe.prototype.elements = function (options) {
    return new Elements(this, options || {});
  };

  Stripe.prototype.retrievePaymentIntent = function (clientSecret) {
    return this._retrieve("payment_intent", clientSecret);
  };

  Stripe.prototype._retrieve = function (kind, clientSecret) {
    var prefix = kind === "payment_intent" ? "pi" : "seti";
    var id = intentId(clientSecret, prefix);
    if (!id) return Promise.reject(IntegrationError("Invalid value for " + kind + " client secret."));
    var key = kind === "payment_intent" ? "paymentIntent" : "setupIntent";
    return this._request("GET", "/v1/" + kind + "s/" + id, { client_secret: clientSecret }).then(function (r) {
      if (r.status >= 400) return { error: r.body.error };
      var out = {};
      out[key] = r.body;
      return out;
    }, function () { return connectionError(); });
  };

  // Resolves a `payment_method` option to a pm_ id: a string id, or {card: element}
  // (tokenized inside the card iframe).
  Stripe.prototype._paymentMethod = function (data) {
    var pm = data && data.payment_method;
    if (typeof pm === "string") return Promise.resolve({ id: pm });
    if (pm && pm.card instanceof CardElement) return pm.card._tokenize(pm.billing_details);
    if (pm && pm.card) return Promise.reject(IntegrationError("payment_method.card must be a card Element created by this Stripe instance's elements()."));
    return Promise.resolve({ id: null });
  };

  Stripe.prototype.createPaymentMethod = function (data) {
    if (!data || data.type !== "card" || !(data.card instanceof CardElement)) {
      return Promise.reject(IntegrationError("createPaymentMethod: expected {type: 'card', card: cardElement}."));
    }
    return data.card._tokenize(data.billing_details).then(function (r) {
      return r.error ? { error: r.error } : { paymentMethod: r.paymentMethod };
    });
  };

  Stripe.prototype._confirm = function (kind, clientSecret, data, options) {
    var self = this;
    var prefix = kind === "payment_intent" ? "pi" : "seti";
    var id = intentId(clientSecret, prefix);
    if (!id) return Promise.reject(IntegrationError("Invalid value for confirm: the client secret must be a " + kind + " client secret."));
    var handleActions = !options || options.handleActions !== false;
    return this._paymentMethod(data).then(function (pm) {
      if (pm.error) return { error: pm.error };
      var params = { client_secret: clientSecret, expected_payment_method_type: "card" };
      if (pm.id) params.payment_method = pm.id;
      if (data && data.setup_future_usage) params.setup_future_usage = data.setup_future_usage;
      if (data && data.return_url) params.return_url = data.return_url;
      return self._request("POST", "/v1/" + kind + "s/" + id + "/confirm", params).then(function (r) {
        if (r.status >= 400) return { error: r.body.error };
        return self._afterConfirm(kind, clientSecret, r.body, handleActions);
      }, function () { return connectionError(); });
    });
  };

  Stripe.prototype._afterConfirm = function (kind, clientSecret, intent, handleActions) {
    var self = this;
    var key = kind === "payment_intent" ? "paymentIntent" : "setupIntent";
    if (intent.status === "requires_action" && handleActions) {
      return authenticate(intent.id, clientSecret).then(function () {
        return self._retrieve(kind, clientSecret);
      }).then(function (result) {
        if (result.error) return result;
        // A failed authentication (or a decline after it) sends the intent back to
        // requires_payment_method: Stripe.js reports that as {error}, the intent attached
        // as error.payment_intent / error.setup_intent.
        var fresh = result[key];
        var lastError = kind === "payment_intent" ? fresh.last_payment_error : fresh.last_setup_error;
        if (fresh.status === "requires_payment_method" && lastError) {
          var err = Object.assign({}, lastError);
          err[kind] = fresh;
          return { error: err };
        }
        return result;
      });
    }
    var out = {};
    out[key] = intent;
    return Promise.resolve(out);
  };

  Stripe.prototype.confirmCardPayment = function (clientSecret, data, options) {
    return this._confirm("payment_intent", clientSecret, data, options);
  };

  Stripe.prototype.confirmCardSetup = function (clientSecret, data, options) {
    return this._confirm("setup_intent", clientSecret, data, options);
  };

  Stripe.prototype.handleCardAction = function (clientSecret) {
    var self = this;
    return this._retrieve("payment_intent", clientSecret).then(function (r) {
      if (r.error) return r;
      if (r.paymentIntent.status !== "requires_action") {
        return { error: { type: "invalid_request_error", code: "payment_intent_unexpected_state", message: "handleCardAction: the PaymentIntent is in status " + r.paymentIntent.status + ", not requires_action.", payment_intent: r.paymentIntent } };
      }
      return self._afterConfirm("payment_intent", clientSecret, r.paymentIntent, true);
    });
  };

  // The 3-D Secure modal: the sandbox's challenge page in an iframe over the page.
  function authenticate(id, clientSecret) {
    return new Promise(function (resolve) {
      var overlay = document.createElement("div");
      overlay.setAttribute("data-stripe-sandbox", "3ds-modal");
      overlay.setAttribute("style", "position:fixed;inset:0;z-index:2147483647;background:rgba(0,0,0,.45);display:flex;align-items:center;justify-content:center;");
      var frame = document.createElement("iframe");
      frame.name = "__privateStripeFrame" + (++frameCounter) + "-3ds";
      frame.title = "3D Secure authentication";
      frame.src = BASE + "/3ds/" + encodeURIComponent(id) + "?client_secret=" + encodeURIComponent(clientSecret);
      frame.setAttribute("style", "width:420px;height:420px;max-width:95vw;border:0;border-radius:8px;background:#fff;");
      overlay.appendChild(frame);
      function onMessage(ev) {
        if (ev.origin !== BASE || !ev.data || ev.data.type !== "stripe-sandbox-3ds") return;
        if (ev.data.payment_intent !== id && ev.data.setup_intent !== id) return;
        window.removeEventListener("message", onMessage);
        overlay.remove();
        resolve(ev.data.outcome);
      }
      window.addEventListener("message", onMessage);
      document.body.appendChild(overlay);
    });
  }

  function Elements(stripe, options) {
    this._stripe = stripe;
    this._options = options;
    this._card = null;
  }

  Elements.prototype.create = function (type, options) {
    if (type !== "card") throw IntegrationError("The sandbox's Stripe.js supports the 'card' Element only, not '" + type + "'.");
    if (this._card && !this._card._destroyed) throw IntegrationError("Can only create one Element of type card.");
    this._card = new CardElement(this._stripe, options || {});
    return this._card;
  };

  Elements.prototype.getElement = function (type) {
    return type === "card" && this._card && !this._card._destroyed ? this._card : null;
  };

  function CardElement(stripe, options) {
    this._stripe = stripe;
    this._options = options;
    this._handlers = {};
    this._frame = null;
    this._container = null;
    this._ready = false;
    this._pending = {};
    this._seq = 0;
    this._destroyed = false;
    this._id = ++frameCounter;
    this._onMessage = this._onMessage.bind(this);
  }

  CardElement.prototype.mount = function (target) {
    if (this._destroyed) throw IntegrationError("This Element has been destroyed.");
    var node = typeof target === "string" ? document.querySelector(target) : target;
    if (!node || !node.appendChild) throw IntegrationError("The selector you specified (" + target + ") applies to no DOM elements that are currently on the page.");
    if (this._frame) this.unmount();
    var frame = document.createElement("iframe");
    frame.name = "__privateStripeFrame" + this._id;
    frame.title = "Secure card payment input frame";
    frame.setAttribute("frameborder", "0");
    frame.setAttribute("allowtransparency", "true");
    frame.setAttribute("scrolling", "no");
    frame.setAttribute("style", "border:none;margin:0;padding:0;width:100%;min-width:100%;height:44px;display:block;overflow:hidden;");
    var query = encode({
      key: this._stripe._key,
      id: this._id,
      origin: location.origin,
      hidePostalCode: this._options.hidePostalCode ? 1 : 0,
      style: JSON.stringify(this._options.style || {}),
    });
    frame.src = BASE + "/v3/elements/card?" + query;
    var container = document.createElement("div");
    container.className = "__PrivateStripeElement";
    container.setAttribute("style", "margin:0;padding:0;border:none;display:block;background:transparent;position:relative;opacity:1;");
    container.appendChild(frame);
    node.appendChild(container);
    if (node.classList) node.classList.add("StripeElement", "StripeElement--empty");
    this._node = node;
    this._frame = frame;
    this._container = container;
    window.addEventListener("message", this._onMessage);
  };

  CardElement.prototype._onMessage = function (ev) {
    if (!this._frame || ev.source !== this._frame.contentWindow || ev.origin !== BASE) return;
    var msg = ev.data || {};
    if (msg.type !== "stripe-sandbox-card" || msg.id !== this._id) return;
    if (msg.reply !== undefined) {
      var done = this._pending[msg.reply];
      delete this._pending[msg.reply];
      if (done) done(msg.result);
      return;
    }
    if (msg.event === "ready") this._ready = true;
    if (msg.event === "change" && this._node && this._node.classList) {
      this._node.classList.toggle("StripeElement--empty", !!msg.payload.empty);
      this._node.classList.toggle("StripeElement--complete", !!msg.payload.complete);
      this._node.classList.toggle("StripeElement--invalid", !!msg.payload.error);
    }
    if (msg.event === "focus" && this._node && this._node.classList) this._node.classList.add("StripeElement--focus");
    if (msg.event === "blur" && this._node && this._node.classList) this._node.classList.remove("StripeElement--focus");
    this._emit(msg.event, msg.payload || {});
  };

  CardElement.prototype._emit = function (event, payload) {
    (this._handlers[event] || []).slice().forEach(function (fn) {
      try { fn(Object.assign({ elementType: "card" }, payload)); } catch (e) { setTimeout(function () { throw e; }); }
    });
  };

  CardElement.prototype._command = function (cmd, data) {
    var self = this;
    if (!this._frame || !this._frame.contentWindow) return Promise.reject(IntegrationError("The card Element is not mounted."));
    return new Promise(function (resolve) {
      var seq = ++self._seq;
      self._pending[seq] = resolve;
      self._frame.contentWindow.postMessage({ type: "stripe-sandbox-card-cmd", id: self._id, seq: seq, cmd: cmd, data: data }, BASE);
    });
  };

  CardElement.prototype._tokenize = function (billingDetails) {
    if (!this._ready) return Promise.reject(IntegrationError("We could not retrieve data from the specified Element. Please make sure the Element you are attempting to use is still mounted."));
    return this._command("tokenize", { billing_details: billingDetails || {} }).then(function (result) {
      if (result.error) return { error: result.error };
      return { id: result.paymentMethod.id, paymentMethod: result.paymentMethod };
    });
  };

  CardElement.prototype.on = function (event, handler) {
    (this._handlers[event] = this._handlers[event] || []).push(handler);
    if (event === "ready" && this._ready) handler({ elementType: "card" });
    return this;
  };
  CardElement.prototype.addEventListener = CardElement.prototype.on;

  CardElement.prototype.off = function (event, handler) {
    var list = this._handlers[event] || [];
    this._handlers[event] = handler ? list.filter(function (h) { return h !== handler; }) : [];
    return this;
  };

  CardElement.prototype.update = function (options) {
    Object.assign(this._options, options || {});
    if (this._frame) this._command("update", { hidePostalCode: !!this._options.hidePostalCode, style: this._options.style || {} });
  };
  CardElement.prototype.focus = function () { if (this._frame) this._command("focus"); };
  CardElement.prototype.blur = function () { if (this._frame) this._command("blur"); };
  CardElement.prototype.clear = function () { if (this._frame) this._command("clear"); };

  CardElement.prototype.unmount = function () {
    window.removeEventListener("message", this._onMessage);
    if (this._container) this._container.remove();
    if (this._node && this._node.classList) this._node.classList.remove("StripeElement", "StripeElement--empty", "StripeElement--complete", "StripeElement--invalid", "StripeElement--focus");
    this._frame = this._container = this._node = null;
    this._ready = false;
    var pending = this._pending;
    this._pending = {};
    Object.keys(pending).forEach(function (k) { pending[k]({ error: { type: "validation_error", code: "element_unmounted", message: "The card Element was unmounted." } }); });
  };

  CardElement.prototype.destroy = function () {
    this.unmount();
    this._handlers = {};
    this._destroyed = true;
  };

  window.Stripe = Stripe;
})();
