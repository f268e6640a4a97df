/* 家庭码 signing: signature_pad on the canvas; on submit the PNG goes into the hidden field. */
(function () {
  "use strict";
  var form = document.getElementById("fa-sign-form");
  if (!form || typeof window.SignaturePad === "undefined") {
    return;
  }
  var wrap = form.querySelector("[data-pad]");
  var canvas = form.querySelector("canvas");
  var field = form.querySelector("input[name=signature]");
  var clearButton = form.querySelector("[data-pad-clear]");
  var message = form.querySelector("[data-pad-message]");
  var submit = form.querySelector("[data-submit]");
  // The server refuses images over 2000 px a side: cap the backing store, not the drawing.
  var MAX_BACKING_WIDTH = 1600;

  wrap.hidden = false;
  var pad = new window.SignaturePad(canvas, {
    penColor: "#000",
    minWidth: 1.5,
    maxWidth: 4,
    backgroundColor: "rgba(0,0,0,0)"
  });

  var lastWidth = 0;
  function resize() {
    var width = canvas.offsetWidth;
    // Phones fire "resize" when the address bar hides while scrolling: only a new width redraws.
    if (!width || width === lastWidth) {
      return;
    }
    lastWidth = width;
    var ratio = Math.min(Math.max(window.devicePixelRatio || 1, 1), MAX_BACKING_WIDTH / width);
    var strokes = pad.toData();
    canvas.width = Math.floor(width * ratio);
    canvas.height = Math.floor(canvas.offsetHeight * ratio);
    canvas.getContext("2d").scale(ratio, ratio);
    pad.clear();
    pad.fromData(strokes);
  }
  window.addEventListener("resize", resize);
  resize();

  function hideMessage() {
    message.hidden = true;
  }
  pad.addEventListener("beginStroke", hideMessage);
  clearButton.addEventListener("click", function () {
    pad.clear();
    field.value = "";
    hideMessage();
  });

  form.addEventListener("submit", function (event) {
    if (pad.isEmpty()) {
      event.preventDefault();
      message.textContent = message.getAttribute("data-empty");
      message.hidden = false;
      canvas.scrollIntoView({ block: "center" });
      return;
    }
    field.value = pad.toDataURL("image/png");
    // A double tap on a slow network must not send the form twice.
    submit.disabled = true;
  });
})();
