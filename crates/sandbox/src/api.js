/* Klarna sandbox: a stand-in for https://x.klarnacdn.net/kp/lib/v1/api.js.
 * Implements the documented browser API (Klarna.Payments.init/load/authorize/finalize/
 * reauthorize/on/off and window.klarnaAsyncCallback) with the same option and callback shapes,
 * asynchronously like the real script. Outcomes are decided by the sandbox server. */
(function () {
  "use strict";
  if (window.Klarna && window.Klarna.Payments && window.Klarna.Payments.__sandbox) {
    return;
  }
  var src = (document.currentScript && document.currentScript.src) || "";
  var base = src.replace(/\/kp\/lib\/v1\/api\.js.*$/, "");
  var EVENTS = ["heightChanged", "fullscreenOverlayShown", "fullscreenOverlayHidden"];
  var state = { token: null, loaded: {}, pendingFinalize: {}, handlers: {} };
  EVENTS.forEach(function (e) { state.handlers[e] = []; });

  function fail(name, message) {
    var e = new Error(message || name);
    e.name = name;
    return e;
  }
  function emit(name, arg) {
    state.handlers[name].slice().forEach(function (h) {
      try { h(arg); } catch (e) { setTimeout(function () { throw e; }); }
    });
  }
  function post(path, body) {
    return fetch(base + path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    }).then(function (r) {
      return r.json().then(function (j) {
        if (!r.ok) { var e = fail("SandboxHttpError", (j.error_messages || []).join("; ")); e.status = r.status; throw e; }
        return j;
      });
    });
  }
  function later(fn) { setTimeout(fn, 0); }
  function money(minor, currency, locale) {
    try {
      return new Intl.NumberFormat(locale || "en", { style: "currency", currency: currency }).format(minor / 100);
    } catch (e) { return (minor / 100).toFixed(2) + " " + currency; }
  }
  function el(tag, style, text) {
    var n = document.createElement(tag);
    if (style) n.setAttribute("style", style);
    if (text != null) n.textContent = text;
    return n;
  }
  var DESCRIPTIONS = {
    pay_now: "Pay the full amount today by direct debit or bank transfer.",
    pay_later: "Pay in 30 days. No interest, no fees.",
    pay_over_time: "Split the cost into 3 interest-free instalments.",
  };

  function renderWidget(container, category, info) {
    container.innerHTML = "";
    /* Drawn in the session's `options` (the merchant's colours), on the page's background. */
    var o = info.options || {};
    var box = el("div", "font:14px/1.4 system-ui,sans-serif;border:1px solid " + (o.color_border || "#d0d0d5") +
      ";border-radius:" + (o.radius_border || "8px") + ";padding:12px 14px;background:transparent;color:" + (o.color_text || "#17120f"));
    box.className = "klarna-sandbox-widget";
    box.setAttribute("data-category", category.identifier);
    var head = el("div", "display:flex;align-items:center;gap:8px;font-weight:600");
    var badge = el("img");
    badge.src = base + "/badges/klarna.svg";
    badge.alt = "";
    badge.width = 48; badge.height = 20;
    head.appendChild(badge);
    head.appendChild(el("span", null, category.name));
    box.appendChild(head);
    box.appendChild(el("p", "margin:8px 0 4px", DESCRIPTIONS[category.identifier] || ""));
    box.appendChild(el("p", "margin:0;color:" + (o.color_details || "#555"), "Total " + money(info.order_amount, info.purchase_currency, info.locale) + " \u00b7 Klarna sandbox"));
    container.appendChild(box);
    return box.offsetHeight;
  }

  var dialog = null;
  function openDialog(title) {
    closeDialog();
    var overlay = el("div", "position:fixed;inset:0;background:rgba(23,18,15,.55);display:flex;align-items:center;justify-content:center;z-index:2147483647");
    overlay.id = "klarna-sandbox-dialog";
    var card = el("div", "background:#fff;color:#17120f;border-radius:12px;padding:24px;width:min(360px,90vw);font:15px/1.45 system-ui,sans-serif;box-shadow:0 8px 32px rgba(0,0,0,.3)");
    card.setAttribute("role", "dialog");
    card.setAttribute("aria-modal", "true");
    card.setAttribute("aria-labelledby", "klarna-sandbox-title");
    var h = el("h2", "margin:0 0 8px;font-size:18px", title);
    h.id = "klarna-sandbox-title";
    var body = el("p", "margin:0 0 16px", "Checking your details\u2026");
    body.id = "klarna-sandbox-message";
    body.setAttribute("aria-live", "polite");
    var actions = el("div", "display:flex;gap:8px;justify-content:flex-end");
    card.appendChild(h); card.appendChild(body); card.appendChild(actions);
    overlay.appendChild(card);
    document.body.appendChild(overlay);
    dialog = { overlay: overlay, body: body, actions: actions, onEscape: null };
    document.addEventListener("keydown", escape, true);
    emit("fullscreenOverlayShown");
    return dialog;
  }
  function escape(ev) {
    if (ev.key === "Escape" && dialog && dialog.onEscape) { ev.preventDefault(); dialog.onEscape(); }
  }
  function closeDialog() {
    if (!dialog) return;
    dialog.overlay.remove();
    dialog = null;
    document.removeEventListener("keydown", escape, true);
    emit("fullscreenOverlayHidden");
  }
  function button(id, label, primary, onClick) {
    var b = el("button", primary
      ? "background:#17120f;color:#fff;border:0;border-radius:6px;padding:10px 16px;font:inherit;cursor:pointer"
      : "background:#fff;color:#17120f;border:1px solid #17120f;border-radius:6px;padding:10px 16px;font:inherit;cursor:pointer", label);
    b.id = id;
    b.type = "button";
    b.addEventListener("click", onClick);
    return b;
  }
  function showChoice(d, message, confirmLabel, onConfirm, onClose) {
    d.body.textContent = message;
    d.actions.innerHTML = "";
    d.onEscape = onClose;
    d.actions.appendChild(button("klarna-sandbox-close", "Close", false, onClose));
    if (confirmLabel) {
      var c = button("klarna-sandbox-confirm", confirmLabel, true, onConfirm);
      d.actions.appendChild(c);
      c.focus();
    }
  }

  function splitArgs(data, callback) {
    if (typeof data === "function") return { data: {}, callback: data };
    return { data: data || {}, callback: typeof callback === "function" ? callback : function () {} };
  }
  function categoryOf(options) {
    return (options && (options.payment_method_category || (options.payment_method_categories || [])[0])) || null;
  }

  /* Runs the purchase dialog; `finish` gets the SDK callback object. */
  function purchase(category, data, autoFinalize, finish, stageConfirm) {
    var d = openDialog("Klarna \u00b7 sandbox");
    var closed = function (res) { closeDialog(); finish(res); };
    var aborted = function () { closed({ approved: false, show_form: true }); };
    d.onEscape = aborted;
    var common = { client_token: state.token, payment_method_category: category, auto_finalize: autoFinalize, data: data };
    post("/kp/authorize", Object.assign({ stage: "check" }, common)).then(function (r) {
      if (r.outcome === "invalid") {
        closed({ approved: false, show_form: true, error: { invalid_fields: r.invalid_fields } });
      } else if (r.outcome === "denied") {
        showChoice(d, "Sorry, Klarna can't approve this purchase. Please choose another payment method.", null, null,
          function () { closed({ approved: false, show_form: false }); });
      } else {
        var email = (data.billing_address && data.billing_address.email) || "";
        showChoice(d, "Pay " + money(r.order_amount, r.purchase_currency) + " with Klarna as " + email + "?", "Confirm and pay",
          function () {
            d.body.textContent = "Confirming\u2026";
            d.actions.innerHTML = "";
            stageConfirm(common).then(function (c) {
              if (c.outcome === "approved") closed({ approved: true, show_form: true, authorization_token: c.authorization_token });
              /* Approved in the bank's app: Klarna's callback, not the browser, gets the token. */
              else if (c.outcome === "approved_without_token") closed({ approved: true, show_form: true });
              else if (c.outcome === "finalize_required") closed({ approved: true, show_form: true, finalize_required: true });
              else closed({ approved: false, show_form: false });
            }, function () {
              showChoice(d, "We could not reach Klarna. Please try again.", null, null, aborted);
            });
          }, aborted);
      }
    }, function () {
      showChoice(d, "We could not reach Klarna. Please try again.", null, null, aborted);
    });
  }

  var Payments = {
    __sandbox: true,
    init: function (options) {
      var token = options && options.client_token;
      if (typeof token !== "string" || !/^[\w-]+\.[\w-]+\.[\w-]+$/.test(token)) {
        throw fail("InvalidClientTokenError", "client_token is not a JWT");
      }
      if (token !== state.token) { state.loaded = {}; state.pendingFinalize = {}; }
      state.token = token;
    },
    load: function (options, data, callback) {
      var a = splitArgs(data, callback);
      if (!state.token) throw fail("ApplicationNotInitializedError");
      var container = options && options.container;
      if (typeof container === "string") container = document.querySelector(container);
      if (!container || !container.appendChild) throw fail("InvalidContainerSelectorError");
      var category = categoryOf(options);
      if (!category) throw fail("PaymentMethodCategoryNotProvidedError");
      post("/kp/widget", { client_token: state.token }).then(function (info) {
        var cat = info.categories.filter(function (c) { return c.identifier === category; })[0];
        if (!cat) { a.callback({ show_form: false }); return; }
        var height = renderWidget(container, cat, info);
        state.loaded[category] = true;
        emit("heightChanged", height);
        a.callback({ show_form: true });
      }, function () {
        later(function () { a.callback({ show_form: false }); });
      });
    },
    authorize: function (options, data, callback) {
      probe.authorizeCalls++;
      var a = splitArgs(data, callback);
      var category = categoryOf(options);
      if (!state.token) throw fail("ApplicationNotInitializedError");
      if (!category) throw fail("PaymentMethodCategoryNotProvidedError");
      if (!state.loaded[category]) throw fail("ApplicationNotLoadedError");
      var autoFinalize = !(options && options.auto_finalize === false);
      purchase(category, a.data, autoFinalize, function (res) {
        if (res.finalize_required) state.pendingFinalize[category] = true;
        a.callback(res);
      }, function (common) { return post("/kp/authorize", Object.assign({ stage: "confirm" }, common)); });
    },
    reauthorize: function (options, data, callback) {
      var a = splitArgs(data, callback);
      var category = categoryOf(options);
      if (!state.token) throw fail("ApplicationNotInitializedError");
      if (!category) throw fail("PaymentMethodCategoryNotProvidedError");
      purchase(category, a.data, true, a.callback, function (common) {
        return post("/kp/authorize", Object.assign({ stage: "confirm" }, common));
      });
    },
    finalize: function (options, data, callback) {
      var a = splitArgs(data, callback);
      var category = categoryOf(options);
      if (!state.token) throw fail("ApplicationNotInitializedError");
      if (!category) throw fail("PaymentMethodCategoryNotProvidedError");
      if (!state.loaded[category]) throw fail("ApplicationNotLoadedError");
      purchase(category, a.data, true, function (res) {
        delete state.pendingFinalize[category];
        a.callback(res);
      }, function (common) {
        return post("/kp/finalize", { client_token: common.client_token, payment_method_category: category });
      });
    },
    on: function (name, handler) {
      if (EVENTS.indexOf(name) < 0) throw fail("EventNotSupportedError", name);
      state.handlers[name].push(handler);
    },
    off: function (name, handler) {
      if (EVENTS.indexOf(name) < 0) throw fail("EventNotSupportedError", name);
      state.handlers[name] = handler ? state.handlers[name].filter(function (h) { return h !== handler; }) : [];
    },
  };

  window.Klarna = window.Klarna || {};
  window.Klarna.Payments = Payments;
  /* The sandbox's own test probe (Klarna has none): how often the page called authorize(),
     counted synchronously, so a test reads it right after a click without waiting. */
  var probe = window.klarnaSandboxProbe = { authorizeCalls: 0 };
  later(function () {
    if (typeof window.klarnaAsyncCallback === "function") window.klarnaAsyncCallback();
  });
})();
