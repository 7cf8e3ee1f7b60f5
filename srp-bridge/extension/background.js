// The extension's background: Chromium's service worker, Firefox's event page (one file).
// It holds the native-messaging port to srp-bridge (the bridge lives as long as this port),
// keeps the routing rules, opens the login page when the bridge answers 401, and keeps the
// badge and icon of device tabs.
"use strict";

if (typeof SRP === "undefined") importScripts("addresses.js");

const api = globalThis.browser ?? globalThis.chrome;
const HOST = "tls_srp.bridge";
// The badge of a logged-in device's tab, on the green key icon (Firefox's badge clips "SRP").
const BADGE = "\u2713";
// Discovered hosts (TLS-SRP: port=N) get redirect rules from this id on, devices the user
// opens directly (no TLS-SRP there) allow rules from the other.
const DISCOVERED_RULES = 100;
const DIRECT_RULES = 1000;

let port = null;
let bridge = null; // {listen, token, version} from the bridge's status
let bridgeError = null; // why there is no bridge (connectNative failed, the bridge exited)
let ready = null; // a promise: the bridge connected and the rules set
let nextId = 1;
let keepAlive = null;
let restarts = 0; // bridges started in a row that ended before answering
const MAX_RESTARTS = 3;
const pending = new Map(); // id -> resolve
const devices = new Map(); // "host:port" -> the bridge's last device status
const discovered = new Map(); // "http host:port" -> TLS-SRP port
const direct = new Set(); // "host:port" opened without the bridge, for the browser session

function bridgePort() {
  return bridge ? +bridge.listen.slice(bridge.listen.lastIndexOf(":") + 1) : null;
}

function connect() {
  if (ready) return ready;
  ready = new Promise((resolve) => {
    try {
      port = api.runtime.connectNative(HOST);
    } catch (e) {
      bridgeError = String(e.message || e);
      ready = null;
      resolve(false);
      return;
    }
    port.onMessage.addListener(onBridgeMessage);
    port.onDisconnect.addListener((p) => {
      const error = (p && p.error) || api.runtime.lastError;
      bridgeError = error ? String(error.message || error) : bridgeError || "srp-bridge exited";
      port = null;
      bridge = null;
      clearInterval(keepAlive);
      ready = null;
      devices.clear();
      for (const resolve of pending.values()) resolve(null);
      pending.clear();
      resolve(false);
      refreshAllTabs();
      // No rules that send pages to a bridge that is gone; a new bridge (its logins are
      // gone with the old one) unless the last ones ended at once too.
      api.declarativeNetRequest
        .getSessionRules()
        .then((rules) =>
          api.declarativeNetRequest.updateSessionRules({ removeRuleIds: rules.map((r) => r.id) }),
        );
      if (++restarts <= MAX_RESTARTS) setTimeout(connect, 1000);
    });
    ask({ type: "status" }).then(async (reply) => {
      if (!reply || reply.type !== "status") {
        // listen-failed: another browser profile's bridge has the port.
        if (reply && reply.message) bridgeError = reply.message;
        return resolve(false);
      }
      restarts = 0;
      bridge = reply.bridge;
      bridgeError = null;
      for (const d of reply.devices) devices.set(d.device, d);
      try {
        await setRules();
      } catch (e) {
        bridgeError = `routing rules refused: ${e.message || e}`;
      }
      // Firefox suspends an idle event page (30 s), which would close the port and end the
      // bridge with its logins. Firefox 140 kept it with the port open in the test (40 s
      // idle, also without this); a message every 20 s keeps it awake where a version does
      // not. Chromium keeps a service worker with an open native port alive by itself.
      keepAlive = setInterval(() => ask({ type: "status" }), 20000);
      resolve(true);
    });
  });
  return ready;
}

function ask(message) {
  if (!port) return Promise.resolve(null);
  const id = nextId++;
  return new Promise((resolve) => {
    pending.set(id, resolve);
    port.postMessage({ ...message, id });
  });
}

function onBridgeMessage(message) {
  if (message.id !== undefined && pending.has(message.id)) {
    const resolve = pending.get(message.id);
    pending.delete(message.id);
    if (message.device && message.device.device) devices.set(message.device.device, message.device);
    resolve(message);
    return;
  }
  if (message.type === "needs-login" || message.type === "device-state") {
    devices.set(message.device.device, message.device);
    refreshDeviceTabs(message.device.device);
  }
}

async function setRules() {
  const rules = SRP.staticRules(bridgePort(), bridge.token);
  let id = DISCOVERED_RULES;
  for (const [from, to] of discovered) rules.push(discoveredRule(id++, from, to));
  id = DIRECT_RULES;
  for (const device of direct) rules.push(directRule(id++, device));
  const old = await api.declarativeNetRequest.getSessionRules();
  await api.declarativeNetRequest.updateSessionRules({
    removeRuleIds: old.map((r) => r.id),
    addRules: rules,
  });
}

// http://HOST[:P]/... -> the bridge name of HOST's TLS-SRP port.
function discoveredRule(id, from, tlsPort) {
  const i = from.lastIndexOf(":");
  const host = from.slice(0, i);
  const p = from.slice(i + 1);
  const esc = host.replace(/[.[\]]/g, "\\$&");
  const portPart = p === "80" ? "(?::80)?" : `:${p}`;
  const target = SRP.bridgeHost(`${host}:${tlsPort}`);
  return {
    id,
    priority: 1,
    action: {
      type: "redirect",
      redirect: { regexSubstitution: `http://${target}:${bridgePort()}\\1` },
    },
    condition: { regexFilter: `^http://${esc}${portPart}(/.*)$`, resourceTypes: ["main_frame"] },
  };
}

// https://HOST[:P]/ of a device the user chose to open without the bridge: an allow rule
// above the redirects.
function directRule(id, device) {
  const i = device.lastIndexOf(":");
  const host = device.slice(0, i).replace(/[.[\]]/g, "\\$&");
  const p = device.slice(i + 1);
  return {
    id,
    priority: 2,
    action: { type: "allow" },
    condition: {
      regexFilter: `^https://${host}${p === "443" ? "" : ":" + p}/`,
      resourceTypes: ["main_frame", "sub_frame"],
    },
  };
}

// The device's own https:// URL for a bridge URL.
function directUrl(device, bridgeUrl) {
  const u = new URL(bridgeUrl);
  const origin = device.endsWith(":443") ? device.slice(0, -4) : device;
  return `https://${origin}${u.pathname}${u.search}${u.hash}`;
}

// The device a tab shows through the bridge, or null.
function deviceOfUrl(url) {
  if (!url || !bridge) return null;
  let u;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol === "http:" && +u.port === bridgePort()) return SRP.deviceOfBridgeHost(u.hostname);
  if (u.origin === new URL(api.runtime.getURL("/")).origin && u.pathname === "/login.html") {
    return u.searchParams.get("device");
  }
  return null;
}

async function refreshTab(tab) {
  const device = deviceOfUrl(tab.url);
  const d = device && devices.get(device);
  const on = d && d.state === "logged-in" && !tab.url.startsWith(api.runtime.getURL("/"));
  const size = (n) => `icons/${on ? "srp" : "idle"}-${n}.png`;
  try {
    await api.action.setIcon({ tabId: tab.id, path: { 16: size(16), 32: size(32) } });
    await api.action.setBadgeText({ tabId: tab.id, text: on ? BADGE : "" });
    if (on) await api.action.setBadgeBackgroundColor({ tabId: tab.id, color: "#1f2328" });
    const title = on
      ? api.i18n.getMessage("actionTitleLoggedIn", [device, d.user])
      : api.i18n.getMessage("actionTitle");
    await api.action.setTitle({ tabId: tab.id, title });
  } catch {
    // The tab went away meanwhile.
  }
}

async function deviceTabs(device) {
  const tabs = await api.tabs.query({});
  return tabs.filter((t) => deviceOfUrl(t.url) === device);
}

async function refreshDeviceTabs(device) {
  for (const tab of await deviceTabs(device)) refreshTab(tab);
}

async function refreshAllTabs() {
  for (const tab of await api.tabs.query({})) refreshTab(tab);
}

function loginPage(device, url) {
  const q = new URLSearchParams({ device, url });
  return api.runtime.getURL("login.html") + "?" + q;
}

// The bridge answers 401 to a page of a device without a login: once that answer is in,
// the tab shows the login page instead (earlier, while the 401 page is still loading, a
// Firefox under load may keep the 401 page).
api.webRequest.onCompleted.addListener(
  async (details) => {
    if (details.statusCode !== 401 || details.tabId < 0 || !(await connect())) return;
    const device = deviceOfUrl(details.url);
    if (device) api.tabs.update(details.tabId, { url: loginPage(device, details.url) });
  },
  { urls: ["http://*.localhost/*"], types: ["main_frame"] },
);

// Device discovery (docs/device.md): `TLS-SRP: port=N` on a plain-HTTP answer from a local
// address sends the tab, and later visits of that host, to its TLS-SRP port via the bridge.
api.webRequest.onResponseStarted.addListener(
  async (details) => {
    if (details.tabId < 0 || !SRP.isLocalIp(details.ip)) return;
    const header = (details.responseHeaders || []).find((h) => h.name.toLowerCase() === "tls-srp");
    const tlsPort = header && SRP.parseTlsSrpHeader(header.value);
    const u = new URL(details.url);
    if (!tlsPort || u.hostname.endsWith(".localhost")) return;
    if (!(await connect())) return;
    const from = SRP.deviceOf(u.hostname, u.port, 80);
    if (!discovered.has(from)) {
      discovered.set(from, tlsPort);
      await setRules();
    }
    api.tabs.update(details.tabId, { url: SRP.bridgeUrl(details.url, bridgePort(), tlsPort) });
  },
  { urls: ["http://*/*"], types: ["main_frame"] },
  ["responseHeaders"],
);

// https:// to a local IPv6 literal: the bridge name needs ':' made '-', which a
// declarativeNetRequest rule cannot write, so the tab is sent there from here: when the
// request starts, and again if the browser's own attempt (no TLS-SRP) failed and won the race.
function ipv6ToBridge(details) {
  const u = new URL(details.url);
  if (details.tabId < 0 || !u.hostname.startsWith("[") || !SRP.isLocalHost(u.hostname)) return;
  connect().then((ok) => {
    if (ok) api.tabs.update(details.tabId, { url: SRP.bridgeUrl(details.url, bridgePort()) });
  });
}
const HTTPS_PAGES = { urls: ["https://*/*"], types: ["main_frame"] };
api.webRequest.onBeforeRequest.addListener(ipv6ToBridge, HTTPS_PAGES);
api.webRequest.onErrorOccurred.addListener((details) => {
  // Not when the tab's move to the bridge is what cancelled the request.
  if (!/ABORTED/.test(details.error)) ipv6ToBridge(details);
}, HTTPS_PAGES);

api.tabs.onUpdated.addListener((tabId, change, tab) => {
  if (change.url || change.status === "complete") refreshTab(tab);
});

// From the extension's pages (login, popup). The password arrives here from the login page
// and goes on to the bridge over native messaging, nowhere else.
api.runtime.onMessage.addListener((message, sender, sendResponse) => {
  if (sender.id !== api.runtime.id) return false;
  handle(message).then(sendResponse, (e) => sendResponse({ error: String(e) }));
  return true;
});

async function handle(message) {
  const connected = await connect();
  if (message.type === "status") {
    const device = message.device || (message.url && deviceOfUrl(message.url));
    return {
      connected,
      bridge,
      bridgeError,
      device: device ? devices.get(device) || { device, state: "logged-out" } : null,
    };
  }
  if (!connected) return { connected, bridgeError };
  if (message.type === "login") {
    const reply = await ask({
      type: "login",
      device: message.device,
      user: message.user,
      password: message.password,
    });
    if (reply && reply.device) refreshDeviceTabs(message.device);
    return reply;
  }
  if (message.type === "logout") {
    const reply = await ask({ type: "logout", device: message.device });
    // The device's tabs ask again: reloading a page of the device gets the bridge's 401,
    // which opens the login page.
    for (const tab of await deviceTabs(message.device)) {
      if (tab.url.startsWith(api.runtime.getURL("/"))) continue;
      await api.tabs.reload(tab.id);
    }
    return reply;
  }
  if (message.type === "open-directly") {
    // The device does not speak TLS-SRP: the user opens it with its certificate, as without
    // the extension, until the browser restarts.
    direct.add(message.device);
    await setRules();
    return { url: directUrl(message.device, message.url) };
  }
  if (message.type === "open-popup") {
    // For tests: the real toolbar popup, where the browser allows opening it from here.
    await api.action.openPopup();
    return {};
  }
  return { error: "unknown message" };
}

connect().then(refreshAllTabs);
