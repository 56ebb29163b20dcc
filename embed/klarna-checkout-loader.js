// One script for storefronts: <script type="module" src=".../klarna-checkout-loader.js"></script>
// Loads the component's stylesheet and WebAssembly from next to this file, then turns every
// <klarna-checkout> element of the page into a checkout.
import init from "./klarna-checkout.js";

const css = new URL("./checkout.css", import.meta.url).href;
if (!document.querySelector(`link[href="${css}"]`)) {
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = css;
  document.head.appendChild(link);
}
init();
