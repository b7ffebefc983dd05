// Charts with uPlot: live line charts (losses, D outputs) and scatter plots coloured by class.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

import { CLASS_COLOURS, UNLABELLED } from './charts-palette';
const MAX_POINTS = 1500;

export interface LineChart {
  push(x: number, ys: number[]): void;
  clear(): void;
  readonly points: number;
}

export function lineChart(el: HTMLElement, title: string, labels: string[], colours: string[], yLabel: string): LineChart {
  const data: number[][] = [[], ...labels.map(() => [])];
  const plot = new uPlot(
    {
      title, width: 440, height: 220,
      legend: { live: false },
      scales: { x: { time: false } },
      axes: [{ label: 'iteration' }, { label: yLabel }],
      series: [{ label: 'iteration' }, ...labels.map((label, i) => ({ label, stroke: colours[i], width: 1.5, spanGaps: true }))],
    },
    data as uPlot.AlignedData,
    el,
  );
  return {
    push(x, ys) {
      if (data[0]!.length && x <= data[0]!.at(-1)!) return;
      data[0]!.push(x);
      ys.forEach((y, i) => data[i + 1]!.push(Number.isFinite(y) ? y : (null as unknown as number)));
      // Keep redraws cheap on long runs: halve the resolution of the history, never the latest point.
      if (data[0]!.length > MAX_POINTS) for (const s of data) s.splice(0, s.length, ...s.filter((_, j) => j % 2 === 0 || j === s.length - 1));
      plot.setData(data as uPlot.AlignedData);
    },
    clear() {
      for (const s of data) s.length = 0;
      plot.setData(data as uPlot.AlignedData);
    },
    get points() {
      return data[0]!.length;
    },
  };
}

export interface ScatterChart {
  /** xy: interleaved 2-D points; labels: class per point (−1 = unlabelled). */
  set(xy: Float32Array, labels: Int32Array): void;
  /** Fixed reference points drawn beneath (e.g. the real ring). */
  setBackground(xy: Float32Array | null): void;
}

export function scatterChart(el: HTMLElement, title: string, opts: { classes: number; legend: (c: number) => string; background?: string; range?: [number, number] }): ScatterChart {
  const { classes } = opts;
  const groups = classes + 2; // background, classes…, unlabelled
  const empty = () => [[], []] as [number[], number[]];
  const facets = [{ scale: 'x', auto: !opts.range }, { scale: 'y', auto: !opts.range }];
  const pointSeries = (label: string, colour: string, size: number) => ({ label, fill: colour, stroke: colour, facets, paths: uPlot.paths.points!(), points: { show: true, size, width: 0, fill: colour, stroke: colour } });
  const data: (null | [number[], number[]])[] = [null, ...Array.from({ length: groups }, empty)];
  const plot = new uPlot(
    {
      title, width: 360, height: 320, mode: 2,
      legend: { live: false },
      cursor: { show: false },
      scales: opts.range ? { x: { time: false, range: opts.range }, y: { range: opts.range } } : { x: { time: false }, y: {} },
      axes: [{ label: 'dimension 1' }, { label: 'dimension 2' }],
      series: [
        {},
        pointSeries(opts.background ? 'real data' : ' ', opts.background ?? 'transparent', 3),
        ...Array.from({ length: classes }, (_, c) => pointSeries(opts.legend(c), CLASS_COLOURS[c % CLASS_COLOURS.length]!, 5)),
        pointSeries('unlabelled', UNLABELLED, 5),
      ],
    } as uPlot.Options,
    data as unknown as uPlot.AlignedData,
    el,
  );
  // Without a background, its legend entry (labelled ' ') has nothing to name.
  for (const e of plot.root.querySelectorAll('.u-legend .u-series')) if (!e.textContent?.trim()) (e as HTMLElement).hidden = true;
  return {
    set(xy, labels) {
      for (let g = 2; g < data.length; g++) data[g] = empty();
      for (let i = 0; i < labels.length; i++) {
        const l = labels[i]!;
        const g = l >= 0 && l < classes ? 2 + l : 2 + classes; // the last series: unlabelled
        data[g]![0].push(xy[2 * i]!);
        data[g]![1].push(xy[2 * i + 1]!);
      }
      plot.setData(data as unknown as uPlot.AlignedData);
    },
    setBackground(xy) {
      const bg = empty();
      if (xy) for (let i = 0; i < xy.length; i += 2) { bg[0].push(xy[i]!); bg[1].push(xy[i + 1]!); }
      data[1] = bg;
      plot.setData(data as unknown as uPlot.AlignedData);
    },
  };
}
