// Upload page: send the file to the API, then poll the upload's progress until it ends.
(function () {
  "use strict";
  const form = document.getElementById("upload-form");
  if (!form) return;
  const box = document.getElementById("upload-status");
  const stateText = document.getElementById("upload-state");
  const counts = document.getElementById("upload-counts");
  const bar = document.getElementById("upload-progress");
  const result = document.getElementById("upload-result");
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const statusUrl = function (id) { return form.dataset.status.replace(/0\/$/, id + "/"); };

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }

  function show(upload) {
    const total = Math.max(upload.rows_total || 0, 1);
    bar.max = total;
    bar.value = upload.state === "done" ? total : Math.min(upload.rows_done || 0, total);
    counts.textContent = (upload.rows_done || 0) + " of " + (upload.rows_total || "?") + " rows checked";
    result.replaceChildren();
    if (upload.state === "queued" || upload.state === "processing") {
      stateText.textContent = upload.state === "queued" ? "Waiting for a worker…" : "Checking and storing…";
      return false;
    }
    if (upload.state === "done") {
      stateText.textContent = "Done.";
      result.append(el("p", upload.reports_stored + " report(s) stored, " +
        upload.reports_unchanged + " already received (unchanged).", "msg msg-success"));
      return true;
    }
    stateText.textContent = "Rejected: nothing from this file was stored.";
    result.append(el("p", "Fix these and upload the whole file again.", "msg msg-error"));
    const table = el("table");
    const head = el("tr");
    ["Line", "Field", "Problem"].forEach(function (h) { const th = el("th", h); th.scope = "col"; head.append(th); });
    table.append(el("thead")); table.firstChild.append(head);
    const body = el("tbody");
    (upload.errors || []).forEach(function (e) {
      const tr = el("tr");
      tr.append(el("td", e.line === null ? "—" : String(e.line)), el("td", e.field || "—", "mono"), el("td", e.message));
      body.append(tr);
    });
    table.append(body);
    result.append(table);
    return true;
  }

  function poll(id) {
    fetch(statusUrl(id), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (upload) { if (!show(upload)) setTimeout(function () { poll(id); }, 700); });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    box.hidden = false;
    stateText.textContent = "Uploading…";
    bar.removeAttribute("value");
    result.replaceChildren();
    fetch(form.dataset.api, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, Accept: "application/json" },
    })
      .then(function (r) { return r.json(); })
      .then(function (body) {
        if (body.extra && body.extra.upload) {  // a rejected file: show its errors
          show(body.extra.upload);
          return;
        }
        if (body.id === undefined) {  // refused before it was recorded (no file, size, format)
          stateText.textContent = "Not accepted.";
          const fields = (body.extra && body.extra.fields) || {};
          result.append(el("p", (fields.file || [body.message]).join(" "), "msg msg-error"));
          return;
        }
        if (!show(body)) poll(body.id);
      })
      .catch(function () { stateText.textContent = "The upload could not be sent; try again."; });
  });
})();
