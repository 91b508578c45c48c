/* The answering workbench's keyboard shortcuts and save-without-reload (issue 13).
 *
 * Everything here is an enhancement of plain forms that work without JavaScript: the keys
 * pick the same radios and options a mouse would, and a save posts the same form with fetch,
 * then shows the page the server redirected to in place of the current one (no full reload,
 * focus kept on the answer). If fetch fails, the form is submitted the ordinary way.
 *
 *   1–5 (Alt+1–5 in a text field)  choose the disposition
 *   a, b, c …                       apply the reason template with that letter
 *   r                               go to the reason
 *   Ctrl+Enter (⌘+Enter)            save and go to the next comment
 *   s                               skip: the comment comes back after the others
 */
(function () {
  "use strict";

  var busy = false;

  function form() {
    return document.querySelector("form[data-wb-form]");
  }

  function typing(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    if (tag === "textarea" || tag === "select") return true;
    if (tag === "input") {
      var type = (target.getAttribute("type") || "text").toLowerCase();
      return ["radio", "checkbox", "submit", "button"].indexOf(type) === -1;
    }
    return target.isContentEditable;
  }

  function chooseCode(f, key) {
    var radio = f.querySelector('input[name="code"][data-key="' + key + '"]');
    if (!radio) return false;
    radio.checked = true;
    radio.focus();
    return true;
  }

  function applyTemplate(f, letter) {
    var select = f.querySelector("select.wb-template");
    if (!select) return false;
    var option = select.querySelector('option[data-key="' + letter + '"]');
    if (!option) return false;
    select.value = option.value;
    // The server fills what the form left empty, and so does this, so the page shows it.
    var checked = f.querySelector('input[name="code"]:checked');
    if (!checked) {
      var radio = f.querySelector('input[name="code"][value="' + option.getAttribute("data-code") + '"]');
      if (radio) radio.checked = true;
    }
    var reason = f.querySelector("textarea.wb-reason");
    if (reason && !reason.value.trim()) reason.value = option.getAttribute("data-text") || "";
    if (reason) reason.focus();
    return true;
  }

  function submitWith(f, selector) {
    var button = f.querySelector(selector);
    if (!button) return false;
    if (f.requestSubmit) f.requestSubmit(button); else button.click();
    return true;
  }

  document.addEventListener("keydown", function (event) {
    var f = form();
    if (!f || busy) return;
    var key = event.key;
    if ((event.ctrlKey || event.metaKey) && key === "Enter") {
      event.preventDefault();
      submitWith(f, ".wb-save");
      return;
    }
    if (event.altKey && /^[1-5]$/.test(key)) {
      if (chooseCode(f, key)) event.preventDefault();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (/^[1-5]$/.test(key)) {
      if (chooseCode(f, key)) event.preventDefault();
    } else if (key === "r") {
      var reason = f.querySelector("textarea.wb-reason");
      if (reason) { event.preventDefault(); reason.focus(); }
    } else if (key === "s") {
      if (submitWith(f, ".wb-skip")) event.preventDefault();
    } else if (/^[a-z]$/.test(key)) {
      if (applyTemplate(f, key)) event.preventDefault();
    }
  });

  function fallback(f, submitter) {
    if (submitter && submitter.name) {
      var hidden = document.createElement("input");
      hidden.type = "hidden";
      hidden.name = submitter.name;
      hidden.value = submitter.value;
      f.appendChild(hidden);
    }
    HTMLFormElement.prototype.submit.call(f);
  }

  function show(html, url) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var main = doc.querySelector("main");
    if (!main) return false;
    document.querySelector("main").innerHTML = main.innerHTML;
    document.title = doc.title;
    if (url && url !== window.location.href) window.history.pushState(null, "", url);
    var target = document.querySelector("main [autofocus]") ||
      document.querySelector("main [aria-invalid=true]") ||
      document.getElementById("comment-title") || document.querySelector("main h1");
    if (target) {
      if (!target.hasAttribute("tabindex") && /^H[1-6]$/.test(target.tagName)) {
        target.setAttribute("tabindex", "-1");
      }
      target.focus();
    }
    return true;
  }

  document.addEventListener("submit", function (event) {
    var f = event.target;
    if (!f.matches || !f.matches("form[data-wb-form]") || !window.fetch || !window.DOMParser) return;
    event.preventDefault();
    if (busy) return;
    busy = true;
    var submitter = event.submitter || null;
    var data;
    try {
      data = new FormData(f, submitter);
    } catch (error) {  // browsers without the submitter argument
      data = new FormData(f);
      if (submitter && submitter.name) data.append(submitter.name, submitter.value);
    }
    // URL-encoded, as the browser itself posts these forms (multipart has a limit of parts).
    var body = new URLSearchParams(data);
    f.setAttribute("aria-busy", "true");
    // Not f.action: the save and skip buttons are named "action" and would shadow it.
    var url = new URL(f.getAttribute("action") || window.location.href, window.location.href);
    window.fetch(url.href, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" }
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("text/html") === -1) throw new Error("not a page");
      return response.text().then(function (html) {
        if (!show(html, response.url)) throw new Error("no main");
      });
    }).then(function () {
      busy = false;
      // how many saves this page has shown (browser tests and bench/answering.py wait on it)
      var root = document.documentElement;
      root.setAttribute("data-wb-saves", String(Number(root.getAttribute("data-wb-saves") || 0) + 1));
    }).catch(function () {
      busy = false;
      fallback(f, submitter);
    });
  });

  window.addEventListener("popstate", function () {
    window.location.reload();
  });
}());
