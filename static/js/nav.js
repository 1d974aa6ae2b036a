// The navigation's menu button on narrow screens. Without this script the button stays
// hidden and the links show as they are; with it, they fold behind the button.
(() => {
  const button = document.querySelector("header.site .menu-button");
  if (!button) return;
  const nav = button.closest("nav");
  const menu = document.getElementById(button.getAttribute("aria-controls"));
  const show = (open) => {
    button.setAttribute("aria-expanded", String(open));
    menu.classList.toggle("open", open);
  };
  nav.classList.add("folds");
  button.hidden = false;
  button.addEventListener("click", () => show(button.getAttribute("aria-expanded") !== "true"));
  // Escape closes the open menu and gives the focus back to its button.
  nav.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
      show(false);
      button.focus();
    }
  });
})();
