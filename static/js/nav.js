// The navigation's menu button, wherever its links do not fit on one line: a narrow screen,
// a long name, the longer words of Spanish and German. Without this script the button
// stays hidden and the links wrap as they are; with it, they fold behind the button.
(() => {
  const button = document.querySelector("header.site .menu-button");
  if (!button) return;
  const nav = button.closest("nav");
  const menu = document.getElementById(button.getAttribute("aria-controls"));
  const show = (open) => {
    button.setAttribute("aria-expanded", String(open));
    menu.classList.toggle("open", open);
  };
  // Unfolded, the links keep to one line (site.css); folded when that line overflows.
  const fold = () => {
    nav.classList.remove("folded");
    const over = menu.scrollWidth > menu.clientWidth || nav.scrollWidth > nav.clientWidth;
    nav.classList.toggle("folded", over);
    if (!over) show(false);
  };
  nav.classList.add("folds");
  button.hidden = false;
  fold();
  window.addEventListener("resize", fold);
  // The unread count arrives after the page, and takes its room in the line.
  document.body.addEventListener("htmx:afterSettle", fold);
  button.addEventListener("click", () => show(button.getAttribute("aria-expanded") !== "true"));
  // Escape closes the open menu and gives the focus back to its button.
  nav.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
      show(false);
      button.focus();
    }
  });
})();
