// Drag a deal to another stage: the server checks the stage's rules and answers with the
// whole board, so a refused move simply shows the deal where it was, with the reason.
function makeDroppable(root) {
  for (const zone of root.querySelectorAll("[data-dropzone]")) {
    if (zone.sortable) continue;
    zone.sortable = Sortable.create(zone, {
      group: "deals",
      draggable: "[data-deal]",
      animation: 150,
      ghostClass: "deal-card-ghost",
      onEnd(event) {
        if (event.to === event.from) return;
        htmx.ajax("POST", event.item.dataset.moveUrl, {
          source: event.item,
          target: "#board",
          swap: "outerHTML",
          values: { stage: event.to.dataset.stage, from: "board" },
        });
      },
    });
  }
}

document.addEventListener("htmx:load", (event) => makeDroppable(event.detail.elt));
