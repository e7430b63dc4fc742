/* Cloodot WebChat widget. Plain JS and CSS, no framework.
 *   <script src="https://YOUR-APP/webchat.js" data-site="SITE_KEY" async></script>
 * A launcher button opens a chat window (a dialog with a message log, keyboard and
 * screen-reader friendly). The visitor's id lives in this browser's storage, so a
 * returning visitor stays one contact. Works only on the site's allowed addresses. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.getAttribute("data-site") || window.__cloodotWebchat) return;
  window.__cloodotWebchat = true;
  var site = script.getAttribute("data-site");
  var api = new URL(script.src, location.href).origin + "/api/webchat/" + encodeURIComponent(site);
  var storeKey = "cloodot-webchat:" + site;
  var MAX_LOG = 50;

  function randomId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  var memory = {};
  function load() {
    try { return JSON.parse(localStorage.getItem(storeKey) || "null") || memory; } catch (e) { return memory; }
  }
  function save() {
    memory = state;
    try { localStorage.setItem(storeKey, JSON.stringify(state)); } catch (e) { /* private mode: memory only */ }
  }
  var state = load();
  if (!state.visitor) { state.visitor = randomId(); state.log = []; save(); }
  // A send cut short by closing the page did not finish: it is not shown as sending.
  state.log = (state.log || []).filter(function (item) { return !item.pending; });

  function post(path, body) {
    return fetch(api + path, {
      method: "POST",
      mode: "cors",
      credentials: "omit",
      // text/plain keeps it a "simple" request: no preflight.
      headers: { "Content-Type": "text/plain;charset=UTF-8" },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { ok: response.ok, status: response.status, data: data };
      });
    });
  }

  var CSS =
    ":host{all:initial}" +
    "*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}" +
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}" +
    ".launcher{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;" +
    "background:#3e63dd;color:#fff;cursor:pointer;box-shadow:0 6px 20px rgba(0,0,0,.25);display:flex;" +
    "align-items:center;justify-content:center;z-index:2147483000}" +
    ".launcher:hover{background:#3358d4}" +
    "button:focus-visible,input:focus-visible,textarea:focus-visible{outline:3px solid #8da4ef;outline-offset:2px}" +
    ".panel{position:fixed;right:20px;bottom:88px;width:360px;max-width:calc(100vw - 40px);height:520px;" +
    "max-height:calc(100vh - 120px);background:#fff;color:#1c2024;border-radius:12px;display:flex;" +
    "flex-direction:column;box-shadow:0 12px 40px rgba(0,0,0,.25);overflow:hidden;z-index:2147483000;font-size:14px}" +
    "[hidden]{display:none!important}" +
    "header{background:#3e63dd;color:#fff;padding:14px 16px;display:flex;align-items:center;gap:8px}" +
    "h2{margin:0;font-size:16px;font-weight:600;flex:1}" +
    ".close{background:transparent;border:0;color:#fff;font-size:22px;line-height:1;cursor:pointer;" +
    "width:32px;height:32px;border-radius:6px}" +
    ".close:hover{background:rgba(255,255,255,.15)}" +
    ".body{flex:1;overflow-y:auto;padding:16px;background:#f9f9fb}" +
    ".intro{margin:0 0 12px;color:#60646c}" +
    "form.details{display:flex;flex-direction:column;gap:10px}" +
    "label{display:flex;flex-direction:column;gap:4px;font-weight:500;color:#1c2024}" +
    "input,textarea{font:inherit;padding:8px 10px;border:1px solid #cdced6;border-radius:8px;color:#1c2024;background:#fff}" +
    ".primary{background:#3e63dd;color:#fff;border:0;border-radius:8px;padding:9px 14px;font:inherit;" +
    "font-weight:600;cursor:pointer}" +
    ".primary:hover{background:#3358d4}.primary:disabled{opacity:.6;cursor:default}" +
    "ol{list-style:none;margin:0;padding:0;display:flex;flex-direction:column;gap:8px}" +
    "li{align-self:flex-end;max-width:85%;background:#3e63dd;color:#fff;padding:8px 12px;border-radius:12px 12px 2px 12px;" +
    "white-space:pre-wrap;overflow-wrap:anywhere}" +
    "li small{display:block;font-size:11px;opacity:.85;margin-top:2px;text-align:right}" +
    "li.note{align-self:stretch;max-width:none;background:#e8ecfb;color:#1f2d5c;border-radius:8px;text-align:center}" +
    ".compose{display:flex;gap:8px;padding:12px;border-top:1px solid #e0e1e6;background:#fff}" +
    ".compose textarea{flex:1;resize:none;min-height:40px;max-height:120px}" +
    ".status{margin:0;padding:0 12px 10px;color:#ce2c31;font-size:13px;background:#fff}" +
    ".status:empty{display:none}";

  var ICON = '<svg width="26" height="26" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" ' +
    'stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 ' +
    '2-2h14a2 2 0 0 1 2 2z"/></svg>';

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) node.textContent = text;
    return node;
  }

  function build(config) {
    var host = el("div", { "data-cloodot-webchat": "" });
    var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
    var style = el("style");
    style.textContent = CSS;
    var launcher = el("button", { type: "button", "class": "launcher", "aria-expanded": "false",
      "aria-controls": "cw-panel", "aria-label": "Open chat" });
    launcher.innerHTML = ICON;
    var panel = el("section", { id: "cw-panel", "class": "panel", role: "dialog", "aria-labelledby": "cw-title" });
    panel.hidden = true;
    var header = el("header");
    var title = el("h2", { id: "cw-title" }, "Chat with " + (config.name || "us"));
    var close = el("button", { type: "button", "class": "close", "aria-label": "Close chat" }, "×");
    header.append(title, close);
    var body = el("div", { "class": "body" });
    var intro = el("p", { "class": "intro" }, "Send us a message: we read every one.");
    var details = el("form", { "class": "details", "aria-label": "Your details" });
    details.innerHTML =
      '<p class="intro" style="margin:0">How can we reach you? Both are optional.</p>' +
      '<label>Name<input name="name" autocomplete="name" maxlength="200"></label>' +
      '<label>Email<input name="email" type="email" autocomplete="email" maxlength="320"></label>' +
      '<button type="submit" class="primary">Start chat</button>';
    var log = el("ol", { role: "log", "aria-live": "polite", "aria-label": "Messages" });
    body.append(intro, details, log);
    var compose = el("form", { "class": "compose" });
    var label = el("label", { "for": "cw-text", "class": "sr" }, "Message");
    var text = el("textarea", { id: "cw-text", rows: "1", maxlength: "2000", placeholder: "Write a message…" });
    var send = el("button", { type: "submit", "class": "primary" }, "Send");
    compose.append(label, text, send);
    var status = el("p", { "class": "status", role: "status", "aria-live": "polite" });
    panel.append(header, body, compose, status);
    root.append(style, launcher, panel);
    document.body.appendChild(host);

    function needsDetails() { return !!config.ask_details && !state.started; }

    function render() {
      var asking = needsDetails();
      details.hidden = !asking;
      compose.hidden = asking;
      intro.hidden = asking;
      log.textContent = "";
      state.log.forEach(function (item) {
        var li = el("li", item.note ? { "class": "note" } : {}, item.text);
        if (!item.note) {
          var when = new Date(item.at);
          li.appendChild(el("small", {}, when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) +
            (item.pending ? " · Sending…" : " · Sent")));
        }
        log.appendChild(li);
      });
      body.scrollTop = body.scrollHeight;
    }

    function open() {
      panel.hidden = false;
      launcher.setAttribute("aria-expanded", "true");
      launcher.setAttribute("aria-label", "Close chat");
      render();
      (needsDetails() ? details.querySelector("input") : text).focus();
    }

    function shut() {
      panel.hidden = true;
      launcher.setAttribute("aria-expanded", "false");
      launcher.setAttribute("aria-label", "Open chat");
      launcher.focus();
    }

    launcher.addEventListener("click", function () { panel.hidden ? open() : shut(); });
    close.addEventListener("click", shut);
    panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { event.preventDefault(); shut(); }
    });

    details.addEventListener("submit", function (event) {
      event.preventDefault();
      state.name = details.elements.name.value.trim();
      state.email = details.elements.email.value.trim();
      state.started = true;
      save();
      render();
      text.focus();
    });

    text.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        compose.requestSubmit ? compose.requestSubmit() : compose.dispatchEvent(new Event("submit"));
      }
    });

    compose.addEventListener("submit", function (event) {
      event.preventDefault();
      var message = text.value.trim();
      if (!message || send.disabled) return;
      var item = { id: randomId(), text: message, at: Date.now(), pending: true };
      state.log.push(item);
      state.log = state.log.slice(-MAX_LOG);
      text.value = "";
      status.textContent = "";
      send.disabled = true;
      render();
      post("/messages", { visitor_id: state.visitor, message_id: item.id, text: message,
        name: state.name || null, email: state.email || null })
        .then(function (answer) {
          if (!answer.ok) throw new Error(answer.data.error || "The message could not be sent.");
          item.pending = false;
          if (!state.thanked) {
            state.thanked = true;
            state.log.push({ note: true, text: "Thanks, we got your message." });
          }
        })
        .catch(function (error) {
          state.log = state.log.filter(function (other) { return other !== item; });
          if (!text.value) text.value = message;
          status.textContent = "Not sent: " + (error && error.message && error.message !== "Failed to fetch" ?
            error.message : "check your connection and try again.");
        })
        .then(function () { send.disabled = false; save(); render(); text.focus(); });
    });
  }

  function start() {
    post("/hello", { visitor_id: state.visitor })
      .then(function (answer) {
        if (!answer.ok) throw new Error(answer.data.error || "refused");
        build(answer.data);
      })
      .catch(function () {
        // A page whose address is not on the site's list gets no CORS answer at all.
        console.warn("Cloodot WebChat: the chat is unavailable here. Is " + location.origin +
          " on this site's allowed websites (Settings → Channels)?");
      });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
