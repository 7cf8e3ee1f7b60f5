// Shared by the extension's pages: the browser namespace and the page's strings.
"use strict";

const api = globalThis.browser ?? globalThis.chrome;

function t(name, subs) {
  return api.i18n.getMessage(name, subs) || name;
}

// Elements with data-i18n="name" get that message as their text.
function localize() {
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
}

// The text for a device state from the bridge (srp-bridge/README.md, "Control").
function stateText(d) {
  const known = {
    "logged-out": "stateLoggedOut",
    "logged-in": "stateLoggedIn",
    unreachable: "stateUnreachable",
    "not-tls-srp": "stateNotTlsSrp",
    "wrong-password": "stateWrongPassword",
    "group-too-small": "stateGroupTooSmall",
    "hostile-device": "stateHostileDevice",
  };
  const text = t(known[d.state] || "stateFailed", [d.device]);
  return d.message && !known[d.state] ? `${text} (${d.message})` : text;
}
