// node --test srp-bridge/extension/tests/: the address rules, without a browser.
"use strict";

const test = require("node:test");
const assert = require("node:assert");
const SRP = require("../addresses.js");

test("local device addresses", () => {
  for (const h of [
    "192.168.1.1",
    "10.0.0.138",
    "172.16.0.1",
    "172.31.255.254",
    "127.0.0.1",
    "169.254.1.2",
    "router.local",
    "printer.home.arpa",
    "localhost",
    "[::1]",
    "[fe80::1]",
    "[fd12:3456::1]",
    "Router.Local.",
  ]) {
    assert.ok(SRP.isLocalHost(h), h);
  }
  for (const h of [
    "8.8.8.8",
    "172.32.0.1",
    "192.169.1.1",
    "example.com",
    "local",
    "a.localhost",
    "x.local.example.com",
    "[2001:db8::1]",
    "[fe80::1%25eth0]",
    "1.2.3.4.local.evil",
  ]) {
    assert.ok(!SRP.isLocalHost(h), h);
  }
  assert.ok(SRP.isLocalIp("192.168.0.10") && SRP.isLocalIp("::1") && SRP.isLocalIp("fd00::2"));
  assert.ok(!SRP.isLocalIp("93.184.216.34") && !SRP.isLocalIp("") && !SRP.isLocalIp(undefined));
});

test("bridge names, both ways", () => {
  const cases = [
    ["192.168.1.1:443", "192.168.1.1.443.localhost"],
    ["router.lan:8443", "router.lan.8443.localhost"],
    ["[fe80::1]:443", "ipv6-fe80--1.443.localhost"],
  ];
  for (const [device, host] of cases) {
    assert.strictEqual(SRP.bridgeHost(device), host);
    assert.strictEqual(SRP.deviceOfBridgeHost(host), device);
  }
  assert.strictEqual(SRP.deviceOfBridgeHost("localhost"), null);
  assert.strictEqual(SRP.deviceOfBridgeHost("a.99999.localhost"), null);
  assert.strictEqual(
    SRP.bridgeUrl("https://192.168.1.1/a?b=1", 7425),
    "http://192.168.1.1.443.localhost:7425/a?b=1",
  );
  assert.strictEqual(
    SRP.bridgeUrl("http://router.local/", 7425, 8443),
    "http://router.local.8443.localhost:7425/",
  );
  assert.strictEqual(
    SRP.bridgeUrl("https://[fe80::1]:8443/", 7425),
    "http://ipv6-fe80--1.8443.localhost:7425/",
  );
});

test("the TLS-SRP header", () => {
  assert.strictEqual(SRP.parseTlsSrpHeader("port=443"), 443);
  assert.strictEqual(SRP.parseTlsSrpHeader("port=8443;x"), 8443);
  assert.strictEqual(SRP.parseTlsSrpHeader("other=1, port=442"), 442);
  for (const v of ["", "port=0", "port=70000", "port=abc", "443", "port=4 43"]) {
    assert.strictEqual(SRP.parseTlsSrpHeader(v), null, v);
  }
});

test("the redirect rules do what the bridge expects", () => {
  const [token, ...redirects] = SRP.staticRules(7425, "t0k3n");
  assert.strictEqual(token.action.requestHeaders[0].value, "t0k3n");
  assert.ok(token.condition.resourceTypes.includes("main_frame"));
  const apply = (url) => {
    // The first rule that matches, with RE2's \N substitution, as the browsers apply it.
    for (const rule of redirects) {
      const m = new RegExp(rule.condition.regexFilter).exec(url);
      if (m) return rule.action.redirect.regexSubstitution.replace(/\\(\d)/g, (_, i) => m[+i]);
    }
    return null;
  };
  assert.strictEqual(apply("https://192.168.1.1/x?y"), "http://192.168.1.1.443.localhost:7425/x?y");
  assert.strictEqual(apply("https://10.1.2.3:8443/"), "http://10.1.2.3.8443.localhost:7425/");
  assert.strictEqual(
    apply("https://router.local:8443/"),
    "http://router.local.8443.localhost:7425/",
  );
  assert.strictEqual(
    apply("https://printer.home.arpa/"),
    "http://printer.home.arpa.443.localhost:7425/",
  );
  assert.strictEqual(apply("https://localhost:4443/a"), "http://localhost.4443.localhost:7425/a");
  assert.strictEqual(apply("https://172.20.0.1/"), "http://172.20.0.1.443.localhost:7425/");
  for (const url of [
    "https://example.com/",
    "https://192.168.1.1.evil.com/",
    "https://8.8.8.8:443/",
    "https://172.32.0.1/",
    "https://local/",
    "http://192.168.1.1/",
    "https://10.0.0.1.nip.io/",
  ]) {
    assert.strictEqual(apply(url), null, url);
  }
  assert.ok(new RegExp(token.condition.regexFilter).test("http://192.168.1.1.443.localhost:7425/"));
  assert.ok(!new RegExp(token.condition.regexFilter).test("http://evil.com/?.localhost:7425/"));
});
