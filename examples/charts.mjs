// The examples' plots: Vega-Lite specs compiled by vega-lite and rendered to SVG by vega in Node
// (no browser, no canvas), written beside the example's JSON as examples/out/<name>.svg.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vega from 'vega';
import { compile } from 'vega-lite';
import { outDir } from './common.mjs';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
export const DIGIT_COLOURS = { field: 'digit', type: 'nominal', title: 'digit', scale: { scheme: 'category10' } };

export async function writeChart(name, spec) {
  const view = new vega.View(vega.parse(compile({ $schema: SCHEMA, background: 'white', ...spec }).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, `${name}.svg`), svg);
  console.log(`wrote ${join(outDir, name)}.svg`);
}

/** Rows {x, y, …} from interleaved 2-D points, with extra fields per row. */
export function pointRows(xy, extra = () => ({})) {
  const rows = [];
  for (let i = 0; i < xy.length / 2; i++) rows.push({ x: xy[2 * i], y: xy[2 * i + 1], ...extra(i) });
  return rows;
}

/** A line chart of `series` ({name: [{x, y}]}) with an optional dashed target line. */
export function lineSpec({ title, series, xTitle, yTitle, target, yScale = {} }) {
  const values = Object.entries(series).flatMap(([s, pts]) => pts.map((p) => ({ ...p, series: s })));
  const layers = [{
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: xTitle },
      y: { field: 'y', type: 'quantitative', title: yTitle, scale: yScale.type === 'log' ? yScale : { zero: false, ...yScale } },
      color: { field: 'series', type: 'nominal', title: null, legend: { orient: 'top-right' } },
    },
  }];
  if (target) {
    layers.push({
      data: { values: [{ y: target.value, label: target.label }] },
      layer: [
        { mark: { type: 'rule', strokeDash: [6, 4], color: '#555' }, encoding: { y: { field: 'y', type: 'quantitative' } } },
        { mark: { type: 'text', align: 'left', dx: 4, dy: -6, color: '#555' }, encoding: { y: { field: 'y', type: 'quantitative' }, x: { value: 0 }, text: { field: 'label' } } },
      ],
    });
  }
  return { title, width: 480, height: 280, data: { values }, layer: layers };
}
