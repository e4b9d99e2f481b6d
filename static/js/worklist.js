// Worklist: one shared dialog for the less common draw actions (reschedule, missed,
// cancel), filled in for the row whose "More" button was pressed. Collection itself goes
// through the scan box and its confirmation panel (no JavaScript needed).
(function () {
  "use strict";
  const dialog = document.getElementById("draw-actions");
  if (!dialog) return;
  const base = dialog.dataset.base;
  document.querySelectorAll("button.more").forEach(function (button) {
    button.addEventListener("click", function () {
      const id = button.dataset.draw;
      dialog.querySelectorAll("form[data-action]").forEach(function (form) {
        form.action = base + id + "/" + form.dataset.action + "/";
      });
      dialog.querySelector("[data-fill=patient]").textContent = button.dataset.patient;
      dialog.querySelector("[data-fill=due]").textContent = button.dataset.due;
      dialog.querySelector("[data-fill=window]").textContent = button.dataset.window;
      dialog.querySelector("input[name=due_on]").value = button.dataset.due;
      dialog.showModal();
    });
  });
  dialog.querySelector("[data-close]").addEventListener("click", function () {
    dialog.close();
  });
})();

// The collect form: the collection time typed is compared with the draw's window as it is
// typed. Outside it (before it opens, or long after it closes) the "Record anyway" tick
// appears, naming that date and the window, and carries the date it confirms; the server
// accepts the tick only for that date. Without JavaScript the server asks the same after
// the first save.
(function () {
  "use strict";
  const form = document.querySelector("form.collect-form[data-opens]");
  if (!form) return;
  const input = form.querySelector("input[name=collected_at]");
  const confirm = form.querySelector(".outside-confirm");
  if (!input || !confirm) return;
  const box = confirm.querySelector("input[name=early_ok]");
  const label = confirm.querySelector(".outside-label");
  const notes = document.querySelectorAll("[data-outside-note]");
  const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
  const FULL = ["january", "february", "march", "april", "may", "june", "july", "august",
    "september", "october", "november", "december"];
  const SHORT = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const opens = form.dataset.opens;
  const closes = form.dataset.closes;
  const lateDays = parseInt(form.dataset.lateDays || "0", 10);

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  // "2 Dec 2026 14:05", "2 December 2026 14:05", "2026-12-02 14:05", "2026-12-02T14:05".
  function parse(text) {
    const t = text.replace(/,/g, " ").trim().replace(/\s+/g, " ");
    let m = /^(\d{1,2}) ([A-Za-z]+) (\d{4}) (\d{1,2}):(\d{2})$/.exec(t);
    let y, mo, d, hh, mm;
    if (m) {
      const word = m[2].toLowerCase();
      mo = MONTHS.indexOf(word.slice(0, 3)) + 1;
      if (mo === 0 || (word.length > 3 && word !== FULL[mo - 1])) return null;
      d = +m[1]; y = +m[3]; hh = +m[4]; mm = +m[5];
    } else {
      m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::\d{2})?$/.exec(t);
      if (!m) return null;
      y = +m[1]; mo = +m[2]; d = +m[3]; hh = +m[4]; mm = +m[5];
    }
    const date = new Date(Date.UTC(y, mo - 1, d));
    if (date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || hh > 23 || mm > 59) return null;
    return { iso: y + "-" + pad(mo) + "-" + pad(d), when: d + " " + SHORT[mo - 1] + " " + y + " " + pad(hh) + ":" + pad(mm) };
  }

  function daysBetween(a, b) {
    return Math.round((Date.parse(b + "T00:00:00Z") - Date.parse(a + "T00:00:00Z")) / 86400000);
  }

  function update() {
    const typed = parse(input.value);
    let side = "";
    if (typed) {
      if (typed.iso < opens) side = "before";
      else if (daysBetween(closes, typed.iso) > lateDays) side = "after";
    }
    if (!typed) return; // unreadable: leave the page as the server drew it
    notes.forEach(function (n) { n.hidden = side === ""; });
    if (!side) {
      confirm.hidden = true;
      box.disabled = true;
      box.checked = false;
      return;
    }
    if (box.value !== typed.iso) box.checked = false; // a tick covers one date only
    box.value = typed.iso;
    label.textContent = "Record anyway: collected " + typed.when + ", " + side +
      " this draw's window (" + form.dataset.window + ")";
    confirm.hidden = false;
    box.disabled = false;
  }

  input.addEventListener("input", update);
  input.addEventListener("change", update);
})();
