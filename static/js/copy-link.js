/* The receipt's "copy the link" button (issue 16). Progressive enhancement: without JavaScript
   the link is a read-only text box the resident selects and copies; with it, the button appears
   and copies in one tap. A static file, so the strict CSP needs no inline script. */
(function () {
  "use strict";
  var boxes = document.querySelectorAll("[data-copy-box]");
  Array.prototype.forEach.call(boxes, function (box) {
    var source = box.querySelector("[data-copy-source]");
    var button = box.querySelector("[data-copy-button]");
    var message = box.querySelector("[data-copy-message]");
    if (!source || !button || !message) {
      return;
    }
    source.addEventListener("focus", function () {
      source.select();
    });
    function say(text) {
      message.textContent = text;
      message.hidden = false;
    }
    function fallback() {
      source.focus();
      source.select();
      var ok = false;
      try {
        ok = document.execCommand("copy");
      } catch (e) {
        ok = false;
      }
      say(ok ? button.getAttribute("data-copied") : button.getAttribute("data-failed"));
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(source.value).then(function () {
          say(button.getAttribute("data-copied"));
        }, fallback);
      } else {
        fallback();
      }
    });
  });
})();
