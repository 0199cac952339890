// A uPlot time-series chart that follows its container's width.

import { html } from 'htm/preact';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export const PALETTE = ['#1d4ed8', '#b45309', '#047857', '#be123c', '#6d28d9', '#0e7490', '#4d7c0f', '#a21caf'];

const INTEGER_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 1e6, 1e7, 1e8];
const nonZero = (values) => values.flatMap((v, i) => (v ? [i] : []));

/** `x`: Unix seconds; `series`: [{label, values}]; `format`: a value as text (`legend`: in
 * the legend, if not the axis's short form); `integer`: counts, so no tick between two
 * whole numbers. */
export function Chart({ title, x, series, format = (v) => String(v), integer = false, legend = format }) {
  const box = useRef();
  useEffect(() => {
    const element = box.current;
    const width = () => Math.max(260, element.clientWidth);
    const plot = new uPlot({
      width: width(),
      height: 180,
      title,
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: [{}, { values: (u, ticks) => ticks.map(format), size: 64, ...(integer ? { incrs: INTEGER_STEPS } : {}) }],
      series: [{}, ...series.map((s, i) => ({
        label: s.label,
        stroke: PALETTE[i % PALETTE.length],
        fill: `${PALETTE[i % PALETTE.length]}18`,
        width: 2,
        // A dot wherever something happened: a lone bucket would otherwise draw nothing.
        points: { show: true, size: 6, filter: (u, i) => nonZero(u.data[i]) },
        value: (u, v) => (v == null ? '—' : legend(v)),
      }))],
      legend: { live: true },
    }, [x, ...series.map((s) => s.values)], element);
    const resize = new ResizeObserver(() => plot.setSize({ width: width(), height: 180 }));
    resize.observe(element);
    return () => { resize.disconnect(); plot.destroy(); };
  }, [title, x, series]);
  return html`<figure class="chart">
    <div ref=${box} role="img" aria-label=${`${title}: chart over time; see the table below for the numbers`}></div>
    <figcaption class="sr-only">${title}</figcaption>
  </figure>`;
}
