// The TLS-SRP extension in Debian's Chromium, driven by Playwright (playwright-core with the
// system browser), under Xvfb. Started by browser_test.py with a JSON config as argument
// (devices, passwords, the home with the host manifests); prints "RESULT {name, ok, detail}"
// lines for it to count. Every wait is bounded.
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";
import { execFileSync } from "node:child_process";

const require = createRequire(path.join(process.env.NODE_PATH, "x.js"));
const { chromium } = require("playwright-core");

const cfg = JSON.parse(process.argv[2]);
const base = `chrome-extension://${cfg.extensionId}/`;
const BADGE = "\u2713"; // background.js's badge of a logged-in device's tab

function check(name, ok, detail = "") {
  console.log("RESULT " + JSON.stringify({ name, ok: !!ok, detail }));
}

function log(msg) {
  console.log("... " + msg);
}

function screenshot(name, crop, scale) {
  const file = path.join(cfg.out, name);
  const raw = crop ? file + ".full.png" : file;
  execFileSync("import", ["-display", cfg.display, "-window", "root", raw]);
  if (crop) {
    const resize = scale ? ["-filter", "point", "-resize", scale] : [];
    execFileSync("convert", [raw, "-crop", crop, "+repage", ...resize, file]);
    fs.unlinkSync(raw);
  }
  log("screenshot " + file);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(fn, timeout = 30000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    let r = null;
    try {
      r = await fn();
    } catch {
      r = null;
    }
    if (r || Date.now() > deadline) return r;
    await sleep(250);
  }
}

function bridgeUrl(device, p = "/") {
  const i = device.lastIndexOf(":");
  return `http://${device.slice(0, i)}.${device.slice(i + 1)}.localhost:${cfg.bridgePort}${p}`;
}

async function goto(page, url) {
  try {
    await page.goto(url, { timeout: 15000 });
  } catch (e) {
    // The extension replaces the navigation (redirect, login page): not an error here.
    log(`goto ${url}: ${String(e.message).split("\n")[0]}`);
  }
}

async function bodyData(page) {
  try {
    return await page.evaluate(() =>
      document.readyState === "complete" && document.body
        ? Object.assign({ text: document.body.innerText }, document.body.dataset)
        : null,
    );
  } catch {
    return null;
  }
}

async function loginPageFor(page, device) {
  return waitFor(async () => {
    const u = new URL(page.url());
    if (u.href.startsWith(base + "login.html") && u.searchParams.get("device") === device) {
      const d = await bodyData(page);
      return d && d.ready === "1";
    }
    return false;
  });
}

async function submitLogin(page, user, password) {
  await page.fill("#user", user);
  await page.fill("#password", password);
  await page.click("#submit");
}

async function stateIs(page, state) {
  return waitFor(async () => ((await bodyData(page)) || {}).state === state, 20000);
}

async function popupState(page, device) {
  await goto(page, base + "popup.html" + (device ? "?device=" + device : ""));
  return (
    (await waitFor(async () => {
      const d = await bodyData(page);
      return d && d.ready === "1" ? d : null;
    }, 15000)) || {}
  );
}

// The password changed on the device (its own page, through the bridge) while logged in: the
// bridge's next connection fails, it tells the extension (device-state), the tab shows the
// login page with that state and the badge goes; the new password logs in again.
async function passwordChanged(page, context, demo) {
  const d = demo.device;
  await goto(page, bridgeUrl(d, "/password"));
  await page.fill("#password", demo.newPassword);
  await page.click("form button");
  check(
    "the device's change-password page, through the bridge: changed",
    await waitFor(
      async () => ((await bodyData(page)) || {}).text.includes("Password changed"),
      15000,
    ),
    ((await bodyData(page)) || {}).text,
  );
  // The device restarts gracefully 0.2 s after its answer; until then a page may still come.
  const asked = await waitFor(async () => {
    await goto(page, bridgeUrl(d, "/"));
    const left = await waitFor(async () => !page.url().startsWith(bridgeUrl(d)), 3000);
    return left && (await loginPageFor(page, d));
  }, 20000);
  const data = (await bodyData(page)) || {};
  check(
    "password changed on the device: the next page is the login page, saying the device did " +
      "not accept the password (device-state: wrong-password)",
    asked && data.state === "wrong-password" && data.text.includes("did not accept"),
    [page.url(), data],
  );
  // The pointer away from the form: Chromium shows a required field's hint as a tooltip.
  await page.mouse.move(1200, 700);
  await sleep(500);
  screenshot("chromium-password-changed.png", "1280x520+0+0");
  const user = await page.inputValue("#user");
  check(`... with the user name filled in (${demo.user})`, user === demo.user, user);
  const tab2 = await context.newPage();
  const st = await popupState(tab2, d);
  await tab2.close();
  await page.bringToFront();
  check(
    "... and the popup: wrong-password, no badge on the tab",
    st.state === "wrong-password" && !st.badge,
    st,
  );
  await submitLogin(page, demo.user, demo.newPassword);
  check(
    "the new password logs in: the device's page again",
    await waitFor(
      async () =>
        page.url().startsWith(bridgeUrl(d)) &&
        ((await bodyData(page)) || {}).text.includes(demo.user),
    ),
    page.url(),
  );
}

async function main() {
  // The extension's action pinned to the toolbar, so its badge shows (a new profile).
  const profile = path.join(cfg.home, ".config", "chromium");
  fs.mkdirSync(path.join(profile, "Default"), { recursive: true });
  fs.writeFileSync(
    path.join(profile, "Default", "Preferences"),
    // No "Save password?" bubble over the screenshots after the device's change-password form.
    JSON.stringify({
      extensions: { pinned_extensions: [cfg.extensionId] },
      credentials_enable_service: false,
      profile: { password_manager_enabled: false },
    }),
  );
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: cfg.chromium,
    headless: false,
    viewport: null,
    env: { ...process.env, DISPLAY: cfg.display, HOME: cfg.home },
    args: [
      `--load-extension=${cfg.extension}`,
      `--disable-extensions-except=${cfg.extension}`,
      "--disable-features=DisableLoadExtensionCommandLineSwitch",
      "--window-position=0,0",
      "--window-size=1280,800",
      "--password-store=basic",
      // No "unsupported command-line flag" bar for --no-sandbox (needed as root) over the page.
      "--test-type",
    ],
  });
  try {
    const worker = await waitFor(
      () => context.serviceWorkers().find((w) => w.url().startsWith(base)),
      20000,
    );
    check(
      "the extension loads (its service worker runs, id from the manifest's key)",
      worker,
      context.serviceWorkers().map((w) => w.url()),
    );
    const page = context.pages()[0] || (await context.newPage());
    const ready = await waitFor(async () => (await popupState(page, "")).state === "no-device");
    check(
      "the browser started srp-bridge (native messaging): the popup says so",
      ready && (await popupState(page, "")).text.includes("127.0.0.1:7425"),
      await popupState(page, ""),
    );
    const demo = cfg.demo;
    const d = demo.device;

    await goto(page, `https://${d}/`);
    check(
      `https://${d}/ -> the bridge answers 401 -> the extension's login page`,
      await loginPageFor(page, d),
      page.url(),
    );
    await sleep(500);
    screenshot("chromium-login.png", "1280x520+0+0");

    await submitLogin(page, demo.user, "wrong-" + demo.password);
    const wrong = await stateIs(page, "wrong-password");
    const data = (await bodyData(page)) || {};
    check(
      "wrong password: the login page shows the error again, no page",
      wrong && data.text.includes("did not accept") && page.url().startsWith(base + "login.html"),
      [page.url(), data],
    );
    screenshot("chromium-wrong-password.png", "1280x520+0+0");

    await submitLogin(page, demo.user, demo.password);
    const shown = await waitFor(
      async () =>
        page.url().startsWith(bridgeUrl(d)) &&
        ((await bodyData(page)) || {}).text.includes(demo.user),
    );
    check("right password: the device's page through the bridge, with the user", shown, [
      page.url(),
      ((await bodyData(page)) || {}).text,
    ]);
    await sleep(1000);
    screenshot("chromium-badge.png", "1280x400+0+0");
    screenshot("chromium-badge-zoom.png", "240x50+1040+38", "300%");
    const badge = await worker.evaluate(async () => {
      const [tab] = await chrome.tabs.query({ active: true });
      return chrome.action.getBadgeText({ tabId: tab.id });
    });
    check("the badge on the device's tab: \u2713", badge === BADGE, badge);

    // The real toolbar popup (chrome.action.openPopup), for the screenshot.
    try {
      await worker.evaluate(() => chrome.action.openPopup());
      await sleep(1500);
      screenshot("chromium-status-popup.png", "1280x520+0+0");
      // Playwright does not list the popup as a page; the browser lists it as a context.
      const popups = await worker.evaluate(async () =>
        (await chrome.runtime.getContexts({ contextTypes: ["POPUP"] })).map((c) => c.documentUrl),
      );
      check(
        "chrome.action.openPopup() shows the toolbar popup",
        popups.length === 1 && popups[0].startsWith(base + "popup.html"),
        popups,
      );
      await page.mouse.click(600, 600); // the popup closes when the page gets the focus
    } catch (e) {
      check("chrome.action.openPopup() shows the toolbar popup", false, e.message);
    }

    await goto(page, bridgeUrl(d, "/whoami"));
    const who = ((await bodyData(page)) || {}).text || "";
    check(
      `GET /whoami over the bridge: srp-user: ${demo.user}`,
      who.trim() === `srp-user: ${demo.user}`,
      who,
    );
    await passwordChanged(page, context, demo);
    await goto(page, bridgeUrl(d, "/"));

    const tab2 = await context.newPage();
    const st = await popupState(tab2, d);
    check(
      "popup: logged-in, the device, the user, the badge \u2713 on its tab",
      st.state === "logged-in" &&
        st.device === d &&
        st.user === demo.user &&
        st.badge === BADGE &&
        st.text.includes("proved that it knows your password") &&
        st.text.includes("plain HTTP"),
      st,
    );
    await tab2.click("#logout");
    check(
      "Log out: the popup says logged out",
      await stateIs(tab2, "logged-out"),
      await bodyData(tab2),
    );
    // The device's tab was reloaded by the logout: it asks again.
    check(
      "Log out reloads the device's tab: it shows the login page again",
      await loginPageFor(page, d),
      page.url(),
    );
    await tab2.close();
    await page.bringToFront();
    await sleep(500);
    screenshot("chromium-after-logout.png", "1280x520+0+0");
    await goto(page, bridgeUrl(d, "/whoami"));
    check(
      "after logout the next request asks again (the login page)",
      await loginPageFor(page, d),
      page.url(),
    );

    await goto(page, `http://127.0.0.1:${demo.http}/`);
    check(
      `http://127.0.0.1:${demo.http}/ (TLS-SRP: port=${demo.https}) -> the TLS-SRP port's login page`,
      await loginPageFor(page, d),
      page.url(),
    );

    const g = cfg.gnutls.device;
    await goto(page, `https://${g}/`);
    check("gnutls-serv: the login page", await loginPageFor(page, g), page.url());
    await submitLogin(page, "u1536", cfg.gnutls.passwords.u1536);
    check(
      "gnutls-serv, a 1536-bit user: group-too-small shown as its own state",
      (await stateIs(page, "group-too-small")) &&
        ((await bodyData(page)) || {}).text.includes("below 2048 bits"),
      await bodyData(page),
    );
    await submitLogin(page, "u2048", cfg.gnutls.passwords.u2048);
    check(
      "gnutls-serv: logged in, its page through the bridge",
      await waitFor(
        async () =>
          page.url().startsWith(bridgeUrl(g)) &&
          ((await bodyData(page)) || {}).text.includes("GnuTLS"),
      ),
      page.url(),
    );
    const gs = await popupState(await context.newPage(), g);
    check(
      "gnutls-serv: popup logged-in as u2048 (2048-bit group), badge \u2713",
      gs.state === "logged-in" &&
        gs.user === "u2048" &&
        gs.text.includes("2048-bit") &&
        gs.badge === BADGE,
      gs,
    );

    // An IPv6 literal: the bridge name needs ':' as '-', so the background sends the tab.
    const v6 = `[::1]:${g.slice(g.lastIndexOf(":") + 1)}`;
    await goto(page, `https://${v6}/`);
    check(`https://${v6}/ -> the login page for ${v6}`, await loginPageFor(page, v6), page.url());

    for (const [device, state, words] of [
      [cfg.closed, "unreachable", "cannot be reached"],
      [`127.0.0.1:${demo.http}`, "not-tls-srp", "does not speak TLS-SRP"],
    ]) {
      await page.bringToFront();
      await goto(page, `https://${device}/`);
      const ok = await loginPageFor(page, device);
      await submitLogin(page, "admin", "pw-" + Math.random().toString(16).slice(2));
      check(
        `${device}: ${state} shown as its own state`,
        ok && (await stateIs(page, state)) && ((await bodyData(page)) || {}).text.includes(words),
        await bodyData(page),
      );
    }

    // A local https:// server with a certificate and no TLS-SRP: not-tls-srp, then the user
    // opens it without the bridge, and later visits stay direct.
    const c = cfg.cert;
    await goto(page, `https://${c}/`);
    const onLogin = await loginPageFor(page, c);
    await submitLogin(page, "admin", "pw-" + Math.random().toString(16).slice(2));
    const notSrp = await stateIs(page, "not-tls-srp");
    await page.click("#open-directly");
    // The tab's URL (Playwright names the certificate error page chrome-error://).
    const tabUrl = () =>
      worker.evaluate(async () => (await chrome.tabs.query({ active: true }))[0].url);
    const direct = await waitFor(async () => (await tabUrl()) === `https://${c}/`, 15000);
    check(
      "a certificate-only server: not-tls-srp, and 'Open without TLS-SRP' opens its https:// address itself",
      onLogin && notSrp && direct,
      await tabUrl(),
    );
    await goto(page, `https://${c}/again`);
    await sleep(1000);
    check(
      "... later visits to it stay direct (no bridge, no login page)",
      (await tabUrl()) === `https://${c}/again`,
      await tabUrl(),
    );
  } finally {
    await context.close();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.log("... " + (e.stack || e));
    try {
      execFileSync("import", [
        "-display",
        cfg.display,
        "-window",
        "root",
        path.join(cfg.scratch, "chromium-failure.png"),
      ]);
    } catch {}
    process.exit(1);
  },
);
