// The lab's upload pages. The server renders every state of an upload (progress, result,
// every problem with its line and column) as one panel; this script only sends the file
// and re-fetches that panel until the upload has finished, then refreshes the list of
// recent uploads. Upload page: #upload-form. An upload's own page: .upload-panel.
(function () {
  "use strict";
  const POLL_MS = 1000;

  function panelOf(root) { return root.querySelector(".upload-panel"); }

  function stopped(root, text) {
    const p = document.createElement("p");
    p.className = "msg msg-warning";
    p.textContent = text;
    root.append(p);
  }

  // Replace the panel inside `root` with a fresh copy until it says it has finished.
  function watch(root, url, whenFinished) {
    fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" }, cache: "no-store" })
      .then(function (r) {
        // Sent to the login page (the session ended) or refused: polling cannot help.
        if (r.redirected || (r.status >= 400 && r.status < 500)) return null;
        if (!r.ok) throw new Error("status " + r.status);
        return r.text();
      })
      .then(function (html) {
        if (html === null || html.indexOf('class="upload-panel"') === -1) {
          stopped(root, "This page stopped updating (your session may have ended): reload it.");
          return;
        }
        const current = panelOf(root);
        if (!current || current.outerHTML.trim() !== html.trim()) {
          const holder = document.createElement("div");
          holder.innerHTML = html;
          const fresh = holder.firstElementChild;
          if (current) current.replaceWith(fresh); else root.append(fresh);
        }
        if (panelOf(root).dataset.finished === "true") {
          if (whenFinished) whenFinished();
        } else {
          setTimeout(function () { watch(root, url, whenFinished); }, POLL_MS);
        }
      })
      .catch(function () {  // a network blip: try again a little later
        setTimeout(function () { watch(root, url, whenFinished); }, POLL_MS * 3);
      });
  }

  // An upload's own page: keep its panel current while the file is processed.
  const live = document.getElementById("upload-live");
  if (live) {
    const panel = panelOf(live);
    if (panel && panel.dataset.finished !== "true") {
      setTimeout(function () { watch(live, panel.dataset.panel); }, POLL_MS);
    }
  }

  const form = document.getElementById("upload-form");
  if (!form) return;
  const box = document.getElementById("upload-status");
  const sending = document.getElementById("upload-sending");
  const result = document.getElementById("upload-result");
  const recent = document.getElementById("recent-uploads");
  const button = form.querySelector("button[type=submit]");
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;

  function refreshRecent() {
    fetch(form.dataset.recent, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok && !r.redirected ? r.text() : Promise.reject(r.status); })
      .then(function (html) { recent.innerHTML = html; })
      .catch(function () {});
  }

  function message(text) {
    const p = document.createElement("p");
    p.className = "msg msg-error";
    p.textContent = text;
    result.replaceChildren(p);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    box.hidden = false;
    sending.hidden = false;
    result.replaceChildren();
    button.disabled = true;
    fetch(form.dataset.api, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, Accept: "application/json" },
    })
      .then(function (r) { return r.json(); })
      .then(function (body) {
        const id = body.id !== undefined ? body.id : body.extra && body.extra.upload_id;
        if (id === undefined || id === null) {  // refused before it was recorded
          sending.hidden = true;
          const fields = (body.extra && body.extra.fields) || {};
          message("Not accepted: " + (fields.file || [body.message]).join(" "));
          button.disabled = false;
          return;
        }
        refreshRecent();  // the new upload is listed at once, finished or not
        sending.hidden = true;
        watch(result, form.dataset.panel.replace("/0/", "/" + id + "/"), function () {
          button.disabled = false;
          form.reset();
          refreshRecent();
        });
      })
      .catch(function () {
        sending.hidden = true;
        button.disabled = false;
        message("The file could not be sent; check the connection and try again.");
      });
  });
})();
