// The shared layout: the user menu closes like a menu, and any box that scrolls sideways or
// down can be reached and scrolled from the keyboard.
(function () {
  "use strict";

  // Boxes our stylesheet lets scroll: cards (wide tables), .table-scroll, previews.
  var SCROLLERS = ".card, .table-scroll, pre";

  function scrolls(element) {
    var style = getComputedStyle(element);
    var sideways = /auto|scroll/.test(style.overflowX) && element.scrollWidth > element.clientWidth + 1;
    var down = /auto|scroll/.test(style.overflowY) && element.scrollHeight > element.clientHeight + 1;
    return sideways || down;
  }

  function hasFocusable(element) {
    return element.querySelector(
      "a[href], button, input, select, textarea, iframe, summary, [tabindex]:not([tabindex='-1'])"
    ) !== null;
  }

  // A box that scrolls with nothing focusable inside is out of reach of the arrow keys unless
  // it takes focus itself; it gives focus back up once it no longer scrolls.
  function reachScrollers() {
    document.querySelectorAll(SCROLLERS).forEach(function (element) {
      var added = element.hasAttribute("data-scroll-focus");
      if (scrolls(element) && !hasFocusable(element)) {
        if (!added && !element.hasAttribute("tabindex")) {
          element.setAttribute("tabindex", "0");
          element.setAttribute("data-scroll-focus", "");
        }
      } else if (added) {
        element.removeAttribute("tabindex");
        element.removeAttribute("data-scroll-focus");
      }
    });
  }

  var pending = null;
  function later() {
    clearTimeout(pending);
    pending = setTimeout(reachScrollers, 150);
  }

  function closeMenus(except) {
    document.querySelectorAll("details.user-menu[open]").forEach(function (menu) {
      if (menu !== except) menu.removeAttribute("open");
    });
  }

  document.addEventListener("click", function (event) {
    closeMenus(event.target.closest ? event.target.closest("details.user-menu") : null);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var menu = document.activeElement && document.activeElement.closest
      ? document.activeElement.closest("details.user-menu[open]")
      : null;
    if (menu) {
      menu.removeAttribute("open");
      menu.querySelector("summary").focus();
    }
  });

  document.addEventListener("DOMContentLoaded", reachScrollers);
  window.addEventListener("load", reachScrollers);
  window.addEventListener("resize", later);
  document.addEventListener("htmx:afterSettle", later);
  document.addEventListener("toggle", later, true);
})();
