/* Copy buttons beside the commands the pages show.
 *
 * The buttons are made here, so a page without JavaScript shows no button that cannot work.
 * Commands are `code.command`, the dark command blocks (`pre.shop-pre--command`) and any
 * inline `code` that is a whole kubectl command. Regions that htmx swaps in (live pages,
 * checked steps) get their buttons as they arrive. One polite live region says "Copied".
 */
(function () {
  "use strict";

  var BLOCKS = "pre.shop-pre--command, pre.code";
  var INLINE = "code.command, main code";
  var status = null;

  function isCommand(code) {
    if (code.classList.contains("command")) {
      return true;
    }
    if (code.closest("pre, button, a, .copyable")) {
      return false;
    }
    return /^kubectl\s+\S/.test(code.textContent.trim());
  }

  function announce(text) {
    if (status === null) {
      status = document.createElement("p");
      status.className = "visually-hidden";
      status.setAttribute("role", "status");
      status.setAttribute("aria-live", "polite");
      document.body.appendChild(status);
    }
    // Emptied first, so copying the same command twice is announced twice.
    status.textContent = "";
    window.setTimeout(function () {
      status.textContent = text;
    }, 50);
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      var done = false;
      try {
        done = document.execCommand("copy");
      } catch (error) {
        done = false;
      }
      document.body.removeChild(area);
      if (done) {
        resolve();
      } else {
        reject(new Error("copy refused"));
      }
    });
  }

  function button(text) {
    var made = document.createElement("button");
    made.type = "button";
    made.className = "copy-button";
    made.textContent = "Copy";
    var shown = text.length > 60 ? text.slice(0, 57) + "…" : text;
    made.setAttribute("aria-label", "Copy: " + shown);
    made.addEventListener("click", function () {
      copyText(text).then(
        function () {
          made.textContent = "Copied";
          made.setAttribute("data-copied", "");
          announce("Copied");
          window.setTimeout(function () {
            made.textContent = "Copy";
            made.removeAttribute("data-copied");
          }, 2000);
        },
        function () {
          announce("Could not copy: select the command and copy it by hand.");
        }
      );
    });
    return made;
  }

  function within(root, selector) {
    var found = Array.prototype.slice.call(root.querySelectorAll(selector));
    if (root.matches && root.matches(selector)) {
      found.unshift(root);
    }
    return found;
  }

  function enhance(root) {
    if (!root || !root.querySelectorAll) {
      return;
    }
    within(root, BLOCKS).forEach(function (pre) {
      if (pre.hasAttribute("data-copy-ready")) {
        return;
      }
      pre.setAttribute("data-copy-ready", "");
      var text = pre.textContent.replace(/\s+$/, "");
      var wrapper = document.createElement("div");
      wrapper.className = "copyable";
      pre.parentNode.insertBefore(wrapper, pre);
      wrapper.appendChild(pre);
      wrapper.appendChild(button(text));
    });
    within(root, INLINE).forEach(function (code) {
      if (code.hasAttribute("data-copy-ready") || !isCommand(code)) {
        return;
      }
      code.setAttribute("data-copy-ready", "");
      code.insertAdjacentElement("afterend", button(code.textContent.trim()));
    });
  }

  enhance(document);
  document.addEventListener("htmx:load", function (event) {
    enhance(event.target);
  });
})();
