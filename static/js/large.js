/* 长者模式（大字版）: the large-text stylesheet switch (issue 13).
 *
 * The server renders class "large" on <html> from the same cookie (large=1), and the render
 * cache keeps the two variants of each page apart. The switch links work without JavaScript
 * (/large-text?on=1&next=<this page> sets the cookie for a year and comes back); with it they
 * switch at once, without a page load, and set the cookie here. Loaded in <head> before the
 * page is drawn, it also follows a cookie set by another tab since the page was rendered.
 */
(function () {
  "use strict";
  var root = document.documentElement;
  var remembered = /(?:^|;\s*)large=1(?:;|$)/.test(document.cookie);
  if (root.classList.contains("standard")) remembered = false;  // ?large=0 on the URL
  if (remembered) root.classList.add("large");

  function remember(on) {
    var secure = window.location.protocol === "https:" ? "; Secure" : "";
    document.cookie = "large=" + (on ? "1" : "0") + "; Max-Age=31536000; Path=/; SameSite=Lax" + secure;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-large]");
    if (!link) return;
    event.preventDefault();
    var on = link.getAttribute("data-large") === "1";
    remember(on);
    root.classList.toggle("large", on);
    root.classList.toggle("standard", !on);
    var other = document.querySelector('a[data-large="' + (on ? "0" : "1") + '"]');
    if (other) other.focus();
  });

  // A page opened with ?large=1 or ?large=0 (say, from a link shared by a relative) sets the
  // choice as well.
  if (root.classList.contains("large") && !remembered) remember(true);
  if (root.classList.contains("standard") && /(?:^|;\s*)large=1/.test(document.cookie)) remember(false);
}());
