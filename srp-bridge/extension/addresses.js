// Device addresses and bridge names (no browser API here: node's test runner loads this file
// too). A device HOST:PORT is reached through srp-bridge at http://HOST.PORT.localhost:BRIDGE/
// (srp-bridge/README.md, "How a device is addressed").
"use strict";

const SRP = (() => {
  // Private, loopback and link-local IPv4 (RFC 1918, RFC 1122, RFC 3927), one octet a group.
  const OCTET = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
  const IPV4_LOCAL =
    `(?:10(?:\\.${OCTET}){3}|127(?:\\.${OCTET}){3}|192\\.168(?:\\.${OCTET}){2}` +
    `|169\\.254(?:\\.${OCTET}){2}|172\\.(?:1[6-9]|2\\d|3[01])(?:\\.${OCTET}){2})`;
  // Names only a local network resolves: mDNS (.local), RFC 8375 (.home.arpa), localhost.
  const NAME_LOCAL = "(?:(?:[a-z0-9-]+\\.)+(?:local|home\\.arpa)|localhost)";
  const HOST_LOCAL = `(?:${IPV4_LOCAL}|${NAME_LOCAL})`;

  const ALL_TYPES = ["main_frame", "sub_frame", "stylesheet", "script", "image", "font",
    "object", "xmlhttprequest", "ping", "csp_report", "media", "websocket", "other"];

  function ipv4Local(host) {
    return new RegExp(`^${IPV4_LOCAL}$`).test(host);
  }

  // Loopback (::1), link-local (fe80::/10), unique-local (fc00::/7); host without brackets.
  function ipv6Local(host) {
    const h = host.toLowerCase();
    if (!h.includes(":") || h.includes("%")) return false;
    if (h === "::1") return true;
    return /^fe[89ab][0-9a-f]?:/.test(h) || /^f[cd][0-9a-f]{0,2}:/.test(h);
  }

  // A URL's hostname (IPv6 in brackets, as URL.hostname gives it) is a device address.
  function isLocalHost(hostname) {
    const h = hostname.toLowerCase().replace(/\.$/, "");
    if (h.startsWith("[")) return ipv6Local(h.slice(1, -1));
    return new RegExp(`^${HOST_LOCAL}$`).test(h);
  }

  // What `details.ip` of webRequest says about the peer: a local address (the discovery
  // header counts only from these, docs/device.md).
  function isLocalIp(ip) {
    if (!ip) return false;
    return ip.includes(":") ? ipv6Local(ip.replace(/^\[|\]$/g, "")) : ipv4Local(ip);
  }

  // The device "host:port" of a URL's hostname and port (IPv6 as [addr]:port).
  function deviceOf(hostname, port, defaultPort) {
    return `${hostname.toLowerCase()}:${port || defaultPort}`;
  }

  // The bridge host name of a device "host:port": HOST.PORT.localhost.
  function bridgeHost(device) {
    const i = device.lastIndexOf(":");
    let host = device.slice(0, i);
    const port = device.slice(i + 1);
    if (host.startsWith("[")) host = "ipv6-" + host.slice(1, -1).replace(/:/g, "-");
    return `${host}.${port}.localhost`;
  }

  // The device "host:port" a bridge host name stands for, or null.
  function deviceOfBridgeHost(hostname) {
    const m = /^(.+)\.(\d{1,5})\.localhost$/.exec(hostname.toLowerCase());
    if (!m || +m[2] < 1 || +m[2] > 65535) return null;
    let host = m[1];
    if (host.startsWith("ipv6-")) host = `[${host.slice(5).replace(/-/g, ":")}]`;
    return `${host}:${m[2]}`;
  }

  // The bridge URL for a device URL (https://H[:P]/path -> http://H.P.localhost:B/path).
  function bridgeUrl(url, bridgePort, port) {
    const u = new URL(url);
    const device = deviceOf(u.hostname, port || u.port, u.protocol === "http:" ? 80 : 443);
    return `http://${bridgeHost(device)}:${bridgePort}${u.pathname}${u.search}${u.hash}`;
  }

  // `TLS-SRP: port=N` (docs/device.md): N, or null for anything else.
  function parseTlsSrpHeader(value) {
    for (const member of String(value).split(",")) {
      const m = /^\s*port=(\d{1,5})\s*(?:;.*)?$/.exec(member);
      if (m && +m[1] >= 1 && +m[1] <= 65535) return +m[1];
    }
    return null;
  }

  // declarativeNetRequest rules (ids 1-9): the token on every request to the bridge, and
  // https:// to a local IPv4 address or name through the bridge. IPv6 literals need ':' made
  // '-', which a regexSubstitution cannot do: background.js sends those itself.
  function staticRules(bridgePort, token) {
    const bridge = `http://\\1.\\2.localhost:${bridgePort}\\3`;
    const frames = ["main_frame", "sub_frame"];
    return [
      {
        id: 1,
        priority: 1,
        action: {
          type: "modifyHeaders",
          requestHeaders: [{ header: "srp-bridge-token", operation: "set", value: token }],
        },
        // Without resourceTypes a rule leaves out main_frame: name every type both know.
        condition: {
          regexFilter: `^http://[^/?#]+\\.localhost:${bridgePort}/`,
          resourceTypes: ALL_TYPES,
        },
      },
      {
        id: 2,
        priority: 1,
        action: { type: "redirect", redirect: { regexSubstitution: bridge } },
        condition: {
          regexFilter: `^https://(${HOST_LOCAL}):(\\d{1,5})(/.*)$`,
          resourceTypes: frames,
        },
      },
      {
        id: 3,
        priority: 1,
        action: {
          type: "redirect",
          redirect: { regexSubstitution: `http://\\1.443.localhost:${bridgePort}\\2` },
        },
        condition: { regexFilter: `^https://(${HOST_LOCAL})(/.*)$`, resourceTypes: frames },
      },
    ];
  }

  return {
    isLocalHost,
    isLocalIp,
    deviceOf,
    bridgeHost,
    deviceOfBridgeHost,
    bridgeUrl,
    parseTlsSrpHeader,
    staticRules,
  };
})();

if (typeof module !== "undefined") module.exports = SRP;
