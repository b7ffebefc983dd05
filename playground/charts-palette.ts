/** Ten distinguishable class colours (Tableau 10), then grey for unlabelled points. */
export const CLASS_COLOURS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#79706e'];
export const UNLABELLED = '#888888';
