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
