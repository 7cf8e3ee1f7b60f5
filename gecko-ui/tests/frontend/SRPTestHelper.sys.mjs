/* This Source Code Form is subject to the terms of the Mozilla Public
 * License, v. 2.0. If a copy of the MPL was not distributed with this
 * file, You can obtain one at http://mozilla.org/MPL/2.0/. */

// TEST-ONLY code for gecko-ui/tests/frontend/run.py. It is loaded into the
// browser under test through a resource:// substitution made by the test,
// never packaged into omni.ja, and the series' code never refers to it.
//
// What it fakes, because the stock firefox-esr binary's PSM knows nothing of
// TLS-SRP:
//  - the security state of a tab (the browser element's securityUI), so that
//    the shipped front end reads a secInfo with isSRPAuthenticated,
//    srpUsername and srpGroupBits set, as the PSM half will report them;
//  - nsISRPCredentialStore (TLSSRPLogout.credentialStore), which records the
//    calls instead of forgetting credentials;
//  - the NSS error code of an error page (SRPTestChild.sys.mjs), because the
//    stock NSS has no SSL_ERROR_SRP_* codes;
//  - the network code's call of the password prompt (the same call PSM will
//    make: nsIPromptService.asyncPromptAuth, MODAL_TYPE_TAB, "tls-srp").

import { setTimeout } from "resource://gre/modules/Timer.sys.mjs";

const STATE_IS_SECURE = Ci.nsIWebProgressListener.STATE_IS_SECURE;

function win(private_ = false) {
  for (let w of Services.wm.getEnumerator("navigator:browser")) {
    let isPrivate =
      w.gBrowser.selectedBrowser.contentPrincipal.privateBrowsingId > 0 ||
      w.document.documentElement.hasAttribute("privatebrowsingmode");
    if (isPrivate == private_ && !w.closed) {
      return w;
    }
  }
  return null;
}

// The document of the tab-modal password dialog of browser's tab, once it
// has loaded: a commonDialog.xhtml frame in the tab's panel (whichever dialog
// box opened it: the prompt service's, or the password manager's prompter).
function passwordDialogDocument(w, browser) {
  let panel = w.gBrowser.getPanel(browser);
  for (let frame of panel.querySelectorAll("browser.dialogFrame")) {
    let doc = frame.contentDocument;
    if (
      doc?.readyState == "complete" &&
      doc.getElementById("infoBody")?.textContent
    ) {
      return doc;
    }
  }
  return null;
}

async function until(condition, what, ms = 15000) {
  let start = Date.now();
  for (;;) {
    let value;
    try {
      value = await condition();
    } catch (e) {
      value = null;
    }
    if (value) {
      return value;
    }
    if (Date.now() - start > ms) {
      throw new Error("timed out waiting for " + what);
    }
    await new Promise(r => setTimeout(r, 100));
  }
}

function visibleText(root, selector) {
  return [...root.querySelectorAll(selector)]
    .filter(e => e.checkVisibility())
    .map(e => (e.textContent || e.getAttribute("label") || "").trim())
    .filter(t => t);
}

export const SRPTest = {
  fakeStore: null,
  _promptResult: null,

  /** Trusts the self-signed certificate of the local test device server. */
  init({ certBase64, hosts, port }) {
    let certdb = Cc["@mozilla.org/security/x509certdb;1"].getService(
      Ci.nsIX509CertDB
    );
    let cert = certdb.constructX509FromBase64(certBase64);
    let overrides = Cc["@mozilla.org/security/certoverride;1"].getService(
      Ci.nsICertOverrideService
    );
    for (let host of hosts) {
      overrides.rememberValidityOverride(host, port, {}, cert, true);
      overrides.rememberValidityOverride(
        host,
        port,
        { privateBrowsingId: 1 },
        cert,
        true
      );
    }
    ChromeUtils.registerWindowActor("SRPTestNetError", {
      child: {
        esModuleURI: "resource://srp-test/SRPTestChild.sys.mjs",
      },
      matches: ["about:neterror?*"],
      allFrames: true,
    });
    return true;
  },

  async openPrivateWindow() {
    let w = win(false);
    let pw = w.OpenBrowserWindow({ private: true });
    await until(
      () => pw.gBrowser && pw.document.readyState == "complete",
      "private window"
    );
    await until(
      () => pw.gBrowserInit?.delayedStartupFinished,
      "private window startup"
    );
    w.focus();
    return true;
  },

  async closePrivateWindows() {
    let pw = win(true);
    if (pw) {
      pw.close();
    }
    win(false).focus();
    return true;
  },

  /** Opens (or reuses the blank first) tab, loads url, waits for the load. */
  async openTab(url, { private_ = false, errorPage = false } = {}) {
    let w = win(private_);
    let gBrowser = w.gBrowser;
    let tab;
    if (
      gBrowser.tabs.length == 1 &&
      gBrowser.currentURI.spec == "about:blank"
    ) {
      tab = gBrowser.selectedTab;
    } else {
      tab = gBrowser.addTrustedTab("about:blank");
    }
    gBrowser.selectedTab = tab;
    return this.load(url, { private_, errorPage });
  },

  async load(
    url,
    { private_ = false, errorPage = false, expectURL = null } = {}
  ) {
    let w = win(private_);
    let browser = w.gBrowser.selectedBrowser;
    let before = browser.browsingContext.currentWindowGlobal?.innerWindowId;
    browser.fixupAndLoadURIString(url, {
      triggeringPrincipal: Services.scriptSecurityManager.getSystemPrincipal(),
    });
    await until(() => {
      let wg = browser.browsingContext.currentWindowGlobal;
      return (
        wg &&
        wg.innerWindowId != before &&
        !browser.webProgress.isLoadingDocument &&
        (!expectURL || browser.currentURI.spec == expectURL) &&
        (!errorPage || browser.documentURI?.spec.startsWith("about:neterror"))
      );
    }, "load of " + url);
    return this.where(private_);
  },

  where(private_ = false) {
    let browser = win(private_).gBrowser.selectedBrowser;
    return {
      currentURI: browser.currentURI.spec,
      documentURI: browser.documentURI?.spec,
    };
  },

  selectTabIndex(i) {
    let w = win(false);
    w.gBrowser.selectedTab = w.gBrowser.tabs[i];
    return true;
  },

  /**
   * Gives the selected tab the security state PSM will report for a TLS-SRP
   * connection, and lets the front end update from it. The fake disappears
   * once the fake store has been told to forget this device (as the next
   * connection would then not be SRP-authenticated).
   */
  fakeSRPConnection({ user, groupBits }) {
    let w = win(false);
    let browser = w.gBrowser.selectedBrowser;
    let realUI = Object.getOwnPropertyDescriptor(
      w.customElements.get("browser").prototype,
      "securityUI"
    ).get;
    let uri = browser.currentURI;
    let device = { host: uri.asciiHost, port: uri.port == -1 ? 443 : uri.port };
    let secInfo = {
      securityState: STATE_IS_SECURE,
      errorCode: 0,
      errorCodeString: "",
      failedCertChain: [],
      serverCert: null,
      succeededCertChain: [],
      cipherName: "TLS_SRP_SHA_WITH_AES_256_CBC_SHA",
      keyLength: 256,
      secretKeyLength: 256,
      keaGroupName: "",
      signatureSchemeName: "",
      protocolVersion: Ci.nsITransportSecurityInfo.TLS_VERSION_1_2,
      certificateTransparencyStatus: 0,
      isAcceptedEch: false,
      isDelegatedCredential: false,
      overridableErrorCategory: 0,
      madeOCSPRequests: false,
      usedPrivateDNS: false,
      isExtendedValidation: false,
      isSRPAuthenticated: true,
      srpUsername: user,
      srpGroupBits: groupBits,
      resumed: false,
      isBuiltCertChainRootBuiltInRoot: false,
      peerId: "",
    };
    let loggedOut = () =>
      SRPTest.fakeStore?.calls.some(
        c => c.host == device.host && c.port == device.port
      );
    let fakeUI = {
      get state() {
        return loggedOut() ? realUI.call(browser).state : STATE_IS_SECURE;
      },
      get secInfo() {
        return loggedOut() ? realUI.call(browser).secInfo : secInfo;
      },
      get isSecureContext() {
        return true;
      },
      get contentBlockingEvent() {
        return realUI.call(browser).contentBlockingEvent;
      },
    };
    Object.defineProperty(browser, "securityUI", {
      configurable: true,
      get: () => fakeUI,
    });
    w.gIdentityHandler.updateIdentity(STATE_IS_SECURE, w.gBrowser.currentURI);
    return true;
  },

  /** Replaces PSM's nsISRPCredentialStore with a recorder. */
  async fakeCredentialStore() {
    let { TLSSRPLogout } = ChromeUtils.importESModule(
      "moz-src:///browser/components/tlssrp/TLSSRPLogout.sys.mjs"
    );
    let calls = [];
    this.fakeStore = {
      calls,
      forget(host, port, originAttributes) {
        calls.push({ host, port, originAttributes: { ...originAttributes } });
      },
      has() {
        return false;
      },
    };
    Object.defineProperty(TLSSRPLogout, "credentialStore", {
      configurable: true,
      value: this.fakeStore,
    });
    return true;
  },

  async identityBox() {
    let w = win(false);
    let doc = w.document;
    let icon = doc.getElementById("identity-icon");
    await doc.l10n.translateElements([icon]);
    return {
      className: doc.getElementById("identity-box").className,
      iconImage: w.getComputedStyle(icon).listStyleImage,
      tooltip: icon.getAttribute("tooltiptext"),
    };
  },

  async openIdentityPopup() {
    let w = win(false);
    let doc = w.document;
    doc.getElementById("identity-icon-box").click();
    let popup = await until(() => {
      let p = doc.getElementById("identity-popup");
      return p?.state == "open" && p;
    }, "identity popup");
    let view = doc.getElementById("identity-popup-mainView");
    await doc.l10n.translateFragment(view);
    await new Promise(r => setTimeout(r, 500));
    return {
      connection: popup.getAttribute("connection"),
      texts: [
        ...visibleText(view, "label, description"),
        ...visibleText(view, "toolbarbutton.subviewbutton[label]"),
      ],
      logoutVisible: !!doc
        .getElementById("identity-popup-srp-logout-button")
        ?.checkVisibility(),
    };
  },

  async showSecuritySubView() {
    let w = win(false);
    let doc = w.document;
    doc.getElementById("identity-popup-security-button").doCommand();
    let view = doc.getElementById("identity-popup-securityView");
    await until(
      () =>
        view.getAttribute("visible") == "true" || view.hasAttribute("current"),
      "security view"
    );
    await doc.l10n.translateFragment(view);
    await new Promise(r => setTimeout(r, 700));
    return { texts: visibleText(view, "label, description") };
  },

  hidePopups() {
    let w = win(false);
    w.gIdentityHandler.hidePopup();
    return true;
  },

  async clickLogout() {
    let w = win(false);
    w.document.getElementById("identity-popup-srp-logout-button").doCommand();
    await until(
      () => w.document.getElementById("identity-popup").state == "closed",
      "popup to close"
    );
    return this.fakeStore.calls;
  },

  async pageInfo() {
    let w = win(false);
    w.BrowserCommands.pageInfo(null, "securityTab");
    let piw = await until(
      () => Services.wm.getMostRecentWindow("Browser:page-info"),
      "page info window"
    );
    let doc = await until(
      () => piw.document.readyState == "complete" && piw.document,
      "page info document"
    );
    let verifier = await until(
      () => doc.getElementById("security-identity-verifier-value")?.value,
      "verifier value"
    );
    await new Promise(r => setTimeout(r, 1000));
    return {
      domain: doc.getElementById("security-identity-domain-value").value,
      owner: doc.getElementById("security-identity-owner-value").value,
      verifier,
      viewCertCollapsed: doc.getElementById("security-view-cert").collapsed,
      technical: doc.getElementById("security-technical-shortform").value,
    };
  },

  closePageInfo() {
    Services.wm.getMostRecentWindow("Browser:page-info")?.close();
    win(false).focus();
    return true;
  },

  /**
   * Asks for TLS-SRP credentials the way the network code does
   * (netwerk-srp-credentials-prompt.patch): through the channel's
   * nsIAuthPrompt2, which for a tab is the password manager's
   * LoginManagerAuthPrompter set to the tab's browser (as
   * BrowserParent::GetAuthPrompt makes it), with the "tls-srp" scheme.
   */
  startPrompt({ url, previousFailed }) {
    let w = win(false);
    let browser = w.gBrowser.selectedBrowser;
    let { NetUtil } = ChromeUtils.importESModule(
      "resource://gre/modules/NetUtil.sys.mjs"
    );
    let channel = NetUtil.newChannel({
      uri: url,
      loadUsingSystemPrincipal: true,
    });
    let authInfo = {
      QueryInterface: ChromeUtils.generateQI(["nsIAuthInformation"]),
      flags:
        Ci.nsIAuthInformation.AUTH_HOST |
        (previousFailed ? Ci.nsIAuthInformation.PREVIOUS_FAILED : 0),
      authenticationScheme: "tls-srp",
      realm: "",
      username: previousFailed ? "admin" : "",
      password: "",
      domain: "",
    };
    this._authInfo = authInfo;
    let prompt = Services.ww
      .QueryInterface(Ci.nsIPromptFactory)
      .getPrompt(w, Ci.nsIAuthPrompt2);
    if (prompt instanceof Ci.nsILoginManagerAuthPrompter) {
      prompt.browser = browser;
    }
    this._promptResult = new Promise(resolve => {
      prompt.asyncPromptAuth(
        channel,
        {
          QueryInterface: ChromeUtils.generateQI(["nsIAuthPromptCallback"]),
          onAuthAvailable: () => resolve(true),
          onAuthCancelled: () => resolve(false),
        },
        null,
        Ci.nsIAuthPrompt2.LEVEL_SECURE,
        authInfo
      );
    });
    return true;
  },

  /**
   * Saves a login for the origin and realm the password manager would look up
   * for a TLS-SRP prompt of url, so that the test can check it is not used.
   */
  async saveLoginFor({ url, username, password }) {
    let origin = new URL(url).origin;
    let login = Cc["@mozilla.org/login-manager/loginInfo;1"].createInstance(
      Ci.nsILoginInfo
    );
    login.init(origin, null, origin, username, password, "", "");
    await Services.logins.addLoginAsync(login);
    return (await Services.logins.searchLoginsAsync({ origin })).length;
  },

  async removeAllLogins() {
    Services.logins.removeAllUserFacingLogins();
    return true;
  },

  /** The texts of the password dialog, once it shows. */
  async promptTexts() {
    let w = win(false);
    let browser = w.gBrowser.selectedBrowser;
    let dialogDoc = await until(
      () => passwordDialogDocument(w, browser),
      "the password dialog"
    );
    await new Promise(r => setTimeout(r, 700));
    let checkVisible = id => !!dialogDoc.getElementById(id)?.checkVisibility();
    return {
      header:
        dialogDoc.querySelector("#titleText, .titleText, h1")?.textContent ??
        "",
      body: dialogDoc.getElementById("infoBody").textContent,
      usernameVisible: checkVisible("loginTextbox"),
      passwordVisible: checkVisible("password1Textbox"),
      username: dialogDoc.getElementById("loginTextbox").value,
    };
  },

  /**
   * One round of the password dialog within one Marionette command (while a
   * tab-modal prompt is open, Marionette refuses every other command): opens
   * it, writes its texts to syncDir/dialog.json, waits for syncDir/go (the
   * test takes its screenshot meanwhile), then answers it.
   */
  async promptRound({ url, previousFailed, answer, syncDir }) {
    this.startPrompt({ url, previousFailed });
    let texts = await this.promptTexts();
    texts.promptOpenedOutsideCommand = true;
    await IOUtils.writeJSON(PathUtils.join(syncDir, "dialog.json"), texts);
    let go = PathUtils.join(syncDir, "go");
    await until(() => IOUtils.exists(go), "the test's screenshot", 60000);
    await IOUtils.remove(go);
    let result = await this.answerPrompt(answer);
    return { texts, result };
  },

  /**
   * Runs promptRound outside the Marionette command that asks for it (a
   * prompt that opens during a command ends it) and writes its outcome to
   * syncDir/result.json.
   */
  schedulePromptRound(args) {
    let out = PathUtils.join(args.syncDir, "result.json");
    setTimeout(() => {
      this.promptRound(args).then(
        r => IOUtils.writeJSON(out, r),
        e => IOUtils.writeJSON(out, { error: String(e) + "\n" + e.stack })
      );
    }, 200);
    return true;
  },

  async answerPrompt({ user, password, accept }) {
    let w = win(false);
    let browser = w.gBrowser.selectedBrowser;
    let doc = passwordDialogDocument(w, browser);
    let dialog = doc.querySelector("dialog");
    if (accept) {
      doc.getElementById("loginTextbox").value = user;
      doc.getElementById("password1Textbox").value = password;
      dialog.getButton("accept").click();
    } else {
      dialog.getButton("cancel").click();
    }
    let bag = await this._promptResult;
    let ok = bag instanceof Ci.nsIPropertyBag2 ? bag.getProperty("ok") : bag;
    return {
      ok,
      username: this._authInfo.username,
      passwordMatches: this._authInfo.password === password,
    };
  },

  /** See SRPTestChild.sys.mjs. */
  async fakeNetErrorCode(code) {
    let browser = win(false).gBrowser.selectedBrowser;
    return browser.browsingContext.currentWindowGlobal
      .getActor("SRPTestNetError")
      .sendQuery("fakeErrorCode", { code });
  },

  setPref(name, value) {
    if (typeof value == "number") {
      Services.prefs.setIntPref(name, value);
    } else if (typeof value == "boolean") {
      Services.prefs.setBoolPref(name, value);
    } else if (value === null) {
      Services.prefs.clearUserPref(name);
    } else {
      Services.prefs.setStringPref(name, value);
    }
    return true;
  },
};
