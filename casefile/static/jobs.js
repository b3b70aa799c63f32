// Follows a background job on its page: polls the status and moves the progress bar; when the
// job has finished, reloads the page, which then shows the result or the error.
(function () {
  "use strict";
  var section = document.getElementById("job");
  if (!section) {
    return;
  }
  var url = section.getAttribute("data-status-url");
  var bar = document.getElementById("job-progress");
  var percent = document.getElementById("job-percent");
  var counts = document.getElementById("job-counts");
  var message = document.getElementById("job-message");
  var delay = 1000;

  function show(status) {
    bar.value = status.percent;
    bar.textContent = status.percent + " %";
    percent.textContent = status.percent + " %";
    counts.textContent = status.total ? status.done + " / " + status.total : "";
    message.textContent = status.message || "";
    section.setAttribute("data-state", status.state);
  }

  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}, cache: "no-store"})
      .then(function (response) {
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.json();
      })
      .then(function (status) {
        show(status);
        if (status.finished) {
          window.location.reload();
          return;
        }
        delay = 1000;
        window.setTimeout(poll, delay);
      })
      .catch(function () {
        // The server is busy or restarting: try again, less often.
        delay = Math.min(delay * 2, 10000);
        window.setTimeout(poll, delay);
      });
  }

  window.setTimeout(poll, delay);
}());
