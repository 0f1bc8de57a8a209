// One Plotly figure, drawn once. plotly.js's cartesian bundle (every chart type the dashboard
// draws) is loaded once per browser tab from the app's static files, and kept by the browser.
const BUNDLE = "app/static/plotly-cartesian-4.1.1.min.js";

function plotly() {
  window.fiscalPlotly ??= new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = new URL(BUNDLE, document.baseURI).href;
    script.onload = () => resolve(window.Plotly);
    script.onerror = () => {
      window.fiscalPlotly = undefined;  // the next chart tries again
      reject(new Error("plotly.js did not load"));
    };
    document.head.appendChild(script);
  });
  return window.fiscalPlotly;
}

export default function ({ data, parentElement }) {
  const { figure, config } = JSON.parse(new TextDecoder().decode(data));
  const chart = document.createElement("div");
  chart.className = "fiscal-chart";
  chart.style.height = `${figure.layout.height}px`;  // the page does not jump when it is drawn
  parentElement.appendChild(chart);
  let removed = false;
  let drawnWidth;
  // Redrawn when its column changes width (the sidebar opened or closed, the window resized).
  const resized = new ResizeObserver(() => {
    if (drawnWidth !== undefined && chart.clientWidth !== drawnWidth) {
      drawnWidth = chart.clientWidth;
      window.Plotly.Plots.resize(chart);
    }
  });
  plotly().then(Plotly => {
    if (removed) return;
    drawnWidth = chart.clientWidth;
    Plotly.newPlot(chart, figure.data, figure.layout, config);
    resized.observe(chart);
  });
  return () => {
    removed = true;
    resized.disconnect();
    window.Plotly?.purge(chart);
    chart.remove();
  };
}
