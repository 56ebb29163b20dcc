// One script for storefronts: <script type="module" src=".../klarna-checkout-loader.js"></script>
// Loads the component's stylesheet and WebAssembly from next to this file, then turns every
// <klarna-checkout> element of the page into a checkout. A script that mounts checkouts itself
// waits for `ready`:  import { ready } from ".../klarna-checkout-loader.js";
//                     const KlarnaCheckout = await ready; KlarnaCheckout.mount(el, { cart });
import init from "./klarna-checkout.js";

const css = new URL("./checkout.css", import.meta.url).href;
if (!document.querySelector(`link[href="${css}"]`)) {
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = css;
  document.head.appendChild(link);
}
/** `window.KlarnaCheckout`, once the component runs. */
export const ready = init().then(() => window.KlarnaCheckout);

