// Draw the bar charts of a page from the JSON next to them. The JSON holds labels, values,
// optionally a second series ("totals" behind "values"), links to open per bar, and
// "horizontal" for long labels. Line charts (data-line-chart) take labels and values.
document.addEventListener("DOMContentLoaded", () => {
  for (const canvas of document.querySelectorAll("canvas[data-line-chart]")) {
    const data = JSON.parse(document.getElementById(canvas.dataset.lineChart).textContent);
    new Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [{ data: data.values, borderColor: "#066fd1", backgroundColor: "rgba(6, 111, 209, .1)", fill: true, tension: 0.3, pointRadius: 2 }],
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: false } },
        scales: { x: { ticks: { maxTicksLimit: 6 }, grid: { display: false } }, y: { beginAtZero: true, ticks: { maxTicksLimit: 3 } } },
      },
    });
  }
  for (const canvas of document.querySelectorAll("canvas[data-bar-chart]")) {
    const data = JSON.parse(document.getElementById(canvas.dataset.barChart).textContent);
    const datasets = [{ label: data.label || "", data: data.values, backgroundColor: "#066fd1", borderRadius: 4 }];
    if (data.totals) {
      datasets.push({ label: data.totals_label || "", data: data.totals, backgroundColor: "#c8dcf3", borderRadius: 4 });
    }
    new Chart(canvas, {
      type: "bar",
      data: { labels: data.labels, datasets },
      options: {
        indexAxis: data.horizontal ? "y" : "x",
        maintainAspectRatio: false,
        plugins: { legend: { display: Boolean(data.totals) } },
        scales: { x: { beginAtZero: true }, y: { beginAtZero: true, ticks: { precision: 0 } } },
        onClick: (_event, elements) => {
          if (elements.length && data.links) window.location.href = data.links[elements[0].index];
        },
        onHover: (event, elements) => {
          event.native.target.style.cursor = elements.length && data.links ? "pointer" : "default";
        },
      },
    });
  }
});
