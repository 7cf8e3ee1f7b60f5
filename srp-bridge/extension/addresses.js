// Device addresses and bridge names (no browser API here: node's test runner loads this file
// too). A device HOST:PORT is reached through srp-bridge at http://HOST.PORT.localhost:BRIDGE/
// (srp-bridge/README.md, "How a device is addressed").
"use strict";

const SRP = (() => {
  // Private, loopback and link-local IPv4 (RFC 1918, RFC 1122, RFC 3927) and names only a
  // local network resolves (mDNS .local, RFC 8375 .home.arpa, localhost), one pattern each:
  // Chromium refuses a regexFilter over 2 KB compiled, which all of them in one would be. The
  // browser has parsed the URL already, so an octet is 1 to 3 valid digits.
  const LOCAL = [
    "10(?:\\.\\d{1,3}){3}",
    "127(?:\\.\\d{1,3}){3}",
    "192\\.168(?:\\.\\d{1,3}){2}",
    "169\\.254(?:\\.\\d{1,3}){2}",
    "172\\.(?:1[6-9]|2\\d|3[01])(?:\\.\\d{1,3}){2}",
    "(?:[a-z0-9-]+\\.)+local",
    "(?:[a-z0-9-]+\\.)+home\\.arpa",
    "localhost",
  ];
  const IPV4_LOCAL = LOCAL.slice(0, 5).join("|");
  const HOST_LOCAL = LOCAL.join("|");

  const ALL_TYPES = [
    "main_frame",
    "sub_frame",
    "stylesheet",
    "script",
    "image",
    "font",
    "object",
    "xmlhttprequest",
    "ping",
    "csp_report",
    "media",
    "websocket",
    "other",
  ];

  function ipv4Local(host) {
    return new RegExp(`^(?:${IPV4_LOCAL})$`).test(host);
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
    return new RegExp(`^(?:${HOST_LOCAL})$`).test(h);
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

  // declarativeNetRequest rules (ids 1-99): the token on every request to the bridge, and
  // https:// to a local IPv4 address or name through the bridge, with its port or 443. IPv6
  // literals need ':' made '-', which a regexSubstitution cannot do: background.js sends
  // those itself.
  function staticRules(bridgePort, token) {
    const rules = [
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
    ];
    for (const host of LOCAL) {
      // (the port in the URL, the port in the name, the path's group)
      for (const [port, to, path] of [
        [":(\\d{1,5})", "\\2", "\\3"],
        ["", "443", "\\2"],
      ]) {
        rules.push({
          id: rules.length + 1,
          priority: 1,
          action: {
            type: "redirect",
            redirect: { regexSubstitution: `http://\\1.${to}.localhost:${bridgePort}${path}` },
          },
          condition: {
            regexFilter: `^https://(${host})${port}(/.*)$`,
            resourceTypes: ["main_frame", "sub_frame"],
          },
        });
      }
    }
    return rules;
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
