// Polls the import job's status once a second and updates the progress bar and counts (CSP: no inline script).
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  if (!box) { return; }
  var url = box.getAttribute("data-status-url");
  var bar = document.getElementById("import-progress-bar");
  var statusText = document.getElementById("import-progress-status");
  var failure = document.getElementById("import-progress-failure");
  var errors = document.getElementById("import-progress-errors");

  function update(job) {
    bar.max = Math.max(job.total_bytes, 1);
    bar.value = job.status === "done" ? bar.max : job.bytes_done;
    statusText.textContent = job.status_label;
    box.querySelectorAll("[data-count]").forEach(function (el) {
      el.textContent = String(job[el.getAttribute("data-count")]);
    });
    if (job.failure) { failure.textContent = job.failure; failure.hidden = false; }
    if (job.rows_rejected > 0) { errors.hidden = false; }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (job) {
        if (!job) { return; }
        update(job);
        if (!job.finished) { window.setTimeout(poll, 1000); }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 1000);
})();
