// The login page: the tab of a device the bridge has no login for shows this. The password
// goes to the background, which gives it to srp-bridge over native messaging.
"use strict";

const params = new URLSearchParams(location.search);
const device = params.get("device");
// Where to go after the login: only a page of this device on the bridge.
const target = (() => {
  try {
    const u = new URL(params.get("url"));
    if (u.protocol === "http:" && u.hostname === SRP.bridgeHost(device)) return u.href;
  } catch {
    // no URL: the device's first page below
  }
  return null;
})();

function show(d) {
  const state = document.getElementById("state");
  document.body.dataset.state = d.state;
  // Only the states a login attempt can end in are shown as an error here.
  state.hidden = d.state === "logged-out" || (d.state === "logged-in" && target);
  state.textContent = stateText(d);
  // A device without TLS-SRP on this port can still be opened as it is, with its certificate.
  document.getElementById("direct").hidden = d.state !== "not-tls-srp";
}

document.getElementById("open-directly").addEventListener("click", async () => {
  const reply = await api.runtime.sendMessage({ type: "open-directly", device, url: target });
  if (reply && reply.url) location.replace(reply.url);
});

async function init() {
  localize();
  document.title = t("loginTitle") + " " + device;
  document.getElementById("device").textContent = device;
  const status = await api.runtime.sendMessage({ type: "status", device });
  if (!status.connected) {
    show({ device, state: "failed", message: status.bridgeError });
    document.body.dataset.state = "no-bridge";
  } else if (status.device) {
    show(status.device);
  }
  // The user of the last login (e.g. the password was changed on the device): only the
  // password to type again.
  const user = document.getElementById("user");
  if (status.device && status.device.user) user.value = status.device.user;
  (user.value ? document.getElementById("password") : user).focus();
  document.body.dataset.ready = "1";
}

document.getElementById("form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const user = document.getElementById("user").value;
  const field = document.getElementById("password");
  const password = field.value;
  field.value = "";
  document.getElementById("submit").disabled = true;
  document.body.dataset.state = "logging-in";
  const reply = await api.runtime.sendMessage({ type: "login", device, user, password });
  document.getElementById("submit").disabled = false;
  const d = reply && reply.device;
  if (d && d.state === "logged-in" && target) {
    location.replace(target);
    return;
  }
  show(d || { device, state: "failed", message: (reply && (reply.message || reply.error)) || "" });
  field.focus();
});

init();
