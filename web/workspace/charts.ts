import { h, svg } from './dom';

/**
 * A bar chart drawn as SVG in the page's theme colours, with its data as a table beside it:
 * the table is the chart's text alternative (screen readers, high contrast, copying figures).
 */
export interface Series {
  name: string;
  /** CSS class for the bars and the legend swatch (colours come from the theme tokens). */
  className: string;
  values: number[];
}

const WIDTH = 640;
const HEIGHT = 260;
const MARGIN = { top: 12, right: 12, bottom: 48, left: 40 };

export function barChart(options: {
  id: string;
  title: string;
  summary: string;
  categories: string[];
  categoryHeader: string;
  series: Series[];
  stacked: boolean;
}): HTMLElement {
  const { id, categories, series, stacked } = options;
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const totals = categories.map((_, index) =>
    stacked ? series.reduce((sum, one) => sum + (one.values[index] ?? 0), 0) : Math.max(...series.map((one) => one.values[index] ?? 0)),
  );
  const max = Math.max(1, ...totals);
  const scale = (value: number) => (value / max) * plotHeight;
  const band = plotWidth / Math.max(1, categories.length);
  const barWidth = stacked ? band * 0.6 : (band * 0.7) / series.length;

  const chart = svg('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', 'aria-labelledby': `${id}-title ${id}-summary`, focusable: 'false' });
  for (const tick of [0, Math.round(max / 2), max]) {
    const y = MARGIN.top + plotHeight - scale(tick);
    chart.append(
      svg('line', { class: 'axis-line', x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y, y2: y }),
      svg('text', { class: 'axis-text', x: MARGIN.left - 6, y: y + 4, 'text-anchor': 'end' }, String(tick)),
    );
  }
  categories.forEach((category, index) => {
    const x0 = MARGIN.left + band * index;
    let stackedHeight = 0;
    series.forEach((one, seriesIndex) => {
      const value = one.values[index] ?? 0;
      const height = scale(value);
      const x = stacked ? x0 + (band - barWidth) / 2 : x0 + (band - barWidth * series.length) / 2 + barWidth * seriesIndex;
      const y = MARGIN.top + plotHeight - height - (stacked ? stackedHeight : 0);
      if (stacked) stackedHeight += height;
      if (value > 0) chart.append(svg('rect', { class: one.className, x, y, width: Math.max(1, barWidth - 2), height }));
    });
    chart.append(svg('text', { class: 'axis-text', x: x0 + band / 2, y: HEIGHT - MARGIN.bottom + 16, 'text-anchor': 'middle' }, category));
  });

  const table = h(
    'table',
    { id: `${id}-table` },
    h('caption', {}, `${options.title}: the figures`),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, options.categoryHeader),
        series.map((one) => h('th', { scope: 'col', class: 'number' }, one.name)),
      ),
    ),
    h(
      'tbody',
      {},
      categories.map((category, index) =>
        h(
          'tr',
          {},
          h('th', { scope: 'row' }, category),
          series.map((one) => h('td', { class: 'number' }, String(one.values[index] ?? 0))),
        ),
      ),
    ),
  );
  return h(
    'figure',
    { class: 'panel chart', id, 'aria-labelledby': `${id}-title` },
    h('h2', { id: `${id}-title` }, options.title),
    h('p', { id: `${id}-summary` }, options.summary),
    h(
      'ul',
      { class: 'legend', 'aria-hidden': 'true' },
      series.map((one) => h('li', {}, h('span', { class: `swatch ${one.className.replace(/^bar-/, '')}` }), one.name)),
    ),
    chart,
    h('div', { class: 'table-scroll', role: 'region', 'aria-label': `${options.title}: the figures`, tabindex: 0 }, table),
  );
}
