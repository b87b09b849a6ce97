// Draw the bar charts of a page from the JSON next to them; a click on a bar opens its records.
document.addEventListener("DOMContentLoaded", () => {
  for (const canvas of document.querySelectorAll("canvas[data-bar-chart]")) {
    const data = JSON.parse(document.getElementById(canvas.dataset.barChart).textContent);
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [{ data: data.values, backgroundColor: "#066fd1", borderRadius: 4 }],
      },
      options: {
        maintainAspectRatio: false,
        plugins: { legend: { display: false } },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
        onClick: (_event, elements) => {
          if (elements.length) window.location.href = data.links[elements[0].index];
        },
        onHover: (event, elements) => {
          event.native.target.style.cursor = elements.length ? "pointer" : "default";
        },
      },
    });
  }
});
