// authsvc prompt: progressive enhancement only. Every page works without this file (forms post
// and redirect); with it, a push is followed live, an activation is noticed, and security keys
// work. No inline script: data comes from data-* attributes.
"use strict";

const b64u = {
  dec: (s) => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4)),
    (c) => c.charCodeAt(0)).buffer,
  enc: (b) => btoa(String.fromCharCode(...new Uint8Array(b))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""),
};

function creationOptions(o) {
  return { ...o, challenge: b64u.dec(o.challenge), user: { ...o.user, id: b64u.dec(o.user.id) },
    excludeCredentials: (o.excludeCredentials || []).map((c) => ({ ...c, id: b64u.dec(c.id) })) };
}

function requestOptions(o) {
  return { ...o, challenge: b64u.dec(o.challenge),
    allowCredentials: (o.allowCredentials || []).map((c) => ({ ...c, id: b64u.dec(c.id) })) };
}

function credentialJSON(c) {
  const r = c.response;
  const out = { id: c.id, rawId: b64u.enc(c.rawId), type: c.type,
    clientExtensionResults: c.getClientExtensionResults(), response: { clientDataJSON: b64u.enc(r.clientDataJSON) } };
  if (r.attestationObject) {
    Object.assign(out.response, { attestationObject: b64u.enc(r.attestationObject), transports: r.getTransports() });
  } else {
    Object.assign(out.response, { authenticatorData: b64u.enc(r.authenticatorData), signature: b64u.enc(r.signature),
      userHandle: r.userHandle ? b64u.enc(r.userHandle) : null });
  }
  return out;
}

async function postJSON(url, body) {
  const reply = await fetch(url, { method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const text = await reply.text();
  let data = {};
  try { data = JSON.parse(text); } catch (e) { data = {}; }
  if (!reply.ok) throw new Error(data.message_detail || data.error_description || "The request was refused.");
  return data;
}

function showError(button, message) {
  const box = button.closest("li, section").querySelector(".key-error");
  if (box) { box.textContent = message; box.hidden = false; }
}

async function securityKey(button) {
  const csrf = button.dataset.csrf;
  button.disabled = true;
  try {
    if (button.dataset.webauthn === "get") {
      const { options } = await postJSON(button.dataset.optionsUrl, { csrf });
      const credential = await navigator.credentials.get({ publicKey: requestOptions(options) });
      const answer = await postJSON(button.dataset.submitUrl, { csrf, assertion: credentialJSON(credential) });
      window.location.assign(answer.next);
    } else {
      const { options } = await postJSON(button.dataset.optionsUrl, { csrf });
      const credential = await navigator.credentials.create({ publicKey: creationOptions(options) });
      const name = document.getElementById("key-name");
      const answer = await postJSON(button.dataset.submitUrl,
        { csrf, credential: credentialJSON(credential), name: name ? name.value : "" });
      window.location.assign(answer.next);
    }
  } catch (error) {
    showError(button, error.name === "NotAllowedError" ? "The security key did not answer, or the request was cancelled." : error.message);
    button.disabled = false;
  }
}

async function followPush(status) {
  for (;;) {
    let data;
    try {
      const reply = await fetch(status.dataset.statusUrl, { credentials: "same-origin" });
      if (!reply.ok) break;
      data = await reply.json();
    } catch (e) {
      await new Promise((done) => setTimeout(done, 2000));
      continue;
    }
    status.textContent = data.status_msg;
    if (data.result !== "waiting") break;
  }
  status.closest(".waiting").classList.add("done");
  window.location.assign(status.dataset.nextUrl);
}

async function followActivation(status) {
  for (;;) {
    await new Promise((done) => setTimeout(done, 1500));
    try {
      const reply = await fetch(status.dataset.activationUrl, { credentials: "same-origin" });
      if (!reply.ok) return;
      if ((await reply.json()).activated) break;
    } catch (e) { /* try again */ }
  }
  status.textContent = "Duo Mobile is activated.";
  status.closest(".waiting").classList.add("done");
  document.getElementById("activation-continue").submit();
}

document.addEventListener("DOMContentLoaded", () => {
  if (window.PublicKeyCredential) {
    document.querySelectorAll(".js-only").forEach((element) => { element.hidden = false; });
    document.querySelectorAll("[data-webauthn]").forEach((button) =>
      button.addEventListener("click", () => securityKey(button)));
  }
  const status = document.getElementById("push-status");
  if (status) followPush(status);
  const activation = document.getElementById("activation-status");
  if (activation) followActivation(activation);
});
