// Worklist: one shared dialog for the less common draw actions (missed, reschedule,
// cancel), filled in for the row whose "More actions" button was pressed.
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
      const date = dialog.querySelector("input[name=due_on]");
      date.min = button.dataset.min;
      date.max = button.dataset.max;
      date.value = button.dataset.due < button.dataset.min ? button.dataset.min : button.dataset.due;
      dialog.showModal();
    });
  });
  dialog.querySelector("[data-close]").addEventListener("click", function () {
    dialog.close();
  });
})();
