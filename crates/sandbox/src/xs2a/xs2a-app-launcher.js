/* Klarna sandbox: a stand-in for https://x.klarnacdn.net/xs2a/app-launcher/v0/xs2a-app-launcher.js.
 * Implements the documented XS2A App API, asynchronously like the real script: once loaded it
 * sets window.XS2A = {configure(options), startFlow(client_token, overrideOptions), close()} and
 * then calls window.onXS2AReady(XS2A) if defined. Options: onLoad(), onReady(), onAbort(error?),
 * onError(error), onFinished(), onClose(), autoClose (default true: close after the flow
 * finished; an error stays on screen until the consumer closes it); appearanceMode,
 * hideTransitionOnFlowEnd, openPoliciesInNewWindow, psd2RedirectMethod, skipInitialLoader, theme
 * and unfoldConsentDetails are accepted and ignored. Klarna's app is an iframe; this one is drawn
 * in the page. The test bank's answers come from the sandbox at <base>/xs2a/app/{client_token}.
 *
 * Callbacks: onLoad when the overlay opens, onReady when its first step is shown, onFinished
 * after the flow is FINISHED on the server, onAbort() after the consumer closed a running flow
 * (Close button or Escape; the flow is ABORTED on the server first), onAbort({message}) when the
 * server ended the flow (session closed or timed out), onError({message}) when the flow ends in
 * EXCEPTION (e.g. username bank-maintenance, three failed logins), onClose whenever the overlay
 * goes away. XS2A.close() removes the overlay (aborting a running flow) and calls only onClose.
 *
 * Undocumented endings, chosen by a test through the sandbox's /_control/xs2a/launcher-endings
 * and read from the dialog's state (`launcher_endings`): "close_first" calls onClose before
 * onFinished for a finished flow; "finish_unfinished" calls onFinished (then closes as autoClose
 * does) as soon as the login is submitted (TAN or banking-app step), before the bank finished;
 * "error_without_argument" calls onError() with no argument at that point and leaves the
 * window open until the page or the consumer closes it. Either way the flow itself keeps
 * running on the server: only the page's server can end it.
 *
 * Element ids (stable, for end-to-end tests):
 *   xs2a-sandbox-overlay        backdrop; present while the app is open
 *   xs2a-sandbox-dialog         role=dialog, aria-modal=true; data-step = loading | country | bank |
 *                               login | otp | decoupled | finished | exception | aborted
 *   xs2a-sandbox-title          the dialog's heading (aria-labelledby of the dialog)
 *   xs2a-sandbox-message        aria-live region: errors and progress
 *   xs2a-sandbox-form           the current step's form
 *   xs2a-sandbox-country        country <select> (Germany)
 *   xs2a-sandbox-bank-search    bank search field
 *   xs2a-sandbox-bank-88888888  the Demo Bank in the bank list (xs2a-sandbox-bank-<bank code>)
 *   xs2a-sandbox-username       login: username
 *   xs2a-sandbox-password       login: password
 *   xs2a-sandbox-otp            TAN
 *   xs2a-sandbox-submit         the step's primary button (Continue, Log in, Confirm, Done)
 *   xs2a-sandbox-close          Close (top right): aborts a running flow, like Escape
 */
(function () {
  "use strict";
  function later(fn) { setTimeout(fn, 0); }
  function announceReady() {
    later(function () {
      if (typeof window.onXS2AReady === "function") window.onXS2AReady(window.XS2A);
    });
  }
  if (window.XS2A && window.XS2A.__sandbox) { announceReady(); return; }

  var src = (document.currentScript && document.currentScript.src) || "";
  var base = src.replace(/\/xs2a\/app-launcher\/v0\/xs2a-app-launcher\.js.*$/, "");
  var CALLBACKS = ["onLoad", "onReady", "onAbort", "onError", "onFinished", "onClose"];
  var IGNORED = ["appearanceMode", "autoClose", "hideTransitionOnFlowEnd", "openPoliciesInNewWindow",
    "psd2RedirectMethod", "skipInitialLoader", "theme", "unfoldConsentDetails"];
  var TERMINAL = { finished: true, exception: true, aborted: true };
  var POLL_MS = 500;
  var defaults = { autoClose: true };
  var app = null;
  /* The app speaks the session's language (`language`), as Klarna's does; English is the key. */
  var lang = "en";
  var DE = {
    "Connect your bank account": "Bankkonto verbinden",
    "Close": "Schließen",
    "We could not reach your bank: ": "Ihre Bank ist nicht erreichbar: ",
    "We could not reach your bank. Please try again.": "Ihre Bank ist nicht erreichbar. Bitte versuchen Sie es erneut.",
    "Choose your country": "Land wählen",
    "Country": "Land",
    "Continue": "Weiter",
    "Choose your bank": "Bank wählen",
    "Search by bank name or bank code": "Nach Bankname oder Bankleitzahl suchen",
    "Banks": "Banken",
    "Choose a bank from the list.": "Wählen Sie eine Bank aus der Liste.",
    "Log in to ": "Anmelden bei ",
    "your bank": "Ihrer Bank",
    "Username": "Benutzername",
    "Password": "Passwort",
    "Test bank: username \u201cembedded\u201d, password 12345.": "Testbank: Benutzername \u201eembedded\u201c, Passwort 12345.",
    "Log in": "Anmelden",
    "Confirm with your TAN": "Mit TAN bestätigen",
    "Test bank: TAN 12345.": "Testbank: TAN 12345.",
    "Confirm": "Bestätigen",
    "Approve in your banking app": "In Ihrer Banking-App freigeben",
    "Open your banking app and approve the login. This window continues by itself.": "Öffnen Sie Ihre Banking-App und geben Sie die Anmeldung frei. Dieses Fenster geht von selbst weiter.",
    "Waiting for your approval\u2026": "Warten auf Ihre Freigabe \u2026",
    "Bank account connected": "Bankkonto verbunden",
    "Your bank account is connected. You can close this window.": "Ihr Bankkonto ist verbunden. Sie können dieses Fenster schließen.",
    "Connection failed": "Verbindung fehlgeschlagen",
    "Your bank account could not be connected.": "Ihr Bankkonto konnte nicht verbunden werden.",
    "Connection cancelled": "Verbindung abgebrochen",
    "The connection was cancelled.": "Die Verbindung wurde abgebrochen.",
    "Done": "Fertig"
  };
  function tx(text) { return (lang === "de" && DE[text]) || text; }

  function pick(target, options) {
    if (!options || typeof options !== "object") return target;
    CALLBACKS.concat(IGNORED).forEach(function (k) {
      if (options[k] !== undefined) target[k] = options[k];
    });
    return target;
  }
  function fire(options, name, arg) {
    var f = options[name];
    if (typeof f !== "function") return;
    try { if (arguments.length > 2) f(arg); else f(); } catch (e) { setTimeout(function () { throw e; }); }
  }
  function el(tag, style, text) {
    var n = document.createElement(tag);
    if (style) n.setAttribute("style", style);
    if (text != null) n.textContent = text;
    return n;
  }
  var INPUT = "display:block;width:100%;box-sizing:border-box;margin:4px 0 12px;padding:10px;border:1px solid #8a8a93;border-radius:6px;font:inherit;color:inherit;background:#fff";
  var PRIMARY = "background:#17120f;color:#fff;border:0;border-radius:6px;padding:10px 16px;font:inherit;cursor:pointer;width:100%";
  function field(id, label, type, attrs) {
    var wrap = el("div");
    var l = el("label", "font-weight:600", label);
    l.setAttribute("for", id);
    var i = el(type === "select" ? "select" : "input", INPUT);
    i.id = id;
    if (type !== "select") i.type = type;
    Object.keys(attrs || {}).forEach(function (k) { i.setAttribute(k, attrs[k]); });
    wrap.appendChild(l);
    wrap.appendChild(i);
    return { wrap: wrap, input: i };
  }
  function primary(label) {
    var b = el("button", PRIMARY, label);
    b.id = "xs2a-sandbox-submit";
    b.type = "submit";
    return b;
  }

  function request(a, method, path, body) {
    var init = { method: method, headers: {} };
    if (body) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
    return fetch(base + "/xs2a/app/" + encodeURIComponent(a.token) + path, init).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (!r.ok) {
          var e = new Error((j.error && j.error.message) || ("HTTP " + r.status));
          e.status = r.status;
          throw e;
        }
        return j;
      });
    });
  }

  function focusables(a) {
    return Array.prototype.filter.call(
      a.dialog.querySelectorAll("button, input, select, [tabindex]:not([tabindex='-1'])"),
      function (n) { return !n.disabled && n.offsetParent !== null; });
  }
  function onKey(ev) {
    var a = app;
    if (!a) return;
    if (ev.key === "Escape") { ev.preventDefault(); userClose(a); return; }
    if (ev.key !== "Tab") return;
    var list = focusables(a);
    if (!list.length) return;
    var first = list[0], last = list[list.length - 1];
    if (!a.dialog.contains(document.activeElement)) { ev.preventDefault(); first.focus(); }
    else if (ev.shiftKey && document.activeElement === first) { ev.preventDefault(); last.focus(); }
    else if (!ev.shiftKey && document.activeElement === last) { ev.preventDefault(); first.focus(); }
  }

  function open(token, options) {
    var overlay = el("div", "position:fixed;inset:0;background:rgba(23,18,15,.55);display:flex;align-items:center;justify-content:center;z-index:2147483647");
    overlay.id = "xs2a-sandbox-overlay";
    var dialog = el("div", "position:relative;background:#fff;color:#17120f;border-radius:12px;padding:24px;width:min(380px,92vw);max-height:92vh;overflow:auto;box-sizing:border-box;font:15px/1.45 system-ui,sans-serif;box-shadow:0 8px 32px rgba(0,0,0,.3)");
    dialog.id = "xs2a-sandbox-dialog";
    dialog.setAttribute("role", "dialog");
    dialog.setAttribute("aria-modal", "true");
    dialog.setAttribute("aria-labelledby", "xs2a-sandbox-title");
    dialog.setAttribute("data-step", "loading");
    dialog.tabIndex = -1;
    var title = el("h2", "margin:0 40px 4px 0;font-size:19px", tx("Connect your bank account"));
    title.id = "xs2a-sandbox-title";
    var close = el("button", "position:absolute;top:14px;right:14px;background:none;border:1px solid transparent;border-radius:6px;font:22px/1 system-ui,sans-serif;padding:4px 8px;cursor:pointer;color:inherit", "\u00d7");
    close.id = "xs2a-sandbox-close";
    close.type = "button";
    close.setAttribute("aria-label", tx("Close"));
    var message = el("p", "margin:0 0 12px;min-height:1.45em;color:#b00020;font-weight:600");
    message.id = "xs2a-sandbox-message";
    message.setAttribute("aria-live", "polite");
    message.setAttribute("aria-atomic", "true");
    var body = el("div");
    dialog.appendChild(title);
    dialog.appendChild(close);
    dialog.appendChild(el("p", "margin:0 0 8px;color:#555;font-size:13px", "Open Banking by Klarna \u00b7 sandbox"));
    dialog.appendChild(message);
    dialog.appendChild(body);
    overlay.appendChild(dialog);
    var a = {
      token: token, options: options, overlay: overlay, dialog: dialog, title: title,
      message: message, body: body, step: "loading", ended: false, ready: false, poll: null,
      previousFocus: document.activeElement,
    };
    close.addEventListener("click", function () { userClose(a); });
    app = a;
    document.body.appendChild(overlay);
    document.addEventListener("keydown", onKey, true);
    dialog.focus();
    fire(options, "onLoad");
    refresh(a);
  }

  function refresh(a) {
    request(a, "GET", "").then(function (view) { show(a, view); }, function (e) {
      if (app !== a) return;
      a.message.textContent = tx("We could not reach your bank: ") + e.message;
      if (e.status === 404) end(a, "exception", e.message);
    });
  }

  function remove(a) {
    if (a.poll) { clearTimeout(a.poll); a.poll = null; }
    if (app !== a) return false;
    app = null;
    a.overlay.remove();
    document.removeEventListener("keydown", onKey, true);
    if (a.previousFocus && a.previousFocus.focus && document.contains(a.previousFocus)) a.previousFocus.focus();
    return true;
  }

  /* The consumer closes: a running flow is aborted on the server before onAbort. */
  function userClose(a) {
    if (app !== a) return;
    if (a.ended || TERMINAL[a.step]) {
      if (remove(a)) fire(a.options, "onClose");
      return;
    }
    a.ended = true;
    var done = function () {
      remove(a);
      fire(a.options, "onAbort");
      fire(a.options, "onClose");
    };
    request(a, "POST", "/abort").then(done, done);
  }

  /* The flow ended on the server: tell the integrator once. */
  function end(a, step, message) {
    if (a.ended) return;
    a.ended = true;
    if (step === "finished" && a.endings === "close_first") {
      if (remove(a)) fire(a.options, "onClose");
      fire(a.options, "onFinished");
    } else if (step === "finished") {
      fire(a.options, "onFinished");
      if (a.options.autoClose !== false && remove(a)) fire(a.options, "onClose");
    } else if (step === "exception") {
      fire(a.options, "onError", { message: message || "The bank reported an error." });
    } else {
      fire(a.options, "onAbort", { message: message || "The flow was aborted." });
    }
  }

  /* The test's undocumented ending once the login is submitted: the flow keeps running. */
  function endEarly(a) {
    if (a.ended) return;
    if (a.endings === "finish_unfinished") {
      a.ended = true;
      fire(a.options, "onFinished");
      if (a.options.autoClose !== false && remove(a)) fire(a.options, "onClose");
    } else if (a.endings === "error_without_argument") {
      a.ended = true;
      fire(a.options, "onError");
    }
  }

  function submitForm(a, build, send) {
    var form = el("form");
    form.id = "xs2a-sandbox-form";
    form.noValidate = true;
    build(form);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var button = form.querySelector("#xs2a-sandbox-submit");
      if (button) button.disabled = true;
      a.dialog.setAttribute("aria-busy", "true");
      send().then(function (view) {
        a.dialog.removeAttribute("aria-busy");
        show(a, view);
      }, function (e) {
        a.dialog.removeAttribute("aria-busy");
        if (app !== a) return;
        if (button) button.disabled = false;
        a.message.textContent = e.status === undefined ? tx("We could not reach your bank. Please try again.") : e.message;
        if (e.status) refresh(a);
      });
    });
    a.body.appendChild(form);
    return form;
  }

  function show(a, view) {
    if (app !== a) return;
    lang = view.language || "en";
    a.endings = view.launcher_endings || "as_documented";
    var step = view.step;
    var same = step === a.step;
    a.step = step;
    a.dialog.setAttribute("data-step", step);
    a.message.textContent = view.error || "";
    if (step === "decoupled" && same) { schedulePoll(a); return; }
    if (same && !TERMINAL[step] && a.body.firstChild) {
      /* Input refused (wrong password or TAN): keep what was typed, clear the secret, retry. */
      var again = a.body.querySelector("#xs2a-sandbox-submit");
      if (again) again.disabled = false;
      var secret = a.body.querySelector("#xs2a-sandbox-password, #xs2a-sandbox-otp");
      if (secret) { secret.value = ""; secret.focus(); }
      return;
    }
    a.body.innerHTML = "";
    var focus = null;
    if (step === "country") {
      a.title.textContent = tx("Choose your country");
      submitForm(a, function (form) {
        var f = field("xs2a-sandbox-country", tx("Country"), "select");
        (view.countries || []).forEach(function (c) {
          var o = el("option", null, c.name);
          o.value = c.country_code;
          f.input.appendChild(o);
        });
        form.appendChild(f.wrap);
        form.appendChild(primary(tx("Continue")));
        focus = f.input;
      }, function () {
        return request(a, "POST", "/country", { country_code: document.getElementById("xs2a-sandbox-country").value });
      });
    } else if (step === "bank") {
      a.title.textContent = tx("Choose your bank");
      submitForm(a, function (form) {
        var f = field("xs2a-sandbox-bank-search", tx("Search by bank name or bank code"), "search", { autocomplete: "off" });
        var list = el("ul", "list-style:none;margin:0;padding:0");
        list.setAttribute("aria-label", tx("Banks"));
        var buttons = (view.banks || []).map(function (b) {
          var li = el("li");
          var btn = el("button", "display:block;width:100%;text-align:left;background:#fff;color:inherit;border:1px solid #d0d0d5;border-radius:6px;padding:10px 12px;margin:0 0 8px;font:inherit;cursor:pointer",
            b.bank_name + " (" + b.bank_code + ")");
          btn.type = "button";
          btn.id = "xs2a-sandbox-bank-" + b.bank_code;
          btn.setAttribute("data-search", (b.bank_name + " " + b.bank_code).toLowerCase());
          btn.addEventListener("click", function () { chooseBank(a, b.bank_code); });
          li.appendChild(btn);
          list.appendChild(li);
          return btn;
        });
        f.input.addEventListener("input", function () {
          var q = f.input.value.trim().toLowerCase();
          buttons.forEach(function (btn) {
            btn.parentNode.style.display = btn.getAttribute("data-search").indexOf(q) >= 0 ? "" : "none";
          });
        });
        form.appendChild(f.wrap);
        form.appendChild(list);
        focus = f.input;
      }, function () {
        var visible = Array.prototype.filter.call(a.body.querySelectorAll("li"), function (li) { return li.style.display !== "none"; });
        if (visible.length !== 1) return Promise.reject(Object.assign(new Error(tx("Choose a bank from the list.")), { status: 0 }));
        return request(a, "POST", "/bank", { bank_code: visible[0].firstChild.id.replace("xs2a-sandbox-bank-", "") });
      });
    } else if (step === "login") {
      a.title.textContent = tx("Log in to ") + ((view.bank && view.bank.bank_name) || tx("your bank"));
      submitForm(a, function (form) {
        var u = field("xs2a-sandbox-username", tx("Username"), "text", { autocomplete: "username", autocapitalize: "none", spellcheck: "false" });
        var p = field("xs2a-sandbox-password", tx("Password"), "password", { autocomplete: "current-password" });
        form.appendChild(u.wrap);
        form.appendChild(p.wrap);
        form.appendChild(el("p", "margin:0 0 12px;color:#555;font-size:13px", tx("Test bank: username \u201cembedded\u201d, password 12345.")));
        form.appendChild(primary(tx("Log in")));
        focus = u.input;
      }, function () {
        return request(a, "POST", "/login", {
          username: document.getElementById("xs2a-sandbox-username").value,
          password: document.getElementById("xs2a-sandbox-password").value,
        });
      });
    } else if (step === "otp") {
      a.title.textContent = tx("Confirm with your TAN");
      submitForm(a, function (form) {
        var t = field("xs2a-sandbox-otp", "TAN", "text", { autocomplete: "one-time-code", inputmode: "numeric" });
        form.appendChild(t.wrap);
        form.appendChild(el("p", "margin:0 0 12px;color:#555;font-size:13px", tx("Test bank: TAN 12345.")));
        form.appendChild(primary(tx("Confirm")));
        focus = t.input;
      }, function () {
        return request(a, "POST", "/otp", { otp: document.getElementById("xs2a-sandbox-otp").value });
      });
    } else if (step === "decoupled") {
      a.title.textContent = tx("Approve in your banking app");
      a.body.appendChild(el("p", "margin:0 0 12px", tx("Open your banking app and approve the login. This window continues by itself.")));
      var status = el("p", "margin:0;color:#555", tx("Waiting for your approval\u2026"));
      status.setAttribute("role", "status");
      a.body.appendChild(status);
      schedulePoll(a);
    } else {
      var texts = {
        finished: [tx("Bank account connected"), tx("Your bank account is connected. You can close this window.")],
        exception: [tx("Connection failed"), tx("Your bank account could not be connected.")],
        aborted: [tx("Connection cancelled"), tx("The connection was cancelled.")],
      }[step] || [tx("Connect your bank account"), ""];
      a.title.textContent = texts[0];
      submitForm(a, function (form) {
        form.appendChild(el("p", "margin:0 0 12px", texts[1]));
        form.appendChild(primary(tx("Done")));
        focus = form.querySelector("#xs2a-sandbox-submit");
      }, function () {
        if (remove(a)) fire(a.options, "onClose");
        return new Promise(function () {});
      });
      end(a, step, view.error);
      if (app !== a) return;
    }
    if (!a.ready) { a.ready = true; fire(a.options, "onReady"); }
    if (focus && app === a) focus.focus();
    if (step === "otp" || step === "decoupled") endEarly(a);
  }

  function chooseBank(a, code) {
    request(a, "POST", "/bank", { bank_code: code }).then(function (view) { show(a, view); }, function (e) {
      if (app === a) a.message.textContent = e.message;
    });
  }

  function schedulePoll(a) {
    if (a.poll) clearTimeout(a.poll);
    a.poll = setTimeout(function () {
      a.poll = null;
      if (app === a) refresh(a);
    }, POLL_MS);
  }

  var XS2A = {
    __sandbox: true,
    configure: function (options) { pick(defaults, options); },
    startFlow: function (clientToken, overrideOptions) {
      if (typeof clientToken !== "string" || !clientToken) throw new Error("XS2A.startFlow: client_token is required");
      if (app) throw new Error("XS2A.startFlow: a flow is already shown");
      var options = pick(pick({}, defaults), overrideOptions);
      open(clientToken, options);
    },
    close: function () {
      var a = app;
      if (!a) return;
      if (!a.ended && !TERMINAL[a.step]) { a.ended = true; request(a, "POST", "/abort").catch(function () {}); }
      if (remove(a)) fire(a.options, "onClose");
    },
  };

  window.XS2A = XS2A;
  announceReady();
})();
