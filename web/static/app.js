// Only conveniences: every page works without this script.
// Enter moves to the next box of the worksheet; answers being typed survive a reload (practice).
(function () {
  "use strict";
  var form = document.getElementById("sheet");
  if (!form) { return; }
  var boxes = Array.prototype.slice.call(form.querySelectorAll(".mat-blank input"));
  boxes.forEach(function (box, k) {
    box.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey && boxes[k + 1]) {
        e.preventDefault();
        boxes[k + 1].focus();
        boxes[k + 1].select();
      }
    });
  });
  var key = "handcalc:" + form.getAttribute("data-draft");
  var storage = null;
  try { storage = window.localStorage; } catch (err) { storage = null; }
  if (!storage) { return; }
  var blank = boxes.every(function (b) { return b.value === ""; });
  var saved = null;
  try { saved = JSON.parse(storage.getItem(key) || "null"); } catch (err) { saved = null; }
  if (blank && saved) {
    boxes.forEach(function (b) { if (saved[b.name]) { b.value = saved[b.name]; } });
  }
  form.addEventListener("input", function () {
    var draft = {};
    boxes.forEach(function (b) { if (b.value) { draft[b.name] = b.value; } });
    storage.setItem(key, JSON.stringify(draft));
  });
  form.addEventListener("submit", function () { storage.removeItem(key); });
}());
