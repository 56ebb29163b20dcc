/* The demo storefront's own script (embed/storefront.html): the page may run no inline script,
 * so what it needs lives here. Loaded before the checkout, it records from the start:
 * window.cspViolations   every Content-Security-Policy violation ("directive blocked-uri"),
 * window.checkoutEvents  the checkout's DOM events by name,
 * window.failedLoads     scripts, stylesheets and images that failed to load (their URL). */
(function () {
  "use strict";
  window.cspViolations = [];
  window.checkoutEvents = [];
  window.failedLoads = [];
  document.addEventListener("securitypolicyviolation", function (e) {
    window.cspViolations.push(e.effectiveDirective + " " + e.blockedURI);
  });
  ["ready", "order-created", "order-pending", "cancel", "error"].forEach(function (name) {
    document.addEventListener("klarna-checkout:" + name, function () {
      window.checkoutEvents.push(name);
    });
  });
  /* Load errors do not bubble; the capturing listener on window sees them. */
  window.addEventListener("error", function (e) {
    var t = e.target;
    if (t && t !== window && (t.src || t.href)) window.failedLoads.push(t.src || t.href);
  }, true);
})();
