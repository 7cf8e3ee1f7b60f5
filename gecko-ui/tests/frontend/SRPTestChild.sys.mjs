/* This Source Code Form is subject to the terms of the Mozilla Public
 * License, v. 2.0. If a copy of the MPL was not distributed with this
 * file, You can obtain one at http://mozilla.org/MPL/2.0/. */

// TEST-ONLY (see SRPTestHelper.sys.mjs). The stock NSS has no
// SSL_ERROR_SRP_* codes. On a real about:neterror page of a failed TLS
// handshake, "fakeErrorCode" makes document.getNetErrorInfo() report the
// given code and evaluates the page's aboutNetError.mjs (the series'
// version, from omni.ja) once more, so that it builds the page for it.

export class SRPTestNetErrorChild extends JSWindowActorChild {
  async receiveMessage({ name, data }) {
    if (name != "fakeErrorCode") {
      return null;
    }
    let win = this.contentWindow;
    let doc = win.document;
    if (!doc.body.classList.contains("neterror")) {
      // The page's own aboutNetError.mjs has not run yet.
      await new Promise(resolve =>
        doc.addEventListener("AboutNetErrorLoad", resolve, { once: true })
      );
    }
    Cu.exportFunction(
      () => Cu.cloneInto({ errorCodeString: data.code }, win),
      Cu.waiveXrays(doc),
      { defineAs: "getNetErrorInfo" }
    );
    doc.getElementById("errorLongDesc").replaceChildren();
    let loaded = new Promise(resolve =>
      doc.addEventListener("AboutNetErrorLoad", () => resolve(true), {
        once: true,
      })
    );
    let script = doc.createElement("script");
    script.type = "module";
    script.src =
      "chrome://global/content/aboutNetError.mjs?srptest=" + data.code;
    doc.body.append(script);
    return loaded;
  }
}
