// Passkeys (WebAuthn) in the back office. A form with data-passkey="register" or "sign-in"
// carries the server's options (JSON, data-options); this script runs the browser's ceremony,
// puts the answer (JSON, base64url fields) in the form's hidden `credential` field and sends
// the form. Nothing else: the server checks everything. No inline script anywhere (CSP).
"use strict";
(function () {
  function toBytes(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var raw = atob(b64);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
    return bytes.buffer;
  }
  function toText(buffer) {
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i++) { raw += String.fromCharCode(bytes[i]); }
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function ids(list) {
    (list || []).forEach(function (c) { c.id = toBytes(c.id); });
  }
  async function register(options) {
    var pk = options.publicKey;
    pk.challenge = toBytes(pk.challenge);
    pk.user.id = toBytes(pk.user.id);
    ids(pk.excludeCredentials);
    var c = await navigator.credentials.create({ publicKey: pk });
    return {
      id: c.id, rawId: toText(c.rawId), type: c.type,
      response: {
        attestationObject: toText(c.response.attestationObject),
        clientDataJSON: toText(c.response.clientDataJSON),
      },
      extensions: c.getClientExtensionResults(),
    };
  }
  async function signIn(options) {
    var pk = options.publicKey;
    pk.challenge = toBytes(pk.challenge);
    ids(pk.allowCredentials);
    var c = await navigator.credentials.get({ publicKey: pk });
    var r = c.response;
    return {
      id: c.id, rawId: toText(c.rawId), type: c.type,
      response: {
        authenticatorData: toText(r.authenticatorData),
        clientDataJSON: toText(r.clientDataJSON),
        signature: toText(r.signature),
        userHandle: r.userHandle ? toText(r.userHandle) : null,
      },
      extensions: c.getClientExtensionResults(),
    };
  }
  document.querySelectorAll("form[data-passkey]").forEach(function (form) {
    var status = form.querySelector("[role=status]");
    var say = function (text) { if (status) { status.textContent = text; } };
    form.addEventListener("submit", async function (event) {
      if (form.elements.credential.value) { return; }
      event.preventDefault();
      var options = JSON.parse(form.dataset.options);
      var rp = options.publicKey.rpId || (options.publicKey.rp && options.publicKey.rp.id);
      if (!window.PublicKeyCredential) {
        say("このブラウザーはパスキーに対応していません。確認コードを使ってください。");
        return;
      }
      if (rp && rp !== location.hostname) {
        say("パスキーは " + rp + " のアドレスで開いた管理システムでのみ使えます。");
        return;
      }
      try {
        var answer = form.dataset.passkey === "register" ? await register(options) : await signIn(options);
        form.elements.credential.value = JSON.stringify(answer);
        form.submit();
      } catch (e) {
        say("パスキーの操作が完了しませんでした。もう一度お試しいただくか、確認コードを使ってください。");
      }
    });
  });
})();
