// Draws the model report's charts from the page's JSON (report/page.py). Text and grid
// colours are read from the page's computed style, so they follow the viewer's theme.
const data = JSON.parse(document.getElementById('report-data').textContent);
const style = getComputedStyle(document.body);
const fg = style.color;
Chart.defaults.color = fg;
Chart.defaults.borderColor = 'rgba(128,128,128,0.3)';
Chart.defaults.animation = false;
const palette = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#b07aa1'];
let drawn = 0;
function bars(id, labels, sets, options) {
  const canvas = document.getElementById(id);
  if (!canvas) return;
  new Chart(canvas, {type: 'bar', data: {labels, datasets: sets.map((s, i) => ({
      backgroundColor: palette[i % palette.length], ...s}))},
    options: {responsive: true, maintainAspectRatio: false, ...options}});
  canvas.dataset.rendered = 'true';
  drawn += 1;
}
const boards = data.fit.map(f => f.board.id);
bars('chart-fit', boards, [
  {label: 'flash used, % of the board', data: data.fit.map(f => 100 * f.flash_needed / f.board.flash_bytes)},
  {label: 'RAM used, % of the board', data: data.fit.map(f => 100 * f.ram_needed / f.board.ram_bytes)}],
  {indexAxis: 'y', scales: {y: {ticks: {autoSkip: false}},
    x: {type: 'logarithmic', title: {display: true, text: '% of capacity (100 % = full)'}}}});
const layers = data.layers.layers.map(l => '#' + l.index + ' ' + l.op);
bars('chart-macs', layers, [{label: 'MACs', data: data.layers.layers.map(l => l.macs)}]);
bars('chart-weights', layers, [{label: 'weight bytes', data: data.layers.layers.map(l => l.weight_bytes)}]);
bars('chart-live', layers, [{label: 'activation bytes alive', data: data.layers.layers.map(l => l.live_bytes)}]);
if (data.layers.layers.some(l => l.rmse_steps !== null)) {
  bars('chart-error', layers, [{label: 'int8 error (RMSE, quantization steps)',
    data: data.layers.layers.map(l => l.rmse_steps)}]);
}
bars('chart-arena', ['TFLite Micro', 'standalone C'], [{label: 'arena bytes',
  data: [data.tflm_arena_bytes, data.standalone_arena_bytes]}]);
document.body.dataset.charts = String(drawn);
