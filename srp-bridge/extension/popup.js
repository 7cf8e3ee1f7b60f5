// The toolbar popup: the device of the current tab, the user, and that the device proved it
// knows the password; "Log out". Opened as popup.html?device=HOST:PORT (the tests do) it
// shows that device instead of the current tab's.
"use strict";

async function init() {
  localize();
  const params = new URLSearchParams(location.search);
  let message = { type: "status" };
  let tabId = null;
  if (params.get("device")) {
    message.device = params.get("device");
  } else {
    const [tab] = await api.tabs.query({ active: true, currentWindow: true });
    if (tab) ({ url: message.url, id: tabId } = tab);
  }
  const status = await api.runtime.sendMessage(message);
  const d = status.device;
  const body = document.body;
  const heading = document.getElementById("heading");
  const text = document.getElementById("text");
  body.dataset.state = d ? d.state : status.connected ? "no-device" : "no-bridge";
  if (!status.connected) {
    heading.textContent = t("popupNoBridge");
    text.textContent = status.bridgeError || "";
  } else if (!d) {
    heading.textContent = t("popupNoDevice");
    text.textContent = t("popupBridge", [status.bridge.listen]);
  } else {
    document.getElementById("facts").hidden = false;
    document.getElementById("device").textContent = d.device;
    body.dataset.device = d.device;
    if (d.state === "logged-in") {
      heading.textContent = t("popupLoggedIn");
      document.getElementById("icon").src = "icons/srp-32.png";
      document.getElementById("user").textContent = d.user;
      body.dataset.user = d.user;
      text.textContent = t("popupProved", [String(d.group_bits)]);
      const logout = document.getElementById("logout");
      logout.hidden = false;
      logout.addEventListener("click", async () => {
        logout.disabled = true;
        await api.runtime.sendMessage({ type: "logout", device: d.device });
        body.dataset.state = "logged-out";
        heading.textContent = t("popupLoggedOut");
        text.textContent = t("stateLoggedOut", [d.device]);
        logout.hidden = true;
      });
    } else {
      heading.textContent = t("popupNotLoggedIn");
      document.getElementById("user").textContent = "-";
      text.textContent = stateText(d);
    }
  }
  // The tab's badge, for the tests (what the toolbar shows for that tab).
  if (tabId === null && d) {
    const name = `//${SRP.bridgeHost(d.device)}:`;
    const tab = (await api.tabs.query({})).find((x) => x.url && x.url.includes(name));
    if (tab) tabId = tab.id;
  }
  if (tabId !== null) body.dataset.badge = await api.action.getBadgeText({ tabId });
  body.dataset.ready = "1";
}

init();
